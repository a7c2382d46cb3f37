//! Elementwise ops: Add Sub Mul Div Pow Equal (numpy broadcasting, opset 7+), Sum (variadic ->
//! chain of Add) and the unary float ops Sqrt Reciprocal Exp Log Erf Tanh Sigmoid Relu Neg.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, DType, Op, UnaryOp, ValueRef};

fn binary(ctx: &mut NodeCtx<'_>, op: BinaryOp) -> Result<Vec<ValueRef>> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    Ok(vec![ctx.emit_out(Op::Binary(op), &[a, b])?])
}

fn unary(ctx: &mut NodeCtx<'_>, op: UnaryOp) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    Ok(vec![ctx.emit_out(Op::Unary(op), &[x])?])
}

pub fn add(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Add)
}
pub fn sub(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Sub)
}
pub fn mul(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Mul)
}
pub fn div(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Div)
}
pub fn equal(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Equal)
}

/// `Pow(X, Y)`: the result has X's dtype; Y may have another dtype (ONNX 12+) and is cast to
/// X's. An integer base with a float exponent is refused unless the exponent is a constant
/// holding whole numbers (casting a fractional exponent to int would change the result).
pub fn pow(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, mut y) = (ctx.input(0)?, ctx.input(1)?);
    let (xd, yd) = (ctx.ty(x).dtype, ctx.ty(y).dtype);
    if xd == DType::Bool || yd == DType::Bool {
        return Err(ctx.err("Pow of bool tensors is unsupported"));
    }
    if xd != yd {
        if xd.is_int() && yd.is_float() {
            let whole = ctx.constant(y).is_some_and(|t| t.to_f64_vec().iter().all(|v| v.fract() == 0.0));
            if !whole {
                return Err(ctx.err(format!(
                    "Pow of an {xd} base with a non-constant or fractional {yd} exponent is unsupported"
                )));
            }
        }
        y = ctx.emit_tmp(Op::Cast { to: xd }, &[y], "exponent")?;
    }
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Pow), &[x, y])?])
}

/// `Sum(x0, x1, ...)` -> `((x0 + x1) + x2) ...`; one input aliases it.
pub fn sum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let xs = ctx.present_inputs();
    let Some((&first, rest)) = xs.split_first() else {
        return Err(ctx.err("Sum needs at least one input"));
    };
    let mut acc = first;
    for (i, x) in rest.iter().enumerate() {
        acc = if i + 1 == rest.len() {
            ctx.emit_out(Op::Binary(BinaryOp::Add), &[acc, *x])?
        } else {
            ctx.emit_tmp(Op::Binary(BinaryOp::Add), &[acc, *x], &format!("sum{i}"))?
        };
    }
    Ok(vec![acc])
}

pub fn sqrt(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Sqrt)
}
pub fn reciprocal(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Reciprocal)
}
pub fn exp(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Exp)
}
pub fn log(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Log)
}
pub fn erf(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Erf)
}
pub fn tanh(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Tanh)
}
pub fn sigmoid(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Sigmoid)
}
pub fn relu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Relu)
}
pub fn neg(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Neg)
}
