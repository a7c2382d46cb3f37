//! ArgMax / ArgMin along one axis: per row, a loop carrying (best value, best index) that
//! replaces the best when `v > best` (`>=` with `select_last_index`; `<` / `<=` for ArgMin),
//! ordered compares for floats so NaN never replaces and wins only in position 0 (as the
//! interpreter). The index is stored as i64. Workgroups partition a dim other than the axis.

use crate::emit::{reg_ty, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::op::ArgOp;
use kiln_ir::DType;

pub fn lower(op: ArgOp, axis: usize, last: bool, k: &mut Kernel) -> Result<()> {
    let x = k.param(0);
    let dt = x.dtype;
    if dt == DType::Bool || x.shape[axis] == 0 {
        return Err(CodegenError::new(format!("ArgReduce: unsupported input {dt}{:?}", x.shape)));
    }
    let shape = x.shape.clone();
    let mut kept = shape.clone();
    kept[axis] = 1;
    let o = k.view(1, kept);
    let nest = k.parallel_loops(&shape, &[axis]);
    let out_ivs = nest.ivs.clone();
    let mut ivs = nest.ivs.clone();
    ivs[axis] = k.b.idx(0);
    let first = k.b.load(&x, &ivs);
    let zero = k.b.idx(0);
    let pred = match (op, last, dt.is_float()) {
        (ArgOp::Max, false, true) => "cmpf ogt",
        (ArgOp::Max, true, true) => "cmpf oge",
        (ArgOp::Min, false, true) => "cmpf olt",
        (ArgOp::Min, true, true) => "cmpf ole",
        (ArgOp::Max, false, false) => "cmpi sgt",
        (ArgOp::Max, true, false) => "cmpi sge",
        (ArgOp::Min, false, false) => "cmpi slt",
        (ArgOp::Min, true, false) => "cmpi sle",
    };
    // Unsigned ints order by the unsigned predicates (`ugt`, ...).
    let pred = if dt.is_unsigned() { pred.replace("cmpi s", "cmpi u") } else { pred.to_string() };
    let t = reg_ty(dt);
    let inits = vec![(first, t.to_string()), (zero, "index".to_string())];
    let res = k.reduce(&shape, &[axis], &mut ivs, inits, &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        let c = k.b.op(format!("arith.{pred}, {v}, {} : {t}", acc[0]));
        let best = k.b.select(&c, &v, &acc[0], dt);
        let bi = k.b.op(format!("arith.select {c}, {}, {} : index", ivs[axis], acc[1]));
        vec![best, bi]
    });
    let i = k.b.op(format!("arith.index_cast {} : index to i64", res[1]));
    k.b.store(&i, &o, &out_ivs);
    k.close(nest);
    Ok(())
}
