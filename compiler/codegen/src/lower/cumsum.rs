//! CumSum and CumProd along one axis: per row, a sequential loop carrying the running sum or
//! product (in the tensor's dtype), walking the axis backwards with `reverse` and storing the
//! accumulator before combining the element with `exclusive`. Workgroups partition a dim other
//! than the axis.

use crate::emit::{reg_ty, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::DType;

/// Which running reduction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Sum,
    Prod,
}

pub fn lower(scan: Scan, axis: usize, exclusive: bool, reverse: bool, k: &mut Kernel) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    let dt = x.dtype;
    if dt == DType::Bool {
        let name = if scan == Scan::Sum { "CumSum" } else { "CumProd" };
        return Err(CodegenError::new(format!("{name}: bool tensors are not supported")));
    }
    let n = x.shape[axis];
    let nest = k.parallel_loops(&x.shape, &[axis]);
    let mut ivs = nest.ivs.clone();
    let zero = k.b.idx(0);
    let hi = k.b.idx(n as i64);
    let acc0 = k.b.cst(dt, if scan == Scan::Sum { 0.0 } else { 1.0 });
    let l = k.b.for_iter(&zero, &hi, &[(acc0, reg_ty(dt).to_string())]);
    ivs[axis] = if reverse {
        let last = k.b.idx(n as i64 - 1);
        k.b.isub(&last, &l.iv)
    } else {
        l.iv.clone()
    };
    let v = k.b.load(&x, &ivs);
    let acc = l.accs[0].clone();
    let next = if scan == Scan::Sum { k.b.add(&acc, &v, dt) } else { k.b.mul(&acc, &v, dt) };
    k.b.store(if exclusive { &acc } else { &next }, &o, &ivs);
    k.b.end_for_iter(l, &[next]);
    k.close(nest);
    Ok(())
}
