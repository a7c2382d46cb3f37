//! LayerNormalization (opset 17): inputs X, Scale[, B]; `axis` default -1, `epsilon` default
//! 1e-5. Y is the IR `LayerNorm` op. The optional Mean and InvStdDev outputs (x's shape with
//! the normalized dims `axis..rank` set to 1) are emitted beside it when the node names them:
//! ReduceMean, Sub, Mul, ReduceMean, Add epsilon, Sqrt, Reciprocal, computed in the
//! `stash_type` precision (1 = f32, the default; 11 = f64), which is also their dtype.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, scalar, unary};
use kiln_ir::{BinaryOp, DType, Op, ReduceOp, UnaryOp, ValueRef};

pub fn layer_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale) = (ctx.input(0)?, ctx.input(1)?);
    let rank = ctx.rank(x);
    let axis = ctx.axis(ctx.attr_int("axis", -1)?, rank, "axis")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let mut ins = vec![x, scale];
    ins.extend(ctx.opt_input(2));
    let y = ctx.emit_out(Op::LayerNorm { axis, epsilon }, &ins)?;
    let (want_mean, want_inv) = (!ctx.out_name(1).is_empty(), !ctx.out_name(2).is_empty());
    if !want_mean && !want_inv {
        return Ok(vec![y]);
    }
    let stash = match ctx.attr_int("stash_type", 1)? {
        1 => DType::F32,
        11 => DType::F64,
        s => return Err(ctx.err(format!("stash_type {s} is unsupported (1 = float32 or 11 = float64)"))),
    };
    if !ctx.ty(x).dtype.is_float() {
        return Err(ctx.err(format!("X must be a float tensor, got {}", ctx.ty(x))));
    }
    let xs = if ctx.ty(x).dtype == stash { x } else { ctx.emit_tmp(Op::Cast { to: stash }, &[x], "x_stash")? };
    let mean_op = Op::Reduce { op: ReduceOp::Mean, axes: (axis..rank).collect(), keep_dims: true };
    let mean_name = if want_mean { ctx.out_name(1) } else { ctx.tmp_name("mean") };
    let mean = one(ctx, mean_op.clone(), &[xs], mean_name)?;
    if !want_inv {
        return Ok(vec![y, mean]);
    }
    let centered = binary(ctx, BinaryOp::Sub, xs, mean, "centered")?;
    let sq = binary(ctx, BinaryOp::Mul, centered, centered, "square")?;
    let var = ctx.emit_tmp(mean_op, &[sq], "variance")?;
    let eps = scalar(ctx, epsilon as f64, stash, "epsilon")?;
    let shifted = binary(ctx, BinaryOp::Add, var, eps, "variance_eps")?;
    let std = unary(ctx, UnaryOp::Sqrt, shifted, "std")?;
    let inv = one(ctx, Op::Unary(UnaryOp::Reciprocal), &[std], ctx.out_name(2))?;
    Ok(vec![y, mean, inv])
}

/// Emit a one-output op named `name`.
fn one(ctx: &mut NodeCtx<'_>, op: Op, ins: &[ValueRef], name: String) -> Result<ValueRef> {
    let what = op.name();
    match ctx.emit(op, ins, &[name])?[..] {
        [v] => Ok(v),
        _ => Err(ctx.err(format!("{what} produced more than one output"))),
    }
}
