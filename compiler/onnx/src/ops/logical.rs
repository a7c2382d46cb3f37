//! Comparison, logical and bitwise ops: Greater / Less (opset 7+), GreaterOrEqual / LessOrEqual
//! (12+), And / Or / Xor / Not on bool, BitwiseAnd / Or / Xor / Not (18+, integers; the same IR
//! ops, which are bitwise on integers), BitShift (11+, `direction` LEFT / RIGHT), IsNaN and
//! IsInf (`detect_positive` / `detect_negative`), which imports as `Abs(x) == inf`,
//! `x == inf`, `x == -inf`, or `x == NaN` (all false) when neither is detected.

use super::elementwise::scalar;
use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, DType, Op, UnaryOp, ValueRef};

fn binary(ctx: &mut NodeCtx<'_>, op: BinaryOp) -> Result<Vec<ValueRef>> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    Ok(vec![ctx.emit_out(Op::Binary(op), &[a, b])?])
}

/// `op` on input 0, whose dtype must satisfy `ok` (described by `what`).
fn unary(ctx: &mut NodeCtx<'_>, op: UnaryOp, ok: fn(DType) -> bool, what: &str) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dt = ctx.ty(x).dtype;
    if !ok(dt) {
        return Err(ctx.err(format!("input must be {what}, got {dt}")));
    }
    Ok(vec![ctx.emit_out(Op::Unary(op), &[x])?])
}

/// `op` on two inputs of a dtype satisfying `ok`.
fn typed_binary(ctx: &mut NodeCtx<'_>, op: BinaryOp, ok: fn(DType) -> bool, what: &str) -> Result<Vec<ValueRef>> {
    let a = ctx.input(0)?;
    let dt = ctx.ty(a).dtype;
    if !ok(dt) {
        return Err(ctx.err(format!("inputs must be {what}, got {dt}")));
    }
    binary(ctx, op)
}

fn is_bool(d: DType) -> bool {
    d == DType::Bool
}

fn is_int(d: DType) -> bool {
    d.is_int()
}

pub fn greater(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Greater)
}
pub fn less(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::Less)
}
pub fn greater_or_equal(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::GreaterOrEqual)
}
pub fn less_or_equal(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    binary(ctx, BinaryOp::LessOrEqual)
}

pub fn and(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::And, is_bool, "bool")
}
pub fn or(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::Or, is_bool, "bool")
}
pub fn xor(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::Xor, is_bool, "bool")
}
pub fn not(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Not, is_bool, "bool")
}

pub fn bitwise_and(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::And, is_int, "integers")
}
pub fn bitwise_or(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::Or, is_int, "integers")
}
pub fn bitwise_xor(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    typed_binary(ctx, BinaryOp::Xor, is_int, "integers")
}
pub fn bitwise_not(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Not, is_int, "an integer")
}

/// `BitShift(x, y; direction)`. ONNX defines it on unsigned integers only; kiln has none yet,
/// so this applies to signed operands as a shift of the bit pattern (logical right shift).
pub fn bit_shift(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let dir = ctx.attr_string("direction", "")?;
    let op = match dir.as_str() {
        "LEFT" => BinaryOp::BitShiftLeft,
        "RIGHT" => BinaryOp::BitShiftRight,
        other => return Err(ctx.err(format!("direction must be LEFT or RIGHT, got '{other}'"))),
    };
    typed_binary(ctx, op, is_int, "integers")
}

pub fn is_nan(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::IsNaN, DType::is_float, "a float")
}

/// `IsInf(x; detect_positive = 1, detect_negative = 1)` as an Equal against a constant.
pub fn is_inf(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dt = ctx.ty(x).dtype;
    if !dt.is_float() {
        return Err(ctx.err(format!("input must be a float, got {dt}")));
    }
    let pos = ctx.attr_bool("detect_positive", true)?;
    let neg = ctx.attr_bool("detect_negative", true)?;
    let (operand, target) = match (pos, neg) {
        (true, true) => (ctx.emit_tmp(Op::Unary(UnaryOp::Abs), &[x], "abs")?, f64::INFINITY),
        (true, false) => (x, f64::INFINITY),
        (false, true) => (x, f64::NEG_INFINITY),
        (false, false) => (x, f64::NAN),
    };
    let c = ctx.add_constant(ctx.tmp_name("inf"), scalar(dt, target)?);
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Equal), &[operand, c])?])
}
