//! Pre-LN -> Pre-RMSNorm ("Pre-RMSNorm and Pre-CRMSNorm Transformers: Equivalent and Efficient
//! Pre-LN Transformers", NeurIPS 2023).
//!
//! Identities: `LayerNorm(x) = RMSNorm(x)` when every row of `x` has mean 0, and
//! `LayerNorm(x + c) = LayerNorm(x)` for a per-row constant `c`. In a Pre-LN transformer the
//! residual stream is read only by LayerNorms over the hidden (last) axis and by the residual adds,
//! so its row mean is never observed. Making every write into the stream zero-mean therefore
//! changes no output, and then every LayerNorm reading the stream can be an RMSNorm with the same
//! gamma, beta and epsilon.
//!
//! The stream is found from each last-axis LayerNorm's input: a stream value produced by an Add is
//! a residual add; an operand of it that a LayerNorm also reads is the previous stream value, any
//! other operand is a write (a write that is itself an Add read only there splits into its
//! operands). Writes are made zero-mean where the weights allow it:
//! - a constant (position table) or a Gather of rows of a constant table (token embedding): each
//!   row minus its mean (a new constant; the original stays for other readers such as tied heads);
//! - a linear layer `MatMul(h, W) (+ b)` or `Gemm(h, W, b)` with constant weights: the output side
//!   projected, `W <- W (I - 11^T/d)`, `b <- b - mean(b)`; a Reshape that keeps the last dim is
//!   looked through.
//!
//! Preconditions, checked on the graph; where one fails the component is left unchanged and a
//! note says why: every reader of a stream value is a last-axis LayerNorm or a residual add of the
//! stream (Post-LN as in BERT and a stream read by anything else fail), no stream value is a graph
//! output, every write has the stream's hidden size, is read only by the stream, and is one of the
//! foldable forms above (norms on sublayer outputs as in Peri-LN fail here).

use crate::rewrite::{add_float_const, add_op, const_f64, producer, replace};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};
use std::collections::{BTreeSet, HashSet};

pub struct PreLnToRmsNorm;

const NAME: &str = "pre-ln-to-rmsnorm";

impl Pass for PreLnToRmsNorm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut done: HashSet<NodeIndex> = HashSet::new();
        let mut changed = false;
        // Seeds from the last LayerNorm backwards, so the component is found from its end.
        for ln in order.into_iter().rev() {
            if done.contains(&ln) || !graph.contains_node(ln) || !is_last_axis_ln(graph, ln) {
                continue;
            }
            let x = graph.inputs_of(ln)[0];
            match Stream::find(graph, x) {
                Err(why) => {
                    done.insert(ln);
                    cx.notes.push(format!("LayerNorm '{}' kept: {why}", out_name(graph, ln)));
                }
                Ok(stream) => {
                    done.extend(stream.norms.iter().copied());
                    stream.rewrite(graph)?;
                    cx.notes.push(format!(
                        "{} LayerNorms -> RmsNorm ({} writes into the residual stream made zero-mean)",
                        stream.norms.len(),
                        stream.writes.len()
                    ));
                    changed = true;
                }
            }
        }
        Ok(changed)
    }
}

fn out_name(g: &Graph, n: NodeIndex) -> String {
    g.node(n).outputs[0].name.clone()
}

fn is_last_axis_ln(g: &Graph, n: NodeIndex) -> bool {
    match &g.node(n).op {
        Op::LayerNorm { axis, .. } => *axis + 1 == g.node(n).outputs[0].ty.rank(),
        _ => false,
    }
}

/// Whether `v` is read (as x) by a last-axis LayerNorm.
fn read_by_ln(g: &Graph, v: ValueRef) -> bool {
    g.users_of(v).iter().any(|(u, port)| *port == 0 && is_last_axis_ln(g, *u))
}

fn is_add(g: &Graph, v: ValueRef) -> bool {
    matches!(producer(g, v), Op::Binary(BinaryOp::Add))
}

/// How a write into the stream is made zero-mean.
enum Fold {
    /// A constant: replace it (for this reader) by its row-centered copy.
    Constant(ValueRef),
    /// `Gather(table, idx, axis 0)` of a 2-D constant table.
    GatherRows { gather: NodeIndex },
    /// The weight (and bias) operands of a linear layer: (node, operand port, axis of the output
    /// dim in that operand, `usize::MAX` for the last).
    Linear { weights: Vec<(NodeIndex, usize, usize)> },
}

/// One residual stream: its values, the LayerNorms reading it and the writes into it.
struct Stream {
    norms: BTreeSet<NodeIndex>,
    writes: Vec<(ValueRef, Fold)>,
}

impl Stream {
    fn find(g: &Graph, x: ValueRef) -> Result<Stream, String> {
        let d = *g.value_type(x).shape.last().ok_or("the normalized input is a scalar")?;
        let mut values: Vec<ValueRef> = Vec::new();
        let mut seen: HashSet<ValueRef> = HashSet::new();
        let mut write_values: Vec<(ValueRef, NodeIndex)> = Vec::new(); // (write, the stream add reading it)
        let mut work = vec![x];
        let mut sources: Vec<ValueRef> = Vec::new(); // stream values not produced by a residual add
        while let Some(v) = work.pop() {
            if !seen.insert(v) {
                continue;
            }
            values.push(v);
            if !is_add(g, v) {
                sources.push(v);
                continue;
            }
            for u in g.inputs_of(v.node) {
                if read_by_ln(g, u) {
                    work.push(u);
                } else {
                    split_write(g, u, v.node, &mut write_values);
                }
            }
        }
        let stream_adds: HashSet<NodeIndex> = values.iter().map(|v| v.node).collect();
        let mut norms = BTreeSet::new();
        for v in &values {
            if g.is_graph_output(*v) {
                return Err(format!("stream value '{}' is a graph output (its mean is observable)", g.value_name(*v)));
            }
            if g.value_type(*v).shape.last() != Some(&d) {
                return Err(format!("stream value '{}' has another hidden size than {d}", g.value_name(*v)));
            }
            for (u, port) in g.users_of(*v) {
                if port == 0 && is_last_axis_ln(g, u) {
                    norms.insert(u);
                } else if !stream_adds.contains(&u) {
                    return Err(format!(
                        "stream value '{}' is also read by {} '{}' (a Post-LN or otherwise non-Pre-LN layout)",
                        g.value_name(*v),
                        g.node(u).op.name(),
                        out_name(g, u)
                    ));
                }
            }
        }
        let mut writes = Vec::new();
        for v in sources {
            // its readers are the stream's (checked above), so its producer can change for all
            writes.push((v, fold_of(g, v, d)?));
        }
        for (w, reader) in write_values {
            let readers: Vec<NodeIndex> = g.users_of(w).into_iter().map(|(u, _)| u).collect();
            if g.is_graph_output(w) || readers.iter().any(|u| *u != reader) {
                return Err(format!("the write '{}' into the residual stream is also read elsewhere", g.value_name(w)));
            }
            if g.value_type(w).shape.last() != Some(&d) {
                return Err(format!("the write '{}' does not span the hidden size {d}", g.value_name(w)));
            }
            writes.push((w, fold_of(g, w, d)?));
        }
        Ok(Stream { norms, writes })
    }

    fn rewrite(&self, g: &mut Graph) -> Result<(), PassError> {
        for (w, fold) in &self.writes {
            match fold {
                Fold::Constant(c) => {
                    let centered = centered_const(g, *c, usize::MAX)?;
                    replace(g, *w, centered);
                }
                Fold::GatherRows { gather } => {
                    let table = g.inputs_of(*gather)[0];
                    let mut ins = g.inputs_of(*gather);
                    ins[0] = centered_const(g, table, usize::MAX)?;
                    rebuild_with(g, *gather, &ins)?;
                }
                Fold::Linear { weights } => {
                    let nodes: BTreeSet<NodeIndex> = weights.iter().map(|(n, _, _)| *n).collect();
                    for node in nodes {
                        let mut ins = g.inputs_of(node);
                        for (_, port, axis) in weights.iter().filter(|(n, _, _)| *n == node) {
                            ins[*port] = centered_const(g, ins[*port], *axis)?;
                        }
                        rebuild_with(g, node, &ins)?;
                    }
                }
            }
        }
        for ln in &self.norms {
            let Op::LayerNorm { axis, epsilon } = g.node(*ln).op.clone() else { continue };
            let ins = g.inputs_of(*ln);
            let name = out_name(g, *ln);
            let rms = add_op(g, NAME, Op::RmsNorm { axis, epsilon }, &ins, &format!("{name}.rms"))?;
            replace(g, ValueRef::new(*ln, 0), rms);
            g.remove_node(*ln);
            g.rename_value(rms, name);
        }
        Ok(())
    }
}

/// Split a write that is itself an Add read only by the stream into its operands.
fn split_write(g: &Graph, w: ValueRef, reader: NodeIndex, out: &mut Vec<(ValueRef, NodeIndex)>) {
    let only_reader = !g.is_graph_output(w) && g.users_of(w).iter().all(|(u, _)| *u == reader);
    let is_bias_add = g.inputs_of(w.node).iter().any(|u| g.constant_value(*u).is_some());
    if is_add(g, w)
        && only_reader
        && !is_bias_add
        && g.value_type(w).shape.last() == g.value_type(g.inputs_of(w.node)[0]).shape.last()
    {
        for u in g.inputs_of(w.node) {
            split_write(g, u, w.node, out);
        }
    } else {
        out.push((w, reader));
    }
}

/// How to make the write `w` (last dim `d`) zero-mean, or why it cannot be.
fn fold_of(g: &Graph, w: ValueRef, d: usize) -> Result<Fold, String> {
    let op = producer(g, w);
    let ins = g.inputs_of(w.node);
    let refuse =
        || format!("the write '{}' into the residual stream ({}) cannot absorb the mean", g.value_name(w), op.name());
    match op {
        Op::Constant(t) if t.dtype().is_float() => Ok(Fold::Constant(w)),
        Op::Gather { axis: 0 }
            if g.constant_value(ins[0]).is_some_and(|t| t.shape().len() == 2 && t.dtype().is_float()) =>
        {
            Ok(Fold::GatherRows { gather: w.node })
        }
        Op::Reshape { .. } => {
            let src = ins[0];
            if g.value_type(src).shape.last() == Some(&d) && g.users_of(src).len() == 1 && !g.is_graph_output(src) {
                fold_of(g, src, d)
            } else {
                Err(refuse())
            }
        }
        Op::MatMul => {
            let wt = g.value_type(ins[1]);
            if const_f64(g, ins[1]).is_some() && wt.rank() == 2 {
                Ok(Fold::Linear { weights: vec![(w.node, 1, 1)] })
            } else {
                Err(refuse())
            }
        }
        Op::Gemm { trans_b, .. } => {
            if const_f64(g, ins[1]).is_none() {
                return Err(refuse());
            }
            let mut weights = vec![(w.node, 1, if *trans_b { 0 } else { 1 })];
            if ins.len() > 2 {
                if const_f64(g, ins[2]).is_none() {
                    return Err(refuse());
                }
                weights.push((w.node, 2, usize::MAX));
            }
            Ok(Fold::Linear { weights })
        }
        Op::Binary(BinaryOp::Add) => {
            // a linear layer with a bias: one operand a constant bias, the other a foldable layer
            let (bias_port, other) = match (const_f64(g, ins[0]).is_some(), const_f64(g, ins[1]).is_some()) {
                (false, true) => (1, ins[0]),
                (true, false) => (0, ins[1]),
                _ => return Err(refuse()),
            };
            if g.users_of(other).len() != 1 || g.is_graph_output(other) {
                return Err(refuse());
            }
            match fold_of(g, other, d)? {
                Fold::Linear { mut weights } => {
                    weights.push((w.node, bias_port, usize::MAX));
                    Ok(Fold::Linear { weights })
                }
                _ => Err(refuse()),
            }
        }
        _ => Err(refuse()),
    }
}

/// A copy of constant `v` centered along `axis` (`usize::MAX`: the last axis); a length-1 axis
/// (a bias broadcast over the hidden dim) is not allowed by the callers' shape checks.
fn centered_const(g: &mut Graph, v: ValueRef, axis: usize) -> Result<ValueRef, PassError> {
    let (shape, mut data) = const_f64(g, v).ok_or_else(|| PassError::Failed {
        pass: NAME.into(),
        msg: format!("'{}' is not a float constant", g.value_name(v)),
    })?;
    let dt = g.value_type(v).dtype;
    let axis = if axis == usize::MAX { shape.len().saturating_sub(1) } else { axis };
    if !shape.is_empty() {
        let n = shape[axis];
        let inner: usize = shape[axis + 1..].iter().product();
        let outer: usize = shape[..axis].iter().product();
        for o in 0..outer {
            for i in 0..inner {
                let idx = |k: usize| (o * n + k) * inner + i;
                let mean = (0..n).map(|k| data[idx(k)]).sum::<f64>() / n as f64;
                for k in 0..n {
                    data[idx(k)] -= mean;
                }
            }
        }
    }
    let name = format!("{}.centered", g.value_name(v));
    add_float_const(g, NAME, &name, dt, &shape, data)
}

/// Replace node `n` by the same op on `ins`, keeping its output names.
fn rebuild_with(g: &mut Graph, n: NodeIndex, ins: &[ValueRef]) -> Result<(), PassError> {
    let op = g.node(n).op.clone();
    let names: Vec<String> = g.node(n).outputs.iter().map(|o| o.name.clone()).collect();
    let outs = g.add_node(op, ins).map_err(|e| PassError::ir(NAME, e))?;
    for (p, o) in outs.iter().enumerate() {
        g.replace_all_uses(ValueRef::new(n, p), *o);
    }
    g.remove_node(n);
    for (o, name) in outs.into_iter().zip(names) {
        g.rename_value(o, name);
    }
    Ok(())
}
