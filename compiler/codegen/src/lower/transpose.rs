//! Transpose: `out[i_0, .., i_r] = in[j]` with `j[perm[d]] = i_d`, looping over the output.

use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(perm: &[usize], k: &mut Kernel) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    let nest = k.parallel_loops(&o.shape, &[]);
    let mut idx = vec![String::new(); x.rank()];
    for (d, &p) in perm.iter().enumerate() {
        idx[p] = nest.ivs[d].clone();
    }
    let v = k.b.load(&x, &idx);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
