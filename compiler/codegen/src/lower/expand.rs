//! Expand: broadcast the input to the recorded static shape (numpy rules).

use super::elementwise::map;
use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(k: &mut Kernel) -> Result<()> {
    map(k, &[0], 1, &mut |_, v| v[0].clone());
    Ok(())
}
