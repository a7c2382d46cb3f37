//! Fuse a constant bias Add into the MatMul or Conv that produces its other operand.
//!
//! Identities relied on:
//! - `MatMul(a, W) + b` with `a` `[M, K]`, `W` `[K, N]` and `b` a constant that varies at most along
//!   the last dim (`[N]`, `[1, N]`, a scalar ...) equals `Gemm {alpha 1, beta 1}(a, W, b')` with
//!   `b'` the `[N]` row of `b` (Gemm broadcasts C over the rows). For `a` of rank >= 3
//!   (`[B, S, K]`), MatMul with a 2-D `W` acts on each row independently, so it is
//!   `Reshape([B*S, K]) -> Gemm -> Reshape([B, S, N])`.
//! - `Conv(x, w, b) + c` with `c` a per-output-channel constant (`[C,1,1]`, `[1,C,1,1]`, a
//!   scalar) equals `Conv(x, w, b + c)` since the bias is added to every position of its channel.
//!
//! Holds when `W` (MatMul case), `b`, `c` and the Conv's own bias are constants and the MatMul /
//! Conv result is read only by that Add, and the Add does not broadcast the result to a larger
//! shape. Otherwise the graph is left alone.

use crate::rewrite::{add_float_const, add_op, const_f64, only_read_by};
use crate::rewrite::{channel_vector, split_const_operand, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "fuse-bias";

pub struct FuseBias;

impl Pass for FuseBias {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            if !graph.contains_node(n) || graph.node(n).op != Op::Binary(BinaryOp::Add) {
                continue;
            }
            let Some((x, c)) = split_const_operand(graph, n) else { continue };
            let out = ValueRef::new(n, 0);
            if graph.value_type(out) != graph.value_type(x) {
                continue;
            }
            let what = graph.node(x.node).op.name();
            if !matches!(graph.node(x.node).op, Op::MatMul | Op::Conv { .. }) {
                continue;
            }
            if !only_read_by(graph, x, n) {
                cx.notes.push(format!(
                    "left Add '%{}': the {what} output '%{}' is also read elsewhere",
                    graph.value_name(out),
                    graph.value_name(x)
                ));
                continue;
            }
            let done = if graph.node(x.node).op == Op::MatMul {
                fuse_matmul(graph, n, x, c)?
            } else {
                fuse_conv(graph, n, x, c)?
            };
            match done {
                Ok(()) => changed = true,
                Err(why) => cx.notes.push(format!("left Add '%{}': {why}", graph.value_name(out))),
            }
        }
        Ok(changed)
    }
}

/// `Add(MatMul(a, W), c)` -> Gemm (with Reshapes around it for rank >= 3 `a`).
fn fuse_matmul(g: &mut Graph, add: NodeIndex, mm: ValueRef, c: ValueRef) -> Result<Result<(), String>, PassError> {
    let ins = g.inputs_of(mm.node);
    let (a, w) = (ins[0], ins[1]);
    let a_shape = g.value_type(a).shape.clone();
    if a_shape.len() < 2 {
        return Ok(Err(format!("the MatMul lhs '%{}' has rank < 2", g.value_name(a))));
    }
    if g.value_type(w).rank() != 2 || g.constant_value(w).is_none() {
        return Ok(Err(format!("the MatMul rhs '%{}' is not a 2-D constant", g.value_name(w))));
    }
    let out_shape = g.value_type(mm).shape.clone();
    let n = out_shape[out_shape.len() - 1];
    let Some(bias) = row_vector(g, c, &out_shape) else {
        return Ok(Err(format!("the bias '%{}' is not constant along all but the last dim", g.value_name(c))));
    };
    let out = ValueRef::new(add, 0);
    let dt = g.value_type(out).dtype;
    let hint = g.value_name(out).to_string();
    let cv = add_float_const(g, NAME, &format!("{hint}.C"), dt, &[n], bias)?;
    let gemm = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false };
    let new = if a_shape.len() == 2 {
        add_op(g, NAME, gemm, &[a, w, cv], &hint)?
    } else {
        let k = a_shape[a_shape.len() - 1];
        let rows: usize = a_shape[..a_shape.len() - 1].iter().product();
        let a2 = add_op(g, NAME, Op::Reshape { shape: vec![rows, k] }, &[a], &format!("{hint}.rows"))?;
        let y2 = add_op(g, NAME, gemm, &[a2, w, cv], &format!("{hint}.gemm"))?;
        add_op(g, NAME, Op::Reshape { shape: out_shape }, &[y2], &hint)?
    };
    swap_in(g, out, new, &[add, mm.node]);
    Ok(Ok(()))
}

/// The `[N]` values of constant `c` when it broadcasts against `shape` (last dim `N`) without
/// growing it and varies at most along the last dim.
fn row_vector(g: &Graph, c: ValueRef, shape: &[usize]) -> Option<Vec<f64>> {
    let (cs, data) = const_f64(g, c)?;
    let n = *shape.last()?;
    if cs.len() > shape.len() || cs.iter().rev().skip(1).any(|d| *d != 1) {
        return None;
    }
    match data.len() {
        1 => Some(vec![data[0]; n]),
        l if l == n => Some(data),
        _ => None,
    }
}

/// `Add(Conv(x, w[, b]), c)` -> `Conv(x, w, b + c)`.
fn fuse_conv(g: &mut Graph, add: NodeIndex, conv: ValueRef, c: ValueRef) -> Result<Result<(), String>, PassError> {
    let ty = g.value_type(conv).clone();
    let Some(cvec) = channel_vector(g, c, &ty) else {
        return Ok(Err(format!("the addend '%{}' is not a per-output-channel constant", g.value_name(c))));
    };
    let ins = g.inputs_of(conv.node);
    let b = match ins.get(2) {
        None => vec![0.0; cvec.len()],
        Some(b) => match const_f64(g, *b) {
            Some((_, d)) => d,
            None => return Ok(Err(format!("the Conv bias '%{}' is not a constant", g.value_name(*b)))),
        },
    };
    let out = ValueRef::new(add, 0);
    let hint = g.value_name(out).to_string();
    let sum: Vec<f64> = b.iter().zip(&cvec).map(|(b, c)| b + c).collect();
    let bv = add_float_const(g, NAME, &format!("{hint}.b"), ty.dtype, &[sum.len()], sum)?;
    let op = g.node(conv.node).op.clone();
    let new = add_op(g, NAME, op, &[ins[0], ins[1], bv], &hint)?;
    swap_in(g, out, new, &[add, conv.node]);
    Ok(Ok(()))
}
