//! Softmax along one axis, numerically stable: per row, `m = max(x)`, `s = sum(exp(x - m))`,
//! `out = exp(x - m) / s`. Workgroups partition a dim other than the axis.

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
    let m = k.reduce(&shape, &[axis], &mut ivs, vec![(ninf, t.clone())], &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        vec![k.b.max(&acc[0], &v, dt)]
    })[0]
        .clone();
    let zero = k.b.cst(dt, 0.0);
    let s = k.reduce(&shape, &[axis], &mut ivs, vec![(zero, t)], &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        let d = k.b.sub(&v, &m, dt);
        let e = k.b.exp(&d, dt);
        vec![k.b.add(&acc[0], &e, dt)]
    })[0]
        .clone();
    let n = k.inner_loops(&shape, &[axis], &mut ivs);
    let v = k.b.load(&x, &ivs);
    let d = k.b.sub(&v, &m, dt);
    let e = k.b.exp(&d, dt);
    let r = k.b.divf(&e, &s, dt);
    k.b.store(&r, &o, &ivs);
    k.close_n(n);
    k.close(nest);
    Ok(())
}
