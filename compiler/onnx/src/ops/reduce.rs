//! Reduce* importers. Axes come from the `axes` attribute before the opset where they became
//! the optional `axes` input (ReduceSum 13, every other Reduce* 18), which must be constant.
//! `keepdims` defaults to 1; empty axes reduce everything unless `noop_with_empty_axes` = 1,
//! which reduces nothing (the decompositions then apply only their elementwise part).
//!
//! Sum, Mean, Prod, Max, Min are IR primitives; the rest decompose:
//! ReduceL1 = Sum(Abs x), ReduceL2 = Sqrt(Sum(x*x)), ReduceSumSquare = Sum(x*x),
//! ReduceLogSum = Log(Sum x), ReduceLogSumExp = m + Log(Sum(Exp(x - m))) with m = Max x (kept
//! dims, reshaped to the output shape at the end). GlobalMaxPool = Max over dims 2.. (kept).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, Op, ReduceOp, UnaryOp, ValueRef};

/// The normalized (sorted) axes and keep_dims of a Reduce* node; empty axes = reduce nothing.
fn axes_of(ctx: &NodeCtx<'_>, axes_input_from: i64) -> Result<(Vec<usize>, bool)> {
    let x = ctx.input(0)?;
    let rank = ctx.rank(x);
    let axes = if ctx.opset >= axes_input_from { ctx.const_ints_input(1, "axes")? } else { ctx.attr_ints("axes")? }
        .unwrap_or_default();
    let keep_dims = ctx.attr_bool("keepdims", true)?;
    let mut axes = if axes.is_empty() {
        if ctx.attr_bool("noop_with_empty_axes", false)? {
            return Ok((vec![], keep_dims));
        }
        (0..rank).collect()
    } else {
        ctx.axes(&axes, rank, "axes")?
    };
    axes.sort_unstable();
    Ok((axes, keep_dims))
}

fn primitive(ctx: &mut NodeCtx<'_>, op: ReduceOp, axes_input_from: i64) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep_dims) = axes_of(ctx, axes_input_from)?;
    if axes.is_empty() {
        return Ok(vec![x]);
    }
    Ok(vec![ctx.emit_out(Op::Reduce { op, axes, keep_dims }, &[x])?])
}

pub fn reduce_sum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    primitive(ctx, ReduceOp::Sum, 13)
}

pub fn reduce_mean(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    primitive(ctx, ReduceOp::Mean, 18)
}

pub fn reduce_prod(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    primitive(ctx, ReduceOp::Prod, 18)
}

pub fn reduce_max(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    primitive(ctx, ReduceOp::Max, 18)
}

pub fn reduce_min(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    primitive(ctx, ReduceOp::Min, 18)
}

/// `Reduce{Sum}` of `x` over `axes` as an intermediate (the identity for empty axes).
fn sum_tmp(ctx: &mut NodeCtx<'_>, x: ValueRef, axes: &[usize], keep_dims: bool, last: bool) -> Result<ValueRef> {
    if axes.is_empty() {
        return Ok(x);
    }
    let op = Op::Reduce { op: ReduceOp::Sum, axes: axes.to_vec(), keep_dims };
    if last {
        ctx.emit_out(op, &[x])
    } else {
        ctx.emit_tmp(op, &[x], "sum")
    }
}

fn square(ctx: &mut NodeCtx<'_>, x: ValueRef) -> Result<ValueRef> {
    ctx.emit_tmp(Op::Binary(BinaryOp::Mul), &[x, x], "square")
}

pub fn reduce_l1(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep) = axes_of(ctx, 18)?;
    if axes.is_empty() {
        return Ok(vec![ctx.emit_out(Op::Unary(UnaryOp::Abs), &[x])?]);
    }
    let a = ctx.emit_tmp(Op::Unary(UnaryOp::Abs), &[x], "abs")?;
    Ok(vec![sum_tmp(ctx, a, &axes, keep, true)?])
}

pub fn reduce_l2(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep) = axes_of(ctx, 18)?;
    let sq = square(ctx, x)?;
    let s = sum_tmp(ctx, sq, &axes, keep, false)?;
    Ok(vec![ctx.emit_out(Op::Unary(UnaryOp::Sqrt), &[s])?])
}

pub fn reduce_sum_square(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep) = axes_of(ctx, 18)?;
    if axes.is_empty() {
        return Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Mul), &[x, x])?]);
    }
    let sq = square(ctx, x)?;
    Ok(vec![sum_tmp(ctx, sq, &axes, keep, true)?])
}

pub fn reduce_log_sum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep) = axes_of(ctx, 18)?;
    let s = sum_tmp(ctx, x, &axes, keep, false)?;
    Ok(vec![ctx.emit_out(Op::Unary(UnaryOp::Log), &[s])?])
}

pub fn reduce_log_sum_exp(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (axes, keep) = axes_of(ctx, 18)?;
    if axes.is_empty() {
        let e = ctx.emit_tmp(Op::Unary(UnaryOp::Exp), &[x], "exp")?;
        return Ok(vec![ctx.emit_out(Op::Unary(UnaryOp::Log), &[e])?]);
    }
    let m = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Max, axes: axes.clone(), keep_dims: true }, &[x], "max")?;
    let d = ctx.emit_tmp(Op::Binary(BinaryOp::Sub), &[x, m], "shifted")?;
    let e = ctx.emit_tmp(Op::Unary(UnaryOp::Exp), &[d], "exp")?;
    let s = sum_tmp(ctx, e, &axes, true, false)?;
    let l = ctx.emit_tmp(Op::Unary(UnaryOp::Log), &[s], "log")?;
    if keep {
        return Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Add), &[l, m])?]);
    }
    let r = ctx.emit_tmp(Op::Binary(BinaryOp::Add), &[l, m], "kept")?;
    let shape: Vec<usize> =
        ctx.shape(x).into_iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, d)| d).collect();
    Ok(vec![ctx.emit_out(Op::Reshape { shape }, &[r])?])
}

pub fn global_max_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let rank = ctx.rank(x);
    if rank < 3 {
        return Err(ctx.err(format!("input must have rank >= 3 (N, C, spatial...), got rank {rank}")));
    }
    let op = Op::Reduce { op: ReduceOp::Max, axes: (2..rank).collect(), keep_dims: true };
    Ok(vec![ctx.emit_out(op, &[x])?])
}
