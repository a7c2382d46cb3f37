//! Gather(data, indices) along `axis`: `out[o.., q.., p..] = data[o.., fix(indices[q..]), p..]`.
//! `fix` maps a negative index `i` to `i + dim` and then clamps into `0..dim` so an out-of-range
//! index never reads out of bounds (the interpreter reports an error for it instead).

use crate::emit::{reg_ty, Kernel};
use crate::error::{CodegenError, Result};

pub fn lower(axis: usize, k: &mut Kernel) -> Result<()> {
    let (data, ind, o) = (k.param(0), k.param(1), k.param(2));
    let dim = data.shape[axis];
    if dim == 0 && o.shape.iter().product::<usize>() > 0 {
        return Err(CodegenError::new("Gather: gathering from an empty axis"));
    }
    let q = ind.rank();
    let nest = k.parallel_loops(&o.shape, &[]);
    let iv = k.b.load(&ind, &nest.ivs[axis..axis + q]);
    let i = k.b.op(format!("arith.index_cast {iv} : {} to index", reg_ty(ind.dtype)));
    let zero = k.b.idx(0);
    let neg = k.b.icmp("slt", &i, &zero);
    let wrapped = k.b.affine(&i, 1, dim as i64);
    let i = k.b.op(format!("arith.select {neg}, {wrapped}, {i} : index"));
    let i = k.b.iclamp(&i, 0, dim.max(1) as i64 - 1);
    let mut di: Vec<String> = nest.ivs[..axis].to_vec();
    di.push(i);
    di.extend_from_slice(&nest.ivs[axis + q..]);
    let v = k.b.load(&data, &di);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
