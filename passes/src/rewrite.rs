//! Small graph-editing helpers shared by the passes: reading producers and constants, checking
//! single use, building constants in a value's dtype, and adding nodes with readable names.

use crate::PassError;
use kiln_ir::{BinaryOp, DType, Graph, NodeIndex, Op, ReduceOp, Tensor, TensorType, UnaryOp, ValueRef};
use std::sync::Arc;

/// The op producing `v`.
pub fn producer(g: &Graph, v: ValueRef) -> &Op {
    &g.node(v.node).op
}

/// The node's operands (same as `Graph::inputs_of`).
pub fn operands(g: &Graph, n: NodeIndex) -> Vec<ValueRef> {
    g.inputs_of(n)
}

/// The single reader of `v` (node, port), if `v` has exactly one reader and is not a graph output.
pub fn single_user(g: &Graph, v: ValueRef) -> Option<(NodeIndex, usize)> {
    if g.is_graph_output(v) {
        return None;
    }
    match g.users_of(v).as_slice() {
        [u] => Some(*u),
        _ => None,
    }
}

/// Whether `v` is read only by `n` (possibly on several ports) and is not a graph output.
pub fn only_read_by(g: &Graph, v: ValueRef, n: NodeIndex) -> bool {
    !g.is_graph_output(v) && g.users_of(v).iter().all(|(u, _)| *u == n)
}

/// The value of `v` as f64s with its shape, when `v` is a float constant.
pub fn const_f64(g: &Graph, v: ValueRef) -> Option<(Vec<usize>, Vec<f64>)> {
    let t = g.constant_value(v)?;
    t.dtype().is_float().then(|| (t.shape().to_vec(), t.to_f64_vec()))
}

/// Whether `v` is a constant whose every element equals `x`.
pub fn is_splat(g: &Graph, v: ValueRef, x: f64) -> bool {
    g.constant_value(v).is_some_and(|t| t.to_f64_vec().iter().all(|e| *e == x))
}

/// A tensor of float dtype `dt` from f64 data (rounded once).
pub fn float_tensor(dt: DType, shape: &[usize], data: Vec<f64>) -> Result<Tensor, kiln_ir::IrError> {
    match dt {
        DType::F64 => Tensor::from_f64(shape, data),
        DType::F32 => Tensor::from_f32(shape, data.into_iter().map(|v| v as f32).collect()),
        DType::F16 => Tensor::from_vec(shape, data.into_iter().map(kiln_ir::half::f16::from_f64).collect()),
        DType::BF16 => Tensor::from_vec(shape, data.into_iter().map(kiln_ir::half::bf16::from_f64).collect()),
        d => Err(kiln_ir::IrError::Eval(format!("not a float dtype: {d}"))),
    }
}

/// Add a float constant of dtype `dt` named after `hint`.
pub fn add_float_const(
    g: &mut Graph,
    pass: &str,
    hint: &str,
    dt: DType,
    shape: &[usize],
    data: Vec<f64>,
) -> Result<ValueRef, PassError> {
    let t = float_tensor(dt, shape, data).map_err(|e| PassError::ir(pass, e))?;
    Ok(g.add_constant(hint, Arc::new(t)))
}

/// Add `op` on `inputs` with its first output named after `hint`; returns that output.
pub fn add_op(g: &mut Graph, pass: &str, op: Op, inputs: &[ValueRef], hint: &str) -> Result<ValueRef, PassError> {
    let outs = g.add_node_named(op, inputs, &[hint]).map_err(|e| PassError::ir(pass, e))?;
    Ok(outs[0])
}

/// Point every reader of `old` at `new`. The old producer stays for dead-code to remove.
pub fn replace(g: &mut Graph, old: ValueRef, new: ValueRef) {
    g.replace_all_uses(old, new);
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The per-channel values (length `ty.shape[1]`) of constant `c` when `c` broadcasts against a
/// value of type `ty` (rank >= 2, channels at dim 1) without growing it and varies at most along
/// the channel dim: e.g. `[C,1,1]`, `[1,C,1,1]`, `[1]` or a scalar against `[N,C,H,W]`.
pub fn channel_vector(g: &Graph, c: ValueRef, ty: &TensorType) -> Option<Vec<f64>> {
    let (shape, data) = const_f64(g, c)?;
    if g.value_type(c).dtype != ty.dtype || ty.rank() < 2 || shape.len() > ty.rank() {
        return None;
    }
    let ch = ty.shape[1];
    let off = ty.rank() - shape.len();
    let ok = shape.iter().enumerate().all(|(i, d)| *d == 1 || (off + i == 1 && *d == ch));
    match data.len() {
        _ if !ok => None,
        1 => Some(vec![data[0]; ch]),
        l if l == ch => Some(data),
        _ => None,
    }
}

/// For a binary node with one constant operand: (the other operand, the constant).
pub fn split_const_operand(g: &Graph, n: NodeIndex) -> Option<(ValueRef, ValueRef)> {
    let ins = g.inputs_of(n);
    if ins.len() != 2 {
        return None;
    }
    if g.constant_value(ins[1]).is_some() {
        Some((ins[0], ins[1]))
    } else if g.constant_value(ins[0]).is_some() {
        Some((ins[1], ins[0]))
    } else {
        None
    }
}

/// Point every reader of `old` at `new`, remove the `dead` nodes that no longer have readers (in
/// the order given: consumers first), and give `new` the old value's name.
pub fn swap_in(g: &mut Graph, old: ValueRef, new: ValueRef, dead: &[NodeIndex]) {
    let name = g.value_name(old).to_string();
    g.replace_all_uses(old, new);
    for n in dead {
        if !g.contains_node(*n) {
            continue;
        }
        let unread = (0..g.node(*n).outputs.len()).all(|p| {
            let v = ValueRef::new(*n, p);
            g.users_of(v).is_empty() && !g.is_graph_output(v)
        });
        if unread {
            g.remove_node(*n);
        }
    }
    g.rename_value(new, name);
}

/// A constant bias as a vector of length `n`, when it broadcasts along the last axis only (shape
/// `[n]` or `[1]` or `[]`, after dropping leading 1s).
pub fn bias_vec(g: &Graph, b: ValueRef, n: usize) -> Option<Vec<f64>> {
    let (shape, data) = const_f64(g, b)?;
    let dims: Vec<usize> = shape.iter().copied().skip_while(|d| *d == 1).collect();
    match dims.as_slice() {
        [] => Some(vec![data[0]; n]),
        [m] if *m == n => Some(data),
        _ => None,
    }
}

/// `a [m x k] @ b [k x n]`, row-major.
pub fn matmul(a: &[f64], m: usize, k: usize, b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let av = a[i * k + p];
            if av == 0.0 {
                continue;
            }
            for j in 0..n {
                out[i * n + j] += av * b[p * n + j];
            }
        }
    }
    out
}

/// Point every reader of `old` at `new` and hand `old`'s name to `new` (the old node keeps a
/// derived name until dead-code removes it).
pub fn replace_keeping_name(g: &mut Graph, old: ValueRef, new: ValueRef) {
    replace(g, old, new);
    let name = g.value_name(old).to_string();
    let spare = g.unique_name(&format!("{name}.unfused"));
    if g.rename_value(old, spare) {
        g.rename_value(new, name);
    }
}

/// Every output of every node of `nodes` but `root` is read only by `nodes` and is no graph output.
pub fn confined(g: &Graph, nodes: &[NodeIndex], root: NodeIndex) -> Result<(), String> {
    for &n in nodes.iter().filter(|n| **n != root) {
        for p in 0..g.node(n).outputs.len() {
            let v = ValueRef::new(n, p);
            if g.is_graph_output(v) {
                return Err(format!("intermediate '{}' is a graph output", g.value_name(v)));
            }
            if g.users_of(v).iter().any(|(u, _)| !nodes.contains(u)) {
                return Err(format!("intermediate '{}' is also read outside the pattern", g.value_name(v)));
            }
        }
    }
    Ok(())
}

// ---- matching a value's producer ----

/// The value of a one-element numeric constant.
pub fn scalar(g: &Graph, v: ValueRef) -> Option<f64> {
    let t = g.constant_value(v)?;
    (t.len() == 1 && t.dtype() != kiln_ir::DType::Bool).then(|| t.to_f64_vec()[0])
}

/// The operands of `v`'s producer when it is the binary `op`.
pub fn binary(g: &Graph, v: ValueRef, op: BinaryOp) -> Option<(ValueRef, ValueRef)> {
    match producer(g, v) {
        Op::Binary(b) if *b == op => match operands(g, v.node).as_slice() {
            [a, b] => Some((*a, *b)),
            _ => None,
        },
        _ => None,
    }
}

/// The operand of `v`'s producer when it is the unary `op`.
pub fn unary(g: &Graph, v: ValueRef, op: UnaryOp) -> Option<ValueRef> {
    match producer(g, v) {
        Op::Unary(u) if *u == op => match operands(g, v.node).as_slice() {
            [a] => Some(*a),
            _ => None,
        },
        _ => None,
    }
}

/// `(input, axes, keep_dims)` of `v`'s producer when it is the reduction `op`.
pub fn reduce(g: &Graph, v: ValueRef, op: ReduceOp) -> Option<(ValueRef, Vec<usize>, bool)> {
    match producer(g, v) {
        Op::Reduce { op: o, axes, keep_dims } if *o == op => match operands(g, v.node).as_slice() {
            [a] => Some((*a, axes.clone(), *keep_dims)),
            _ => None,
        },
        _ => None,
    }
}
