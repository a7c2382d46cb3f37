//! Where(cond, x, y): `select` with numpy broadcasting of all three inputs.

use super::elementwise::map;
use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(k: &mut Kernel) -> Result<()> {
    let dt = k.param(1).dtype;
    map(k, &[0, 1, 2], 3, &mut |b, v| b.select(&v[0], &v[1], &v[2], dt));
    Ok(())
}
