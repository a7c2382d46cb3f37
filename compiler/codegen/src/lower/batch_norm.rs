//! Inference BatchNorm over dim 1: `(x - mean) / sqrt(var + eps) * scale + bias` elementwise,
//! with the `[C]` parameters viewed as `[C, 1, ...]` so they broadcast against `x` like numpy.

use super::elementwise::map;
use super::expect_float;
use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(epsilon: f32, k: &mut Kernel) -> Result<()> {
    let x = k.param(0);
    expect_float("BatchNorm", x.dtype)?;
    let dt = x.dtype;
    let c = x.shape.get(1).copied().unwrap_or(1);
    let mut view = vec![c];
    view.extend(std::iter::repeat_n(1, x.rank().saturating_sub(2)));
    for i in 1..5 {
        k.view(i, view.clone());
    }
    map(k, &[0, 1, 2, 3, 4], 5, &mut |b, v| {
        let (x, scale, bias, mean, var) = (&v[0], &v[1], &v[2], &v[3], &v[4]);
        let eps = b.cst(dt, epsilon as f64);
        let ve = b.add(var, &eps, dt);
        let den = b.sqrt(&ve, dt);
        let d = b.sub(x, mean, dt);
        let q = b.divf(&d, &den, dt);
        let r = b.mul(&q, scale, dt);
        b.add(&r, bias, dt)
    });
    Ok(())
}
