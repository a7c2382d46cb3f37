//! The f32 exp / erf / tanh approximations (`emit::fast_math`) element by element against the
//! interpreter (f64 libm, rounded once): a dense sweep of each function's whole range plus the
//! edges (overflow, underflow into denormals, +-inf, NaN, signed zero, tiny values), and the ops
//! built on them. Bounds are per element, relative where the function is not near zero.

mod support;

use kiln_ir::{DType, Op, Tensor, UnaryOp};
use support::*;

fn sweep(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n).map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32).collect();
    v.extend([
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        1e-6,
        -3e-4,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        88.7,
        88.72,
        88.73,
        89.0,
        -87.5,
        -95.0,
        -103.9,
        -104.0,
        -200.0,
        200.0,
    ]);
    v
}

/// Run `u` over `xs` compiled and interpreted; return (x, got, want) triples.
fn run(u: UnaryOp, xs: &[f32]) -> Vec<(f32, f32, f32)> {
    let shape = [xs.len()];
    let g = build(&format!("fast_{u:?}"), &[ty(DType::F32, &shape)], |g, x| node(g, Op::Unary(u), &[x[0]]));
    let input = Tensor::from_f32(&shape, xs.to_vec()).unwrap();
    let want = kiln_ir::interp::evaluate(&g, std::slice::from_ref(&input)).unwrap().remove(0).to_f64_vec();
    let got = Loaded::compile(&g).run(&[input], &|m| m).remove(0).to_f64_vec();
    xs.iter().zip(got.iter().zip(&want)).map(|(x, (g, w))| (*x, *g as f32, *w as f32)).collect()
}

/// Each element within `rel * |want| + abs` (NaN for NaN, equal infinities).
fn check(u: UnaryOp, xs: &[f32], rel: f32, abs: f32) {
    for (x, g, w) in run(u, xs) {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= rel * w.abs() + abs;
        assert!(ok, "{u:?}({x:e}): got {g:e}, want {w:e}");
    }
}

#[test]
fn exp_is_within_2e7_relative() {
    // Denormal results (below -87.3) carry less precision; 1e-44 absolute covers them.
    check(UnaryOp::Exp, &sweep(-110.0, 89.0, 20001), 2e-7, 1e-44);
}

#[test]
fn erf_and_tanh_are_within_5e7() {
    check(UnaryOp::Erf, &sweep(-6.0, 6.0, 20001), 0.0, 5e-7);
    // tanh: relative near zero too (x itself below 4e-4).
    check(UnaryOp::Tanh, &sweep(-10.0, 10.0, 20001), 5e-7, 1e-12);
}

#[test]
fn activations_built_on_them() {
    let xs = sweep(-30.0, 30.0, 6001);
    check(UnaryOp::Sigmoid, &xs, 4e-7, 1e-30);
    check(UnaryOp::Silu, &xs, 4e-7, 1e-30);
    // GELU's 1 + erf(x/sqrt2) cancels for negative x: absolute bound from erf's 5e-7 times |x|/2.
    for u in [UnaryOp::Gelu, UnaryOp::GeluTanh] {
        for (x, g, w) in run(u, &xs) {
            let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 4e-7 * w.abs() + 3e-7 * x.abs();
            assert!(ok, "{u:?}({x:e}): got {g:e}, want {w:e}");
        }
    }
}
