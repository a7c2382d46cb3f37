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

/// One change that makes a write into the stream zero-mean along the hidden axis.
enum Edit {
    /// Replace constant operand `port` of `node` (for that node only) by its copy centered along
    /// `axis`.
    Operand { node: NodeIndex, port: usize, axis: usize },
    /// Replace the constant `value` (read only by the stream) by its copy centered along `axis`.
    Value { value: ValueRef, axis: usize },
}

/// One residual stream: its values, the LayerNorms reading it and the writes into it.
struct Stream {
    norms: BTreeSet<NodeIndex>,
    writes: Vec<(ValueRef, Vec<Edit>)>,
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
            writes.push((v, fold_of(g, v, last_axis(g, v))?));
        }
        for (w, reader) in write_values {
            let readers: Vec<NodeIndex> = g.users_of(w).into_iter().map(|(u, _)| u).collect();
            if g.is_graph_output(w) || readers.iter().any(|u| *u != reader) {
                return Err(format!("the write '{}' into the residual stream is also read elsewhere", g.value_name(w)));
            }
            if g.value_type(w).shape.last() != Some(&d) {
                return Err(format!("the write '{}' does not span the hidden size {d}", g.value_name(w)));
            }
            writes.push((w, fold_of(g, w, last_axis(g, w))?));
        }
        Ok(Stream { norms, writes })
    }

    fn rewrite(&self, g: &mut Graph) -> Result<(), PassError> {
        for (_, edits) in &self.writes {
            let mut nodes: Vec<NodeIndex> = Vec::new();
            for e in edits {
                match e {
                    Edit::Value { value, axis } => {
                        let centered = centered_const(g, *value, *axis)?;
                        replace(g, *value, centered);
                    }
                    Edit::Operand { node, .. } if !nodes.contains(node) => nodes.push(*node),
                    Edit::Operand { .. } => {}
                }
            }
            for node in nodes {
                let mut ins = g.inputs_of(node);
                for e in edits {
                    if let Edit::Operand { node: n, port, axis } = e {
                        if *n == node {
                            ins[*port] = centered_const(g, ins[*port], *axis)?;
                        }
                    }
                }
                rebuild_with(g, node, &ins)?;
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

fn last_axis(g: &Graph, v: ValueRef) -> usize {
    g.value_type(v).rank().saturating_sub(1)
}

/// Whether `u` is read only by node `n` (so changing it changes nothing else).
fn private_to(g: &Graph, u: ValueRef, n: NodeIndex) -> bool {
    !g.is_graph_output(u) && g.users_of(u).iter().all(|(r, _)| *r == n)
}

/// The edits that make the write `w` zero-mean along its axis `h` (the stream's hidden axis as
/// it lies in `w`), or why it cannot be. Followed through ops that keep the hidden dim as one axis:
/// Transpose, a Reshape that keeps the dims up to it, Concat and Expand along other axes, and a
/// linear layer's bias Add; ends at constants, row gathers of a constant table, and linear layers
/// (MatMul / Gemm over the last axis, Conv over channels) with constant weights.
fn fold_of(g: &Graph, w: ValueRef, h: usize) -> Result<Vec<Edit>, String> {
    let op = producer(g, w);
    let ins = g.inputs_of(w.node);
    let last = h + 1 == g.value_type(w).rank();
    let refuse =
        || format!("the write '{}' into the residual stream ({}) cannot absorb the mean", g.value_name(w), op.name());
    // Follow operand `u` (which must feed only this node) with its hidden axis at `hu`.
    let follow = |u: ValueRef, hu: usize| -> Result<Vec<Edit>, String> {
        if !private_to(g, u, w.node) {
            return Err(format!("'{}' (on the way to the residual stream) is also read elsewhere", g.value_name(u)));
        }
        fold_of(g, u, hu)
    };
    match op {
        Op::Constant(t) if t.dtype().is_float() => Ok(vec![Edit::Value { value: w, axis: h }]),
        Op::Gather { axis: 0 }
            if last && g.constant_value(ins[0]).is_some_and(|t| t.dtype().is_float() && t.shape().len() >= 2) =>
        {
            Ok(vec![Edit::Operand { node: w.node, port: 0, axis: g.value_type(ins[0]).rank() - 1 }])
        }
        Op::Transpose { perm } => follow(ins[0], perm[h]),
        Op::Reshape { .. } => {
            let (src, out) = (&g.value_type(ins[0]).shape, &g.value_type(w).shape);
            let before: usize = out[..h].iter().product();
            // the source axis with the same extent and the same number of elements before it
            let hs = (0..src.len()).find(|&a| src[..a].iter().product::<usize>() == before && src[a] == out[h]);
            match hs {
                Some(hs) => follow(ins[0], hs),
                None => Err(refuse()),
            }
        }
        Op::Concat { axis } if *axis != h => {
            let mut edits = Vec::new();
            for u in &ins {
                edits.extend(follow(*u, h)?);
            }
            Ok(edits)
        }
        Op::Expand { .. } => {
            let (src, out) = (g.value_type(ins[0]).rank(), g.value_type(w).rank());
            match g.constant_value(ins[0]) {
                Some(t) if t.dtype().is_float() && h + src >= out => {
                    Ok(vec![Edit::Operand { node: w.node, port: 0, axis: h + src - out }])
                }
                _ => Err(refuse()),
            }
        }
        Op::MatMul if last && const_f64(g, ins[1]).is_some_and(|(s, _)| s.len() == 2) => {
            Ok(vec![Edit::Operand { node: w.node, port: 1, axis: 1 }])
        }
        Op::Gemm { trans_b, .. } if last && const_f64(g, ins[1]).is_some() => {
            let mut edits = vec![Edit::Operand { node: w.node, port: 1, axis: if *trans_b { 0 } else { 1 } }];
            if let Some(c) = ins.get(2) {
                if const_f64(g, *c).is_none() {
                    return Err(refuse());
                }
                let rank = g.value_type(*c).rank();
                edits.push(Edit::Operand { node: w.node, port: 2, axis: rank.saturating_sub(1) });
            }
            Ok(edits)
        }
        Op::Conv { .. }
            if h == 1 && const_f64(g, ins[1]).is_some() && ins.get(2).is_none_or(|b| const_f64(g, *b).is_some()) =>
        {
            let mut edits = vec![Edit::Operand { node: w.node, port: 1, axis: 0 }];
            if ins.len() > 2 {
                edits.push(Edit::Operand { node: w.node, port: 2, axis: 0 });
            }
            Ok(edits)
        }
        Op::Binary(BinaryOp::Add) => {
            // a linear layer with a bias: one operand a constant bias, the other a foldable layer
            let (bias_port, other) = match (const_f64(g, ins[0]).is_some(), const_f64(g, ins[1]).is_some()) {
                (false, true) => (1, ins[0]),
                (true, false) => (0, ins[1]),
                _ => return Err(refuse()),
            };
            let out_rank = g.value_type(w).rank();
            let b_rank = g.value_type(ins[bias_port]).rank();
            if g.value_type(other) != g.value_type(w) || h + b_rank < out_rank {
                return Err(refuse());
            }
            let mut edits = follow(other, h)?;
            edits.push(Edit::Operand { node: w.node, port: bias_port, axis: h + b_rank - out_rank });
            Ok(edits)
        }
        _ => Err(refuse()),
    }
}

/// A copy of constant `v` centered along `axis`. A length-1 axis (a value broadcast over the hidden
/// dim, so constant along it) centers to zero, which is right: a per-row constant is invisible to
/// every norm reading the stream.
fn centered_const(g: &mut Graph, v: ValueRef, axis: usize) -> Result<ValueRef, PassError> {
    let (shape, mut data) = const_f64(g, v).ok_or_else(|| PassError::Failed {
        pass: NAME.into(),
        msg: format!("'{}' is not a float constant", g.value_name(v)),
    })?;
    let dt = g.value_type(v).dtype;
    if shape.is_empty() {
        // a scalar broadcast over the hidden dim: its centered value is 0
        data[0] = 0.0;
    } else {
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
