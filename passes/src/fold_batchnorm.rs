//! Fold an inference BatchNorm (and per-channel constant Mul / Add) into the linear op before it.
//!
//! Identity relied on: inference BatchNorm over dim 1 is the per-channel affine map
//! `y[c] = x[c] * s[c] + t[c]` with `s = scale / sqrt(var + eps)` and `t = bias - mean * s`, and a
//! per-channel affine map after a map that is linear per output channel can be pushed into it:
//! - `Conv(x, w, b)`: output channel `c` is `sum(w[c] * window) + b[c]`, so scaling it by `s[c]` and
//!   adding `t[c]` is the Conv with `w'[c] = w[c] * s[c]` and `b'[c] = b[c] * s[c] + t[c]` (a
//!   missing `b` is 0). The same holds for `Mul(conv, c)` (`s = c`, `t = 0`) and `Add(conv, c)`
//!   (`s = 1`, `t = c`) with `c` a constant that varies at most along the channel dim.
//! - `Gemm {alpha, beta}(A, B, C)` with output `[M, N]` (BatchNorm over `N`): scaling column `n` of
//!   `op(B)` by `s[n]` scales column `n` of `alpha * op(A) @ op(B)`; the bias term becomes
//!   `C' = beta * C * s + t` with `beta' = 1` (`C' = t` when `C` is absent).
//! - `MatMul(a, W)` with `a` `[M, K]` and `W` `[K, N]`: as Gemm, giving `Gemm(a, W * s, t)`.
//!
//! It holds when the op's weights, bias and the BatchNorm parameters are constants (they are
//! folded at compile time, rounded once to the value's dtype) and the linear op's result is read
//! only by the BatchNorm / Mul / Add (otherwise the unscaled result is still needed). A BatchNorm
//! left in place gets a note saying why.

use crate::const_conv::{add_const_conv, const_conv, ConstConv};
use crate::rewrite::{add_float_const, add_op, channel_vector, const_f64, only_read_by, split_const_operand, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "fold-batchnorm";

pub struct FoldBatchNorm;

impl Pass for FoldBatchNorm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            if !graph.contains_node(n) {
                continue;
            }
            match graph.node(n).op.clone() {
                Op::BatchNorm { epsilon } => match fold_batchnorm(graph, n, epsilon)? {
                    Ok(()) => changed = true,
                    Err(why) => {
                        let name = graph.value_name(ValueRef::new(n, 0)).to_string();
                        cx.notes.push(format!("left BatchNorm '%{name}': {why}"));
                    }
                },
                Op::Binary(op @ (BinaryOp::Mul | BinaryOp::Add)) => {
                    changed |= fold_channel_binary(graph, n, op)?;
                }
                _ => {}
            }
        }
        Ok(changed)
    }
}

/// Replace `old` (read from Conv `conv` through the per-channel map `y = conv * s + t` computed
/// by node `consumer`) by one Conv with scaled weights and shifted bias.
fn fold_into_conv(
    g: &mut Graph,
    conv: &ConstConv,
    s: &[f64],
    t: &[f64],
    old: ValueRef,
    consumer: NodeIndex,
) -> Result<(), PassError> {
    let m = conv.out_channels();
    let per = conv.w.len() / m.max(1);
    let w: Vec<f64> = conv.w.iter().enumerate().map(|(i, v)| v * s[i / per]).collect();
    let b = if conv.b.is_none() && t.iter().all(|v| *v == 0.0) {
        None
    } else {
        Some(conv.bias_or_zero().iter().zip(s).zip(t).map(|((b, s), t)| b * s + t).collect())
    };
    let dt = g.value_type(old).dtype;
    let hint = g.value_name(old).to_string();
    let op = g.node(conv.node).op.clone();
    let new = add_const_conv(g, NAME, &hint, dt, conv.x, op, &conv.w_shape, w, b)?;
    swap_in(g, old, new, &[consumer, conv.node]);
    Ok(())
}

/// Fold BatchNorm node `bn` into its producer; `Ok(Err(why))` when it does not apply.
fn fold_batchnorm(g: &mut Graph, bn: NodeIndex, epsilon: f32) -> Result<Result<(), String>, PassError> {
    let ins = g.inputs_of(bn);
    let params: Option<Vec<Vec<f64>>> = ins[1..].iter().map(|v| const_f64(g, *v).map(|(_, d)| d)).collect();
    let Some(p) = params else {
        return Ok(Err("its scale, bias, mean and var are not all constants".into()));
    };
    let s: Vec<f64> = p[0].iter().zip(&p[3]).map(|(sc, var)| sc / (var + epsilon as f64).sqrt()).collect();
    let t: Vec<f64> = p[1].iter().zip(&p[2]).zip(&s).map(|((b, mean), s)| b - mean * s).collect();
    let (x, out) = (ins[0], ValueRef::new(bn, 0));
    let producer = g.node(x.node).op.clone();
    let what = producer.name();
    if !matches!(producer, Op::Conv { .. } | Op::Gemm { .. } | Op::MatMul) {
        return Ok(Err(format!("its input '%{}' comes from {what}, not a Conv, Gemm or MatMul", g.value_name(x))));
    }
    if !only_read_by(g, x, bn) {
        return Ok(Err(format!("the {what} output '%{}' is also read elsewhere", g.value_name(x))));
    }
    match producer {
        Op::Conv { .. } => {
            let conv = match const_conv(g, x.node) {
                Ok(c) => c,
                Err(why) => return Ok(Err(why)),
            };
            fold_into_conv(g, &conv, &s, &t, out, bn)?;
        }
        Op::Gemm { alpha, beta, trans_a, trans_b } => {
            let gi = g.inputs_of(x.node);
            let Some((b_shape, b)) = const_f64(g, gi[1]) else {
                return Ok(Err(format!("the Gemm B '%{}' is not a constant", g.value_name(gi[1]))));
            };
            let c = match gi.get(2) {
                None => None,
                Some(c) => match const_f64(g, *c) {
                    Some(c) => Some(c),
                    None => return Ok(Err(format!("the Gemm C '%{}' is not a constant", g.value_name(*c)))),
                },
            };
            let (m, n) = (g.value_type(x).shape[0], g.value_type(x).shape[1]);
            // Column n of op(B): B[k, n] without transpose, B[n, k] with.
            let b2: Vec<f64> = b
                .iter()
                .enumerate()
                .map(|(i, v)| v * s[if trans_b { i / b_shape[1] } else { i % b_shape[1] }])
                .collect();
            let (c_shape, c2) = match c {
                None => (vec![n], t.clone()),
                Some((cs, cd)) => {
                    let (cm, cn) = match cs.as_slice() {
                        [] => (1, 1),
                        [cn] => (1, *cn),
                        [cm, cn] => (*cm, *cn),
                        _ => return Ok(Err("the Gemm C has rank > 2".into())),
                    };
                    let mut data = Vec::with_capacity(cm * n);
                    for i in 0..cm {
                        for j in 0..n {
                            let cv = cd[i * cn + if cn == 1 { 0 } else { j }];
                            data.push(beta as f64 * cv * s[j] + t[j]);
                        }
                    }
                    (if cm == 1 { vec![n] } else { vec![m, n] }, data)
                }
            };
            let dt = g.value_type(out).dtype;
            let hint = g.value_name(out).to_string();
            let bv = add_float_const(g, NAME, &format!("{hint}.B"), dt, &b_shape, b2)?;
            let cv = add_float_const(g, NAME, &format!("{hint}.C"), dt, &c_shape, c2)?;
            let op = Op::Gemm { alpha, beta: 1.0, trans_a, trans_b };
            let new = add_op(g, NAME, op, &[gi[0], bv, cv], &hint)?;
            swap_in(g, out, new, &[bn, x.node]);
        }
        Op::MatMul => {
            let mi = g.inputs_of(x.node);
            if g.value_type(mi[0]).rank() != 2 {
                return Ok(Err(format!("the MatMul lhs '%{}' is not 2-D", g.value_name(mi[0]))));
            }
            let Some((w_shape, w)) = const_f64(g, mi[1]).filter(|(s, _)| s.len() == 2) else {
                return Ok(Err(format!("the MatMul rhs '%{}' is not a 2-D constant", g.value_name(mi[1]))));
            };
            let n = w_shape[1];
            let w2: Vec<f64> = w.iter().enumerate().map(|(i, v)| v * s[i % n]).collect();
            let dt = g.value_type(out).dtype;
            let hint = g.value_name(out).to_string();
            let wv = add_float_const(g, NAME, &format!("{hint}.B"), dt, &w_shape, w2)?;
            let cv = add_float_const(g, NAME, &format!("{hint}.C"), dt, &[n], t)?;
            let op = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false };
            let new = add_op(g, NAME, op, &[mi[0], wv, cv], &hint)?;
            swap_in(g, out, new, &[bn, x.node]);
        }
        _ => unreachable!("checked above"),
    }
    Ok(Ok(()))
}

/// Fold `Mul(conv, c)` / `Add(conv, c)` with a per-channel constant `c` into the Conv.
fn fold_channel_binary(g: &mut Graph, n: NodeIndex, op: BinaryOp) -> Result<bool, PassError> {
    let Some((x, c)) = split_const_operand(g, n) else { return Ok(false) };
    if !matches!(g.node(x.node).op, Op::Conv { .. }) || !only_read_by(g, x, n) {
        return Ok(false);
    }
    let out = ValueRef::new(n, 0);
    let ty = g.value_type(x).clone();
    if g.value_type(out) != &ty {
        return Ok(false);
    }
    let Some(v) = channel_vector(g, c, &ty) else { return Ok(false) };
    let Ok(conv) = const_conv(g, x.node) else { return Ok(false) };
    let ch = v.len();
    let (s, t) = match op {
        BinaryOp::Mul => (v, vec![0.0; ch]),
        _ => (vec![1.0; ch], v),
    };
    fold_into_conv(g, &conv, &s, &t, out, n)?;
    Ok(true)
}
