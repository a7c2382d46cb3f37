//! Softmax along one axis, numerically stable, in three sweeps per row: `m = max(x)`; `e =
//! exp(x - m)` stored into the output while summing `s`; `out = e * (1 / s)`. The two reductions
//! carry `reassoc` fast-math flags (and `nnan` on the max: a NaN input still makes the row NaN
//! through `exp`), so LLVM vectorizes them along with the polynomial `exp`. Workgroups partition
//! a dim other than the axis.

use super::expect_float;
use crate::emit::{reg_ty, Kernel};
use crate::error::Result;

pub fn lower(axis: usize, k: &mut Kernel) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    expect_float("Softmax", x.dtype)?;
    let dt = x.dtype;
    let t = reg_ty(dt).to_string();
    let shape = x.shape.clone();
    let nest = k.parallel_loops(&shape, &[axis]);
    let mut ivs = nest.ivs.clone();

    let ninf = k.b.cst(dt, f64::NEG_INFINITY);
    let ty = t.clone();
    let m = k.reduce(&shape, &[axis], &mut ivs, vec![(ninf, t.clone())], &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        vec![k.b.op(format!("arith.maximumf {}, {v} fastmath<nnan,reassoc> : {ty}", acc[0]))]
    })[0]
        .clone();
    let zero = k.b.cst(dt, 0.0);
    let ty = t.clone();
    let s = k.reduce(&shape, &[axis], &mut ivs, vec![(zero, t.clone())], &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        let d = k.b.sub(&v, &m, dt);
        let e = k.b.exp(&d, dt);
        k.b.store(&e, &o, ivs);
        vec![k.b.op(format!("arith.addf {}, {e} fastmath<reassoc> : {ty}", acc[0]))]
    })[0]
        .clone();
    let one = k.b.cst(dt, 1.0);
    let inv = k.b.divf(&one, &s, dt);
    let n = k.inner_loops(&shape, &[axis], &mut ivs);
    let e = k.b.load(&o, &ivs);
    let r = k.b.mul(&e, &inv, dt);
    k.b.store(&r, &o, &ivs);
    k.close_n(n);
    k.close(nest);
    Ok(())
}
