//! LogSoftmax and Hardmax, decomposed. Opset >= 13: along `axis` (default -1). Opset < 13:
//! the input is coerced to 2-D at `axis` (default 1) and the op runs over the flattened tail
//! (reshapes around it, as the Softmax importer does).
//! - LogSoftmax = `d - log(sum(exp(d)))` with `d = x - max(x)` (max and sum with kept dims).
//! - Hardmax = `Cast(Equal(ArgMax(x, keep), range(n) along the axis))`: one-hot of the first
//!   maximum.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::product;
use kiln_ir::op::ArgOp;
use kiln_ir::{BinaryOp, Op, ReduceOp, Tensor, UnaryOp, ValueRef};

/// Run `body(ctx, x, axis)` with the opset's axis semantics, returning the node's output.
fn along_axis(
    ctx: &mut NodeCtx<'_>,
    body: fn(&mut NodeCtx<'_>, ValueRef, usize, bool) -> Result<ValueRef>,
) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let rank = shape.len();
    if ctx.opset >= 13 {
        let axis = ctx.axis(ctx.attr_int("axis", -1)?, rank, "axis")?;
        return Ok(vec![body(ctx, x, axis, true)?]);
    }
    let axis = ctx.axis(ctx.attr_int("axis", 1)?, rank, "axis")?;
    if axis + 1 == rank {
        return Ok(vec![body(ctx, x, axis, true)?]);
    }
    let flat = vec![product(&shape[..axis]), product(&shape[axis..])];
    let name = ctx.tmp_name("flat");
    let x2 = ctx.reshape(x, flat, name)?;
    let y2 = body(ctx, x2, 1, false)?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape }, &[y2])?])
}

/// Emit `op` as the node's output when `last`, else as an intermediate named `suffix`.
fn emit(ctx: &mut NodeCtx<'_>, op: Op, ins: &[ValueRef], suffix: &str, last: bool) -> Result<ValueRef> {
    if last {
        ctx.emit_out(op, ins)
    } else {
        ctx.emit_tmp(op, ins, suffix)
    }
}

fn log_softmax_body(ctx: &mut NodeCtx<'_>, x: ValueRef, axis: usize, last: bool) -> Result<ValueRef> {
    let m = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Max, axes: vec![axis], keep_dims: true }, &[x], "max")?;
    let d = ctx.emit_tmp(Op::Binary(BinaryOp::Sub), &[x, m], "shifted")?;
    let e = ctx.emit_tmp(Op::Unary(UnaryOp::Exp), &[d], "exp")?;
    let s = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Sum, axes: vec![axis], keep_dims: true }, &[e], "sum")?;
    let l = ctx.emit_tmp(Op::Unary(UnaryOp::Log), &[s], "log")?;
    emit(ctx, Op::Binary(BinaryOp::Sub), &[d, l], "logsoftmax2d", last)
}

fn hardmax_body(ctx: &mut NodeCtx<'_>, x: ValueRef, axis: usize, last: bool) -> Result<ValueRef> {
    let ty = ctx.ty(x);
    let op = Op::ArgReduce { op: ArgOp::Max, axis, keep_dims: true, select_last_index: false };
    let a = ctx.emit_tmp(op, &[x], "argmax")?;
    let n = ty.shape[axis];
    let mut rshape = vec![1; ty.rank()];
    rshape[axis] = n;
    let range = Tensor::from_i64(&rshape, (0..n as i64).collect()).map_err(|e| ctx.err(e))?;
    let name = ctx.tmp_name("range");
    let r = ctx.add_constant(name, range);
    let eq = ctx.emit_tmp(Op::Binary(BinaryOp::Equal), &[a, r], "onehot")?;
    emit(ctx, Op::Cast { to: ty.dtype }, &[eq], "hardmax2d", last)
}

pub fn log_softmax(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    along_axis(ctx, log_softmax_body)
}

pub fn hardmax(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    along_axis(ctx, hardmax_body)
}
