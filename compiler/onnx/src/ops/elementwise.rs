//! Elementwise ops: Add Sub Mul Div Pow Equal Mod (numpy broadcasting, opset 7+), the variadic
//! Sum / Max / Min (chains of Add / Max / Min), the unary float ops (Sqrt Reciprocal Exp Log Erf
//! Tanh Sigmoid Ceil Floor Round Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh), the
//! numeric Neg Abs Sign and Relu (integer Relu, opset 14, is `Max(x, 0)`).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, DType, Op, Tensor, UnaryOp, ValueRef};

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
/// X's. Integer base and exponent are computed in f64 and cast back. An integer base with a float exponent is refused unless the exponent is a constant
/// holding whole numbers (casting a fractional exponent to int would change the result).
pub fn pow(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, mut y) = (ctx.input(0)?, ctx.input(1)?);
    let (xd, yd) = (ctx.ty(x).dtype, ctx.ty(y).dtype);
    if xd == DType::Bool || yd == DType::Bool {
        return Err(ctx.err("Pow of bool tensors is unsupported"));
    }
    if xd.is_int() && yd.is_int() {
        // Integer powers: exact in f64 below 2^53, then cast back (wrapping like the reference's
        // integer arithmetic only beyond that).
        let xf = ctx.emit_tmp(Op::Cast { to: DType::F64 }, &[x], "base_f64")?;
        let yf = ctx.emit_tmp(Op::Cast { to: DType::F64 }, &[y], "exponent_f64")?;
        let p = ctx.emit_tmp(Op::Binary(BinaryOp::Pow), &[xf, yf], "power_f64")?;
        return Ok(vec![ctx.emit_out(Op::Cast { to: xd }, &[p])?]);
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
    chain(ctx, BinaryOp::Add)
}

/// Variadic `Max(x0, x1, ...)` -> `Max(Max(x0, x1), x2) ...` (NaN propagates).
pub fn max(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    chain(ctx, BinaryOp::Max)
}

/// Variadic `Min`, as [`max`].
pub fn min(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    chain(ctx, BinaryOp::Min)
}

/// Fold the present inputs left to right with `op`; one input aliases it.
fn chain(ctx: &mut NodeCtx<'_>, op: BinaryOp) -> Result<Vec<ValueRef>> {
    let xs = ctx.present_inputs();
    let Some((&first, rest)) = xs.split_first() else {
        return Err(ctx.err("needs at least one input"));
    };
    let mut acc = first;
    for (i, x) in rest.iter().enumerate() {
        acc = if i + 1 == rest.len() {
            ctx.emit_out(Op::Binary(op), &[acc, *x])?
        } else {
            ctx.emit_tmp(Op::Binary(op), &[acc, *x], &format!("acc{i}"))?
        };
    }
    Ok(vec![acc])
}

/// `Mod(a, b; fmod)`: integers take the divisor's sign (`fmod = 0`, Python `%`) or the
/// dividend's (`fmod = 1`, C `%`); floats require `fmod = 1` (C `fmod`).
pub fn mod_(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let fmod = ctx.attr_bool("fmod", false)?;
    let a = ctx.input(0)?;
    if !fmod && ctx.ty(a).dtype.is_float() {
        return Err(ctx.err("Mod of floats requires fmod = 1"));
    }
    binary(ctx, if fmod { BinaryOp::Fmod } else { BinaryOp::Mod })
}

/// A scalar constant of dtype `dt` holding `v` (rounded to the dtype; bool is `v != 0`).
pub fn scalar(dt: DType, v: f64) -> Result<Tensor> {
    Ok(kiln_ir::ops::cast::cast(&Tensor::from_f64(&[], vec![v])?, dt))
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
/// Relu; on integers (opset 14) `Max(x, 0)`.
pub fn relu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dt = ctx.ty(x).dtype;
    if dt.is_int() {
        let zero = ctx.add_constant(ctx.tmp_name("zero"), scalar(dt, 0.0)?);
        return Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Max), &[x, zero])?]);
    }
    unary(ctx, UnaryOp::Relu)
}
pub fn neg(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    unary(ctx, UnaryOp::Neg)
}

/// Importers that map one ONNX op onto one IR unary op.
macro_rules! unary_importers {
    ($($f:ident => $op:ident),* $(,)?) => {
        $(
            pub fn $f(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
                unary(ctx, UnaryOp::$op)
            }
        )*
    };
}

unary_importers!(
    abs => Abs, ceil => Ceil, floor => Floor, round => Round, sign => Sign, sin => Sin, cos => Cos, tan => Tan,
    asin => Asin, acos => Acos, atan => Atan, sinh => Sinh, cosh => Cosh, asinh => Asinh, acosh => Acosh,
    atanh => Atanh,
);

/// `CastLike(x, target)` (opset 15): Cast to the target's dtype (its values are unused); a
/// cast to x's own dtype aliases x.
pub fn cast_like(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, target) = (ctx.input(0)?, ctx.input(1)?);
    let to = ctx.ty(target).dtype;
    if ctx.ty(x).dtype == to {
        return Ok(vec![x]);
    }
    Ok(vec![ctx.emit_out(Op::Cast { to }, &[x])?])
}
