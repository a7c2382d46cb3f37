//! TopK by rank: per row and element `i`, count the elements `j` ordered before it
//! (`x_j` better than `x_i`, or equal with `j < i`; NaN ranks above +inf, as the interpreter),
//! and when that rank is below `k` store the value and its i64 index at position `rank`. The
//! order is total, so ranks are distinct and every output slot is written once. O(n^2) per
//! row. Workgroups partition a dim other than the axis.

use crate::emit::{ipred, reg_ty, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::DType;

/// Whether `(a, ia)` comes before `(b, ib)`: an `i1`.
fn before(k: &mut Kernel, largest: bool, dt: DType, a: &str, ia: &str, b: &str, ib: &str) -> String {
    let t = reg_ty(dt);
    let (a1, b1) = if largest { (a, b) } else { (b, a) };
    let (first, equal) = if dt.is_float() {
        let gt = k.b.op(format!("arith.cmpf ogt, {a1}, {b1} : {t}"));
        let an = k.b.op(format!("arith.cmpf uno, {a1}, {a1} : {t}"));
        let bn = k.b.op(format!("arith.cmpf uno, {b1}, {b1} : {t}"));
        let bnum = k.b.op(format!("arith.cmpf ord, {b1}, {b1} : {t}"));
        let nan_first = k.b.and(&an, &bnum);
        let first = k.b.op(format!("arith.ori {gt}, {nan_first} : i1"));
        let eq = k.b.op(format!("arith.cmpf oeq, {a}, {b} : {t}"));
        let both = k.b.and(&an, &bn);
        (first, k.b.op(format!("arith.ori {eq}, {both} : i1")))
    } else {
        let first = k.b.op(format!("arith.cmpi {}, {a1}, {b1} : {t}", ipred(dt, "gt")));
        (first, k.b.op(format!("arith.cmpi eq, {a}, {b} : {t}")))
    };
    let lower = k.b.icmp("slt", ia, ib);
    let tie = k.b.and(&equal, &lower);
    k.b.op(format!("arith.ori {first}, {tie} : i1"))
}

pub fn lower(kk: usize, axis: usize, largest: bool, k: &mut Kernel) -> Result<()> {
    let (x, vo, io) = (k.param(0), k.param(1), k.param(2));
    let dt = x.dtype;
    if dt == DType::Bool {
        return Err(CodegenError::new("TopK: bool tensors are not supported"));
    }
    let n = x.shape[axis];
    let nest = k.parallel_loops(&x.shape, &[axis]);
    let zero = k.b.idx(0);
    let one = k.b.idx(1);
    let hi = k.b.idx(n as i64);
    let kv = k.b.idx(kk as i64);
    let i = k.b.for_(&zero, &hi);
    let mut ivi = nest.ivs.clone();
    ivi[axis] = i.clone();
    let vi = k.b.load(&x, &ivi);
    let l = k.b.for_iter(&zero, &hi, &[(zero.clone(), "index".to_string())]);
    let mut ivj = nest.ivs.clone();
    ivj[axis] = l.iv.clone();
    let vj = k.b.load(&x, &ivj);
    let bf = before(k, largest, dt, &vj, &l.iv, &vi, &i);
    let inc = k.b.op(format!("arith.select {bf}, {one}, {zero} : index"));
    let cnt = k.b.iadd(&l.accs[0], &inc);
    let rank = k.b.end_for_iter(l, &[cnt]).remove(0);
    let keep = k.b.icmp("slt", &rank, &kv);
    k.b.line(format!("scf.if {keep} {{"));
    let mut ivo = nest.ivs.clone();
    ivo[axis] = rank;
    k.b.store(&vi, &vo, &ivo);
    let i64v = k.b.op(format!("arith.index_cast {i} : index to i64"));
    k.b.store(&i64v, &io, &ivo);
    k.b.line("}");
    k.b.end_for();
    k.close(nest);
    Ok(())
}
