//! Normalizations imported as compositions of IR ops:
//! - InstanceNormalization (x [N, C, ...], scale [C], B [C]): `LayerNorm(axis 2)` with unit
//!   scale, then `* scale[c] + B[c]`.
//! - GroupNormalization (num_groups G): x viewed as `[N, G, C/G * spatial]`, `LayerNorm(axis 2)`;
//!   scale/bias are per group `[G]` before opset 21 and per channel `[C]` from opset 21.
//! - RMSNormalization (opset 23): the IR `RmsNorm` op; the primitives `x / sqrt(mean(x^2 over
//!   axis..) + eps) * scale` where scale has another dtype or broadcasts beyond the normalized dims.
//! - MeanVarianceNormalization (axes, default [0, 2, 3]): `(x - mean) / (sqrt(var) + 1e-9)`
//!   (the ONNX function body adds epsilon to the standard deviation).
//! - LpNormalization (axis, p = 1 or 2): `x / sum(|x|)` or `x / sqrt(sum(x^2))` along axis.
//!
//! `stash_type` (the precision of the statistics) is not needed: the IR accumulates means in f64.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, require_float, reshape, scalar, unary};
use crate::ops::product;
use kiln_ir::{BinaryOp, Op, ReduceOp, UnaryOp, ValueRef};

/// `[d, 1, 1, ...]` with `rank - 1` trailing ones: a per-channel view that broadcasts against
/// `[N, C, spatial...]` (rank + 1 dims).
fn channel_view(d: usize, trailing: usize) -> Vec<usize> {
    let mut s = vec![d];
    s.extend(std::iter::repeat(1).take(trailing));
    s
}

/// Check that `v` holds exactly `n` elements (a per-channel or per-group parameter).
fn param_len(ctx: &NodeCtx<'_>, v: ValueRef, n: usize, what: &str) -> Result<()> {
    let s = ctx.shape(v);
    if product(&s) != n || s.len() > 1 {
        return Err(ctx.err(format!("{what} must have shape [{n}], got {s:?}")));
    }
    Ok(())
}

pub fn instance_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale, bias) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let dt = require_float(ctx, x, "input")?;
    let shape = ctx.shape(x);
    if shape.len() < 3 {
        return Err(ctx.err(format!("input must have rank >= 3 (N, C, spatial...), got {shape:?}")));
    }
    let c = shape[1];
    param_len(ctx, scale, c, "scale")?;
    param_len(ctx, bias, c, "B")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let one = scalar(ctx, 1.0, dt, "one")?;
    let normed = ctx.emit_tmp(Op::LayerNorm { axis: 2, epsilon }, &[x, one], "normalized")?;
    let view = channel_view(c, shape.len() - 2);
    let s = reshape(ctx, scale, view.clone(), "scale")?;
    let b = reshape(ctx, bias, view, "bias")?;
    let scaled = binary(ctx, BinaryOp::Mul, normed, s, "scaled")?;
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Add), &[scaled, b])?])
}

pub fn group_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale, bias) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let dt = require_float(ctx, x, "input")?;
    let shape = ctx.shape(x);
    if shape.len() < 2 {
        return Err(ctx.err(format!("input must have rank >= 2 (N, C, ...), got {shape:?}")));
    }
    let g = ctx.attr_int_opt("num_groups")?.ok_or_else(|| ctx.err("attribute 'num_groups' is required"))?;
    let (n, c) = (shape[0], shape[1]);
    let g = usize::try_from(g)
        .ok()
        .filter(|g| *g > 0 && c % g == 0)
        .ok_or_else(|| ctx.err(format!("num_groups {g} must be positive and divide the {c} channels")))?;
    let per_channel = ctx.opset >= 21;
    let plen = if per_channel { c } else { g };
    param_len(ctx, scale, plen, "scale")?;
    param_len(ctx, bias, plen, "bias")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let rest = product(&shape[1..]) / g;
    let xg = reshape(ctx, x, vec![n, g, rest], "grouped")?;
    let one = scalar(ctx, 1.0, dt, "one")?;
    let normed = ctx.emit_tmp(Op::LayerNorm { axis: 2, epsilon }, &[xg, one], "normalized")?;
    if per_channel {
        let back = reshape(ctx, normed, shape.clone(), "ungrouped")?;
        let view = channel_view(c, shape.len() - 2);
        let s = reshape(ctx, scale, view.clone(), "scale")?;
        let b = reshape(ctx, bias, view, "bias")?;
        let scaled = binary(ctx, BinaryOp::Mul, back, s, "scaled")?;
        return Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Add), &[scaled, b])?]);
    }
    let s = reshape(ctx, scale, vec![g, 1], "scale")?;
    let b = reshape(ctx, bias, vec![g, 1], "bias")?;
    let scaled = binary(ctx, BinaryOp::Mul, normed, s, "scaled")?;
    let shifted = binary(ctx, BinaryOp::Add, scaled, b, "shifted")?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape }, &[shifted])?])
}

pub fn rms_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale) = (ctx.input(0)?, ctx.input(1)?);
    let dt = require_float(ctx, x, "X")?;
    let rank = ctx.rank(x);
    let axis = ctx.axis(ctx.attr_int("axis", -1)?, rank, "axis")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let op = Op::RmsNorm { axis, epsilon };
    if kiln_ir::ops::infer(&op, &[ctx.ty(x).clone(), ctx.ty(scale).clone()]).is_ok() {
        return Ok(vec![ctx.emit_out(op, &[x, scale])?]);
    }
    // A scale of another dtype, or one that broadcasts beyond the normalized dims: the primitives.
    let sq = binary(ctx, BinaryOp::Mul, x, x, "square")?;
    let ms = ctx.emit_tmp(
        Op::Reduce { op: ReduceOp::Mean, axes: (axis..rank).collect(), keep_dims: true },
        &[sq],
        "mean_square",
    )?;
    let eps = scalar(ctx, epsilon as f64, dt, "epsilon")?;
    let shifted = binary(ctx, BinaryOp::Add, ms, eps, "mean_square_eps")?;
    let rms = unary(ctx, UnaryOp::Sqrt, shifted, "rms")?;
    let normed = binary(ctx, BinaryOp::Div, x, rms, "normalized")?;
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Mul), &[normed, scale])?])
}

pub fn mean_variance_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dt = require_float(ctx, x, "X")?;
    let rank = ctx.rank(x);
    let axes = ctx.attr_ints("axes")?.unwrap_or_else(|| vec![0, 2, 3]);
    let mut axes = ctx.axes(&axes, rank, "axes")?;
    axes.sort_unstable();
    let mean_op = Op::Reduce { op: ReduceOp::Mean, axes, keep_dims: true };
    let mean = ctx.emit_tmp(mean_op.clone(), &[x], "mean")?;
    let centered = binary(ctx, BinaryOp::Sub, x, mean, "centered")?;
    let sq = binary(ctx, BinaryOp::Mul, centered, centered, "square")?;
    let var = ctx.emit_tmp(mean_op, &[sq], "variance")?;
    let std = unary(ctx, UnaryOp::Sqrt, var, "std")?;
    let eps = scalar(ctx, 1e-9, dt, "epsilon")?;
    let denom = binary(ctx, BinaryOp::Add, std, eps, "std_eps")?;
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Div), &[centered, denom])?])
}

pub fn lp_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    require_float(ctx, x, "input")?;
    let axis = ctx.axis(ctx.attr_int("axis", -1)?, ctx.rank(x), "axis")?;
    let sum = |axes| Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: true };
    let norm = match ctx.attr_int("p", 2)? {
        1 => {
            let abs = unary(ctx, UnaryOp::Abs, x, "abs")?;
            ctx.emit_tmp(sum(vec![axis]), &[abs], "l1")?
        }
        2 => {
            let sq = binary(ctx, BinaryOp::Mul, x, x, "square")?;
            let ss = ctx.emit_tmp(sum(vec![axis]), &[sq], "sum_square")?;
            unary(ctx, UnaryOp::Sqrt, ss, "l2")?
        }
        p => return Err(ctx.err(format!("p = {p} is unsupported (1 or 2)"))),
    };
    // A zero norm gives 0, not 0/0 = NaN (the ONNX reference: `where(norm == 0, 0, x / norm)`).
    let dt = ctx.ty(x).dtype;
    let zero = scalar(ctx, 0.0, dt, "zero")?;
    let is_zero = binary(ctx, BinaryOp::Equal, norm, zero, "norm_is_zero")?;
    let quotient = binary(ctx, BinaryOp::Div, x, norm, "quotient")?;
    Ok(vec![ctx.emit_out(Op::Where, &[is_zero, zero, quotient])?])
}
