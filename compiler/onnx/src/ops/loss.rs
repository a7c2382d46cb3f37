//! NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12, 13, 22), composed of IR
//! ops at import. Input `[N, C]` or `[N, C, d1..dk]`, target `[N]` or `[N, d1..dk]` (i32/i64),
//! optional class weights `[C]`; attributes `reduction` (none | sum | mean, default mean) and
//! `ignore_index`.
//! - NLL: `loss = -x[n, t, d..] * w[t]`, computed as `GatherElements` along axis 1 with a safe
//!   index (the target clamped to `0..C`, so an ignored or out-of-range value reads nothing out
//!   of bounds) and `Gather` of the weights; positions whose target equals `ignore_index` give 0
//!   (a `Where`, so a non-finite input there does not leak into the result).
//! - Reductions: `sum` sums every element; `mean` divides that sum by the sum of the weights
//!   `w[t]` over non-ignored positions (the count of non-ignored positions without weights), as
//!   the ONNX function body does; without weights and `ignore_index` it is a plain mean.
//! - SoftmaxCrossEntropyLoss: `log_prob = LogSoftmax(scores)` along axis 1 (`d - log(sum(exp(d)))`
//!   with `d = x - max(x)`), then NLL; the optional second output is `log_prob`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, scalar};
use kiln_ir::{BinaryOp, Op, ReduceOp, UnaryOp, ValueRef};

#[derive(Clone, Copy, PartialEq)]
enum Reduction {
    None,
    Sum,
    Mean,
}

fn reduction(ctx: &NodeCtx<'_>) -> Result<Reduction> {
    match ctx.attr_string("reduction", "mean")?.as_str() {
        "none" => Ok(Reduction::None),
        "sum" => Ok(Reduction::Sum),
        "mean" => Ok(Reduction::Mean),
        r => Err(ctx.err(format!("reduction must be none, sum or mean, got '{r}'"))),
    }
}

/// Emit `op` as the node's output 0 when `last`, else as an intermediate named `suffix`.
fn step(ctx: &mut NodeCtx<'_>, op: Op, ins: &[ValueRef], suffix: &str, last: bool) -> Result<ValueRef> {
    if last {
        ctx.emit_out(op, ins)
    } else {
        ctx.emit_tmp(op, ins, suffix)
    }
}

/// The NLL loss of log-probabilities `x` (input 0's shape) against the node's inputs 1 (target)
/// and 2 (optional weights), reduced per the node's attributes; emitted as output 0.
fn nll(ctx: &mut NodeCtx<'_>, x: ValueRef) -> Result<ValueRef> {
    let red = reduction(ctx)?;
    let ignore = ctx.attr_int_opt("ignore_index")?;
    let target = ctx.input(1)?;
    let weight = ctx.opt_input(2);
    let (xt, tt) = (ctx.ty(x), ctx.ty(target));
    if !xt.dtype.is_float() {
        return Err(ctx.err(format!("input must be a float tensor, got {xt}")));
    }
    if xt.rank() < 2 {
        return Err(ctx.err(format!("input must be [N, C] or [N, C, d1..dk], got {xt}")));
    }
    if !tt.dtype.is_int() {
        return Err(ctx.err(format!("target must be i32 or i64, got {tt}")));
    }
    let mut want_t = vec![xt.shape[0]];
    want_t.extend_from_slice(&xt.shape[2..]);
    if tt.shape != want_t {
        return Err(ctx.err(format!("target {tt} does not match input {xt} (want shape {want_t:?})")));
    }
    let c = xt.shape[1];
    if c == 0 {
        return Err(ctx.err(format!("input {xt} has no classes")));
    }
    if let Some(w) = weight {
        let wt = ctx.ty(w);
        if wt.shape != [c] || wt.dtype != xt.dtype {
            return Err(ctx.err(format!("weight must be {}[{c}], got {wt}", xt.dtype)));
        }
    }
    let (fdt, idt) = (xt.dtype, tt.dtype);

    // Safe index: the target clamped into 0..C.
    let lo = scalar(ctx, 0.0, idt, "idx_lo")?;
    let hi = scalar(ctx, (c - 1) as f64, idt, "idx_hi")?;
    let t0 = binary(ctx, BinaryOp::Max, target, lo, "idx_max")?;
    let safe = binary(ctx, BinaryOp::Min, t0, hi, "safe_target")?;
    let mut ishape = xt.shape.clone();
    ishape[1] = 1;
    let idx = crate::ops::decomp::reshape(ctx, safe, ishape, "index")?;
    let g = ctx.emit_tmp(Op::GatherElements { axis: 1 }, &[x, idx], "picked")?;
    let g = crate::ops::decomp::reshape(ctx, g, want_t.clone(), "picked_flat")?;

    let none = red == Reduction::None;
    let last_neg = none && weight.is_none() && ignore.is_none();
    let mut loss = step(ctx, Op::Unary(UnaryOp::Neg), &[g], "neg", last_neg)?;
    let wt = match weight {
        Some(w) => {
            let wt = ctx.emit_tmp(Op::Gather { axis: 0 }, &[w, safe], "target_weight")?;
            loss = step(ctx, Op::Binary(BinaryOp::Mul), &[loss, wt], "weighted", none && ignore.is_none())?;
            Some(wt)
        }
        None => None,
    };
    // Denominator weights for `mean`: w[t] (or 1) with ignored positions zeroed.
    let mut denom = wt;
    if let Some(ii) = ignore {
        let iiv = scalar(ctx, ii as f64, idt, "ignore_index")?;
        let ign = binary(ctx, BinaryOp::Equal, target, iiv, "ignored")?;
        let zero = scalar(ctx, 0.0, fdt, "zero")?;
        loss = step(ctx, Op::Where, &[ign, zero, loss], "masked", none)?;
        let kept = match wt {
            Some(wt) => wt,
            None => scalar(ctx, 1.0, fdt, "one")?,
        };
        denom = Some(ctx.emit_tmp(Op::Where, &[ign, zero, kept], "kept_weight")?);
    }
    let axes: Vec<usize> = (0..want_t.len()).collect();
    let sum = |op| Op::Reduce { op, axes: axes.clone(), keep_dims: false };
    match (red, denom) {
        (Reduction::None, _) => Ok(loss),
        (Reduction::Sum, _) => ctx.emit_out(sum(ReduceOp::Sum), &[loss]),
        (Reduction::Mean, None) => ctx.emit_out(sum(ReduceOp::Mean), &[loss]),
        (Reduction::Mean, Some(d)) => {
            let num = ctx.emit_tmp(sum(ReduceOp::Sum), &[loss], "loss_sum")?;
            let den = ctx.emit_tmp(sum(ReduceOp::Sum), &[d], "weight_sum")?;
            ctx.emit_out(Op::Binary(BinaryOp::Div), &[num, den])
        }
    }
}

pub fn negative_log_likelihood_loss(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    Ok(vec![nll(ctx, x)?])
}

pub fn softmax_cross_entropy_loss(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let xt = ctx.ty(x);
    if !xt.dtype.is_float() || xt.rank() < 2 {
        return Err(ctx.err(format!("scores must be a float tensor [N, C, d1..dk], got {xt}")));
    }
    let max = Op::Reduce { op: ReduceOp::Max, axes: vec![1], keep_dims: true };
    let m = ctx.emit_tmp(max, &[x], "max")?;
    let d = ctx.emit_tmp(Op::Binary(BinaryOp::Sub), &[x, m], "shifted")?;
    let e = ctx.emit_tmp(Op::Unary(UnaryOp::Exp), &[d], "exp")?;
    let s = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Sum, axes: vec![1], keep_dims: true }, &[e], "sum")?;
    let l = ctx.emit_tmp(Op::Unary(UnaryOp::Log), &[s], "log")?;
    let name = match ctx.out_name(1) {
        n if n.is_empty() => ctx.tmp_name("log_prob"),
        n => n,
    };
    let lp = ctx.emit(Op::Binary(BinaryOp::Sub), &[d, l], &[name])?;
    let [lp] = lp.as_slice() else {
        return Err(ctx.err("LogSoftmax produced other than one output"));
    };
    let lp = *lp;
    let loss = nll(ctx, lp)?;
    Ok(if ctx.node.output.len() > 1 { vec![loss, lp] } else { vec![loss] })
}
