//! Split along `axis`: one kernel writing every output, one loop nest per output reading its slab
//! of the input. Workgroups partition a dim other than the axis (shared by every output).

use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(axis: usize, k: &mut Kernel) -> Result<()> {
    let x = k.param(0);
    let part = k.begin_parallel(&x.shape, &[axis]);
    let mut offset = 0usize;
    for i in 1..k.params.len() {
        let o = k.param(i);
        let nest = k.loops(&o.shape, &[], &part);
        let mut xi = nest.ivs.clone();
        xi[axis] = k.b.affine(&nest.ivs[axis], 1, offset as i64);
        let v = k.b.load(&x, &xi);
        k.b.store(&v, &o, &nest.ivs);
        k.close(nest);
        offset += o.shape[axis];
    }
    k.end_parallel(part);
    Ok(())
}
