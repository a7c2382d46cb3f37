//! Strided Slice (normalized attributes): `out[.., i, ..] = in[.., start + i*step, ..]` on the
//! listed axes (steps may be negative), identity on the others.

use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(axes: &[usize], starts: &[i64], steps: &[i64], k: &mut Kernel) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    let nest = k.parallel_loops(&o.shape, &[]);
    let mut idx = nest.ivs.clone();
    for ((&a, &s), &st) in axes.iter().zip(starts).zip(steps) {
        idx[a] = k.b.affine(&nest.ivs[a], st, s);
    }
    let v = k.b.load(&x, &idx);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
