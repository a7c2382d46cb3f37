//! Activations and Clip, decomposed at import into elementwise IR primitives (exact up to float
//! rounding; NaN propagates as in the ONNX reference):
//! - Clip: `Min(Max(x, lo), hi)` (bounds from attributes before opset 11, optional operands
//!   from 11; min > max gives max everywhere, as the spec says);
//! - PRelu / LeakyRelu: `Where(x < 0, x * slope, x)`; ThresholdedRelu `Where(x > a, x, 0)`;
//! - Elu `Where(x < 0, a * (exp(x) - 1), x)`; Selu `g * Where(x > 0, x, a * (exp(x) - 1))`;
//!   Celu `Max(x, 0) + Min(0, a * (exp(x / a) - 1))`;
//! - HardSigmoid `Max(Min(a * x + b, 1), 0)`; HardSwish `x * HardSigmoid(x; 1/6, 1/2)`;
//! - Shrink `Where(x < -l, x + b, Where(x > l, x - b, 0))`;
//! - Softplus in the overflow-free form `Relu(x) + log(1 + exp(-|x|))`; Softsign
//!   `x / (1 + |x|)`; Mish `x * tanh(Softplus(x))`;
//! - Gelu (opset 20): `x/2 * (1 + erf(x / sqrt 2))`, or with `approximate = "tanh"`
//!   `x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`.

use super::elementwise::scalar;
use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, DType, Op, UnaryOp, ValueRef};

/// Builds one decomposition: intermediates are named `{output}/t{n}`, the last op gets the
/// node's output name.
struct Expr<'c, 'a> {
    ctx: &'c mut NodeCtx<'a>,
    dt: DType,
    n: usize,
}

impl<'c, 'a> Expr<'c, 'a> {
    /// The node's input 0 (which must be a float unless `ints_ok`) and a builder for its dtype.
    fn new(ctx: &'c mut NodeCtx<'a>, ints_ok: bool) -> Result<(Self, ValueRef)> {
        let x = ctx.input(0)?;
        let dt = ctx.ty(x).dtype;
        if !(dt.is_float() || (ints_ok && dt.is_int())) {
            let want = if ints_ok { "a number" } else { "f32 or f64" };
            return Err(ctx.err(format!("input must be {want}, got {dt}")));
        }
        Ok((Expr { ctx, dt, n: 0 }, x))
    }

    fn name(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    fn c(&mut self, v: f64) -> Result<ValueRef> {
        let name = self.name("c");
        let t = scalar(self.dt, v)?;
        Ok(self.ctx.add_constant(self.ctx.tmp_name(&name), t))
    }

    fn op(&mut self, op: Op, ins: &[ValueRef]) -> Result<ValueRef> {
        let name = self.name("t");
        self.ctx.emit_tmp(op, ins, &name)
    }

    fn b(&mut self, op: BinaryOp, a: ValueRef, b: ValueRef) -> Result<ValueRef> {
        self.op(Op::Binary(op), &[a, b])
    }

    /// `op(a, constant v)`.
    fn bc(&mut self, op: BinaryOp, a: ValueRef, v: f64) -> Result<ValueRef> {
        let c = self.c(v)?;
        self.b(op, a, c)
    }

    fn u(&mut self, op: UnaryOp, a: ValueRef) -> Result<ValueRef> {
        self.op(Op::Unary(op), &[a])
    }

    /// The final op, named after the node's output.
    fn out(self, op: Op, ins: &[ValueRef]) -> Result<Vec<ValueRef>> {
        Ok(vec![self.ctx.emit_out(op, ins)?])
    }

    /// `exp(x) - 1` scaled by `alpha`.
    fn expm1_scaled(&mut self, x: ValueRef, alpha: f64) -> Result<ValueRef> {
        let e = self.u(UnaryOp::Exp, x)?;
        let m = self.bc(BinaryOp::Sub, e, 1.0)?;
        self.bc(BinaryOp::Mul, m, alpha)
    }

    /// `Relu(x) + log(1 + exp(-|x|))`.
    fn softplus(&mut self, x: ValueRef) -> Result<ValueRef> {
        let a = self.u(UnaryOp::Abs, x)?;
        let n = self.u(UnaryOp::Neg, a)?;
        let e = self.u(UnaryOp::Exp, n)?;
        let p = self.bc(BinaryOp::Add, e, 1.0)?;
        let l = self.u(UnaryOp::Log, p)?;
        let r = self.u(UnaryOp::Relu, x)?;
        self.b(BinaryOp::Add, r, l)
    }

    /// `Max(Min(alpha * x + beta, 1), 0)`.
    fn hard_sigmoid(&mut self, x: ValueRef, alpha: f64, beta: f64) -> Result<ValueRef> {
        let s = self.bc(BinaryOp::Mul, x, alpha)?;
        let t = self.bc(BinaryOp::Add, s, beta)?;
        let m = self.bc(BinaryOp::Min, t, 1.0)?;
        self.bc(BinaryOp::Max, m, 0.0)
    }
}

fn attr(ctx: &NodeCtx<'_>, name: &str, default: f32) -> Result<f64> {
    Ok(ctx.attr_float(name, default)? as f64)
}

/// `Where(x < 0, x * slope, x)` for a slope tensor or constant.
fn leaky(mut e: Expr<'_, '_>, x: ValueRef, slope: ValueRef) -> Result<Vec<ValueRef>> {
    let neg = e.bc(BinaryOp::Less, x, 0.0)?;
    let s = e.b(BinaryOp::Mul, x, slope)?;
    e.out(Op::Where, &[neg, s, x])
}

pub fn prelu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let slope = ctx.input(1)?;
    let (e, x) = Expr::new(ctx, true)?;
    leaky(e, x, slope)
}

pub fn leaky_relu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 0.01)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let slope = e.c(alpha)?;
    leaky(e, x, slope)
}

pub fn thresholded_relu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 1.0)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let above = e.bc(BinaryOp::Greater, x, alpha)?;
    let zero = e.c(0.0)?;
    e.out(Op::Where, &[above, x, zero])
}

pub fn elu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 1.0)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let neg = e.bc(BinaryOp::Less, x, 0.0)?;
    let m = e.expm1_scaled(x, alpha)?;
    e.out(Op::Where, &[neg, m, x])
}

pub fn selu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 1.673_263_2)?;
    let gamma = attr(ctx, "gamma", 1.050_701)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let pos = e.bc(BinaryOp::Greater, x, 0.0)?;
    let m = e.expm1_scaled(x, alpha)?;
    let w = e.op(Op::Where, &[pos, x, m])?;
    let g = e.c(gamma)?;
    e.out(Op::Binary(BinaryOp::Mul), &[w, g])
}

pub fn celu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 1.0)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let r = e.bc(BinaryOp::Max, x, 0.0)?;
    let s = e.bc(BinaryOp::Div, x, alpha)?;
    let m = e.expm1_scaled(s, alpha)?;
    let n = e.bc(BinaryOp::Min, m, 0.0)?;
    e.out(Op::Binary(BinaryOp::Add), &[r, n])
}

pub fn hard_sigmoid(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = attr(ctx, "alpha", 0.2)?;
    let beta = attr(ctx, "beta", 0.5)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let s = e.bc(BinaryOp::Mul, x, alpha)?;
    let t = e.bc(BinaryOp::Add, s, beta)?;
    let m = e.bc(BinaryOp::Min, t, 1.0)?;
    let zero = e.c(0.0)?;
    e.out(Op::Binary(BinaryOp::Max), &[m, zero])
}

pub fn hard_swish(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (mut e, x) = Expr::new(ctx, false)?;
    let h = e.hard_sigmoid(x, 1.0 / 6.0, 0.5)?;
    e.out(Op::Binary(BinaryOp::Mul), &[x, h])
}

pub fn shrink(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let lambd = attr(ctx, "lambd", 0.5)?;
    let bias = attr(ctx, "bias", 0.0)?;
    let (mut e, x) = Expr::new(ctx, false)?;
    let below = e.bc(BinaryOp::Less, x, -lambd)?;
    let above = e.bc(BinaryOp::Greater, x, lambd)?;
    let plus = e.bc(BinaryOp::Add, x, bias)?;
    let minus = e.bc(BinaryOp::Sub, x, bias)?;
    let zero = e.c(0.0)?;
    let inner = e.op(Op::Where, &[above, minus, zero])?;
    e.out(Op::Where, &[below, plus, inner])
}

pub fn softplus(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (mut e, x) = Expr::new(ctx, false)?;
    let a = e.u(UnaryOp::Abs, x)?;
    let n = e.u(UnaryOp::Neg, a)?;
    let ex = e.u(UnaryOp::Exp, n)?;
    let p = e.bc(BinaryOp::Add, ex, 1.0)?;
    let l = e.u(UnaryOp::Log, p)?;
    let r = e.u(UnaryOp::Relu, x)?;
    e.out(Op::Binary(BinaryOp::Add), &[r, l])
}

pub fn softsign(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (mut e, x) = Expr::new(ctx, false)?;
    let a = e.u(UnaryOp::Abs, x)?;
    let d = e.bc(BinaryOp::Add, a, 1.0)?;
    e.out(Op::Binary(BinaryOp::Div), &[x, d])
}

pub fn mish(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (mut e, x) = Expr::new(ctx, false)?;
    let sp = e.softplus(x)?;
    let t = e.u(UnaryOp::Tanh, sp)?;
    e.out(Op::Binary(BinaryOp::Mul), &[x, t])
}

/// Swish (opset 24): `x * sigmoid(alpha * x)`.
pub fn swish(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let alpha = ctx.attr_float("alpha", 1.0)? as f64;
    let (mut e, x) = Expr::new(ctx, false)?;
    let ax = e.bc(BinaryOp::Mul, x, alpha)?;
    let s = e.u(UnaryOp::Sigmoid, ax)?;
    e.out(Op::Binary(BinaryOp::Mul), &[x, s])
}

pub fn gelu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let approx = ctx.attr_string("approximate", "none")?;
    if approx != "none" && approx != "tanh" {
        return Err(ctx.err(format!("approximate must be none or tanh, got '{approx}'")));
    }
    let (mut e, x) = Expr::new(ctx, false)?;
    let inner = if approx == "tanh" {
        let x2 = e.b(BinaryOp::Mul, x, x)?;
        let x3 = e.b(BinaryOp::Mul, x2, x)?;
        let k = e.bc(BinaryOp::Mul, x3, 0.044715)?;
        let s = e.b(BinaryOp::Add, x, k)?;
        let arg = e.bc(BinaryOp::Mul, s, (2.0 / std::f64::consts::PI).sqrt())?;
        e.u(UnaryOp::Tanh, arg)?
    } else {
        let arg = e.bc(BinaryOp::Mul, x, std::f64::consts::FRAC_1_SQRT_2)?;
        e.u(UnaryOp::Erf, arg)?
    };
    let one_plus = e.bc(BinaryOp::Add, inner, 1.0)?;
    let half = e.bc(BinaryOp::Mul, x, 0.5)?;
    e.out(Op::Binary(BinaryOp::Mul), &[half, one_plus])
}

/// `Clip(x, min, max)`; an absent bound is not applied (no bound at all aliases x).
pub fn clip(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let opset = ctx.opset;
    let (lo_attr, hi_attr) = if opset < 11 {
        let lo = ctx.attr("min").map(|_| attr(ctx, "min", 0.0)).transpose()?;
        let hi = ctx.attr("max").map(|_| attr(ctx, "max", 0.0)).transpose()?;
        (lo, hi)
    } else {
        (None, None)
    };
    let (lo_in, hi_in) = (ctx.opt_input(1), ctx.opt_input(2));
    let (mut e, x) = Expr::new(ctx, true)?;
    let lo = match (lo_in, lo_attr) {
        (Some(v), _) => Some(v),
        (None, Some(a)) => Some(e.c(a)?),
        (None, None) => None,
    };
    let hi = match (hi_in, hi_attr) {
        (Some(v), _) => Some(v),
        (None, Some(a)) => Some(e.c(a)?),
        (None, None) => None,
    };
    match (lo, hi) {
        (None, None) => Ok(vec![x]),
        (Some(l), None) => e.out(Op::Binary(BinaryOp::Max), &[x, l]),
        (None, Some(h)) => e.out(Op::Binary(BinaryOp::Min), &[x, h]),
        (Some(l), Some(h)) => {
            let m = e.b(BinaryOp::Max, x, l)?;
            e.out(Op::Binary(BinaryOp::Min), &[m, h])
        }
    }
}
