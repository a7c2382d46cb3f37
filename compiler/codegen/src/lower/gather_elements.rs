//! GatherElements(data, indices) along `axis`: one loop nest over the indices' shape reading
//! `data[i with dim axis = fix(indices[i])]`. `fix` wraps a negative index by the axis extent
//! and clamps into range, so an out-of-range index never reads out of bounds (the interpreter
//! reports an error for it instead).

use crate::emit::{reg_ty, Kernel};
use crate::error::{CodegenError, Result};

pub fn lower(axis: usize, k: &mut Kernel) -> Result<()> {
    let (data, ind, o) = (k.param(0), k.param(1), k.param(2));
    let dim = data.shape[axis];
    if dim == 0 && o.shape.iter().product::<usize>() > 0 {
        return Err(CodegenError::new("GatherElements: gathering from an empty axis"));
    }
    let nest = k.parallel_loops(&o.shape, &[]);
    let raw = k.b.load(&ind, &nest.ivs);
    let i = fix_index(k, &raw, ind.dtype, dim);
    let mut di = nest.ivs.clone();
    di[axis] = i;
    let v = k.b.load(&data, &di);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}

/// An i32/i64 index register as an `index` into extent `dim`: negative wraps by `dim`, then
/// clamped into `0..dim` (shared by the gather and scatter lowerings).
pub fn fix_index(k: &mut Kernel, raw: &str, dt: kiln_ir::DType, dim: usize) -> String {
    let i = k.b.op(format!("arith.index_cast {raw} : {} to index", reg_ty(dt)));
    let zero = k.b.idx(0);
    let neg = k.b.icmp("slt", &i, &zero);
    let wrapped = k.b.affine(&i, 1, dim as i64);
    let i = k.b.op(format!("arith.select {neg}, {wrapped}, {i} : index"));
    k.b.iclamp(&i, 0, dim.max(1) as i64 - 1)
}
