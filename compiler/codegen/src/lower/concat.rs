//! Concat along `axis`: one kernel, one loop nest per input writing its slab of the output at
//! the input's offset. Workgroups partition a dim other than the axis (shared by every input).

use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(axis: usize, k: &mut Kernel, n_in: usize) -> Result<()> {
    let o = k.param(n_in);
    let part = k.begin_parallel(&o.shape, &[axis]);
    let mut offset = 0usize;
    for i in 0..n_in {
        let x = k.param(i);
        let nest = k.loops(&x.shape, &[], &part);
        let mut oi = nest.ivs.clone();
        oi[axis] = k.b.affine(&nest.ivs[axis], 1, offset as i64);
        let v = k.b.load(&x, &nest.ivs);
        k.b.store(&v, &o, &oi);
        k.close(nest);
        offset += x.shape[axis];
    }
    k.end_parallel(part);
    Ok(())
}
