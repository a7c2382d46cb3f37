//! LayerNorm and RmsNorm over dims `axis..rank`. LayerNorm: per row `mean`, population
//! `var = mean((x-mean)^2)`, then `(x - mean) / sqrt(var + eps) * scale + bias`. RmsNorm skips the
//! mean pass: `x / sqrt(mean(x^2) + eps) * scale + bias`. scale/bias broadcast against the
//! normalized dims. Workgroups partition a dim before `axis`.

use super::expect_float;
use crate::emit::{broadcast_index, reg_ty, Kernel};
use crate::error::Result;

/// Which normalization the kernel computes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Subtract the row mean, divide by the standard deviation.
    Layer,
    /// Divide by the root mean square (no centering).
    Rms,
}

pub fn lower(norm: Norm, axis: usize, epsilon: f32, k: &mut Kernel, n_in: usize) -> Result<()> {
    let (x, scale, o) = (k.param(0), k.param(1), k.param(n_in));
    let bias = (n_in == 3).then(|| k.param(2));
    expect_float(if norm == Norm::Layer { "LayerNorm" } else { "RmsNorm" }, x.dtype)?;
    let dt = x.dtype;
    let t = reg_ty(dt).to_string();
    let shape = x.shape.clone();
    let inner: Vec<usize> = (axis..shape.len()).collect();
    let count: usize = shape[axis..].iter().product();
    let nest = k.parallel_loops(&shape, &inner);
    let mut ivs = nest.ivs.clone();

    let zero = k.b.cst(dt, 0.0);
    let cnt = k.b.cst(dt, count as f64);
    let mean = match norm {
        Norm::Rms => zero.clone(),
        Norm::Layer => {
            let sum = k.reduce(&shape, &inner, &mut ivs, vec![(zero.clone(), t.clone())], &mut |k, ivs, acc| {
                let v = k.b.load(&x, ivs);
                vec![k.b.add(&acc[0], &v, dt)]
            })[0]
                .clone();
            k.b.divf(&sum, &cnt, dt)
        }
    };
    let sq = k.reduce(&shape, &inner, &mut ivs, vec![(zero, t)], &mut |k, ivs, acc| {
        let v = k.b.load(&x, ivs);
        let d = k.b.sub(&v, &mean, dt);
        let d2 = k.b.mul(&d, &d, dt);
        vec![k.b.add(&acc[0], &d2, dt)]
    })[0]
        .clone();
    let var = k.b.divf(&sq, &cnt, dt);
    let eps = k.b.cst(dt, epsilon as f64);
    let ve = k.b.add(&var, &eps, dt);
    let den = k.b.sqrt(&ve, dt);

    let n = k.inner_loops(&shape, &inner, &mut ivs);
    let z = k.b.idx(0);
    let v = k.b.load(&x, &ivs);
    let d = k.b.sub(&v, &mean, dt);
    let q = k.b.divf(&d, &den, dt);
    let si = broadcast_index(&ivs, &scale.shape, &shape, &z);
    let sv = k.b.load(&scale, &si);
    let mut r = k.b.mul(&q, &sv, dt);
    if let Some(bias) = &bias {
        let bi = broadcast_index(&ivs, &bias.shape, &shape, &z);
        let bv = k.b.load(bias, &bi);
        r = k.b.add(&r, &bv, dt);
    }
    k.b.store(&r, &o, &ivs);
    k.close_n(n);
    k.close(nest);
    Ok(())
}
