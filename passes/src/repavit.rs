//! RePaViT: structural reparameterization of channel-idle feed-forward layers ("RePaViT: Scalable
//! Vision Transformer Acceleration via Structural Reparameterization on Feedforward Network Layers").
//!
//! Pattern: `h = MatMul(x, W1) [+ b1]` (`[.., d_in] -> [.., H]`), split along the last axis (one
//! `Split`, or `Slice`s on the last axis with step 1) into parts; *active* parts go through an
//! activation (any chain of elementwise Unary/Binary ops whose only non-constant leaf is that part),
//! *idle* parts go through nothing; the parts are re-joined by `Concat` on the last axis, in any
//! order, and `y = MatMul(concat, W2) [+ b2]` (`[.., Hc] -> [.., d_out]`).
//!
//! Identity relied on: `Concat(p_1..p_k) @ W2 = sum_j p_j @ W2[rows_j]` (rows of W2 in concat
//! order), and an idle part is the linear `x @ W1[:, cols_j] + b1[cols_j]`, so all idle parts
//! fold into one map:
//! `y = sum_active act(x @ W1a + b1a) @ W2a + x @ (sum_idle W1b @ W2b) + (sum_idle b1b @ W2b + b2)`.
//! Exact in real arithmetic; the folded products are computed in f64 and stored in the weights'
//! dtype, the active path computes the same columns as before.
//!
//! It holds whenever every intermediate (the first MatMul and its bias Add, `h`, the split/slice
//! outputs, the activation chain, the concat and the second MatMul) is read only inside the
//! pattern and is not a graph output. It pays off only when `c` idle channels satisfy
//! `d_in * d_out < c * (d_in + d_out)` (`d*d < 2*d*c` for a square FFN): the folded `d_in x d_out`
//! map must be cheaper than the idle columns of W1 plus rows of W2. Otherwise the layer stays and
//! a note says why.

use crate::rewrite::{add_float_const, add_op, const_f64, replace, single_user};
use crate::rewrite::{bias_vec, matmul};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, DType, Graph, NodeIndex, Op, ValueRef};
use std::collections::HashSet;

const NAME: &str = "repavit";

/// Most elementwise nodes an activation chain may have.
const MAX_CHAIN: usize = 64;

pub struct RePaViT;

/// One input of the concat.
struct Part {
    /// The concat operand.
    value: ValueRef,
    /// The split/slice output of `h` the part starts from (== `value` for an idle part).
    src: ValueRef,
    /// Columns of `h` it selects.
    lo: usize,
    width: usize,
    /// The activation chain's nodes (empty for an idle part).
    chain: Vec<NodeIndex>,
}

impl Part {
    fn active(&self) -> bool {
        !self.chain.is_empty()
    }
}

/// A matched feed-forward layer.
struct Ffn {
    x: ValueRef,
    w1: ValueRef,
    b1: Option<ValueRef>,
    /// The first MatMul's output and, with a bias, the Add producing `h`.
    mm1: ValueRef,
    h: ValueRef,
    parts: Vec<Part>,
    cat: ValueRef,
    w2: ValueRef,
    mm2: ValueRef,
    b2: Option<ValueRef>,
    root: ValueRef,
}

impl Pass for RePaViT {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            if !graph.contains_node(n) || !matches!(graph.node(n).op, Op::MatMul) {
                continue;
            }
            let Some(f) = match_ffn(graph, ValueRef::new(n, 0)) else { continue };
            if let Err(why) = check_reads(graph, &f) {
                cx.notes.push(format!("kept the FFN at %{}: {why}", graph.value_name(f.root)));
                continue;
            }
            let d_in = last_dim(graph, f.x);
            let d_out = last_dim(graph, f.root);
            let idle: usize = f.parts.iter().filter(|p| !p.active()).map(|p| p.width).sum();
            let folded = (d_in * d_out) as u64;
            let saved = (idle * (d_in + d_out)) as u64;
            if folded >= saved {
                cx.notes.push(format!(
                    "kept the FFN at %{}: only {idle} of {} channels idle; folding them costs d_in*d_out = {folded} \
                     multiply-adds per row, no less than the {saved} = c*(d_in+d_out) it saves",
                    graph.value_name(f.root),
                    last_dim(graph, f.cat)
                ));
                continue;
            }
            rewrite(graph, &f)?;
            changed = true;
        }
        Ok(changed)
    }
}

fn last_dim(g: &Graph, v: ValueRef) -> usize {
    g.value_type(v).shape.last().copied().unwrap_or(0)
}

fn const_2d(g: &Graph, w: ValueRef, dtype: DType) -> Option<(usize, usize)> {
    let t = g.constant_value(w)?;
    (t.dtype() == dtype && t.dtype().is_float() && t.shape().len() == 2).then(|| (t.shape()[0], t.shape()[1]))
}

/// `Add(v, b)` or `Add(b, v)` with a constant `b` broadcast along the last axis only and the
/// result of `v`'s type: returns `b`.
fn bias_of(g: &Graph, add: NodeIndex, v: ValueRef) -> Option<ValueRef> {
    if !matches!(g.node(add).op, Op::Binary(BinaryOp::Add)) {
        return None;
    }
    let ins = g.inputs_of(add);
    let b = if ins[0] == v { ins[1] } else { ins[0] };
    if (ins[0] != v && ins[1] != v) || b == v {
        return None;
    }
    let out = ValueRef::new(add, 0);
    (g.value_type(out) == g.value_type(v) && bias_vec(g, b, last_dim(g, v)).is_some()).then_some(b)
}

/// `(h, first column, width)` when `v` is an output of a Split on the last axis of `h`, or of a
/// Slice of `h` on the last axis only with step 1.
fn source_range(g: &Graph, v: ValueRef) -> Option<(ValueRef, usize, usize)> {
    let ins = g.inputs_of(v.node);
    let h = *ins.first()?;
    let rank = g.value_type(h).rank();
    if rank == 0 {
        return None;
    }
    let width = last_dim(g, v);
    match &g.node(v.node).op {
        Op::Split { axis, sizes } if *axis == rank - 1 => Some((h, sizes[..v.port].iter().sum(), width)),
        Op::Slice { axes, starts, steps, .. } if axes == &[rank - 1] && steps == &[1] && starts[0] >= 0 => {
            let lo = starts[0] as usize;
            (lo + width <= last_dim(g, h)).then_some((h, lo, width))
        }
        _ => None,
    }
}

/// The part behind concat operand `p`: a split/slice output itself (idle), or a chain of
/// elementwise ops whose only non-constant leaf is one split/slice output (active).
fn part_of(g: &Graph, p: ValueRef) -> Option<(Part, ValueRef)> {
    if let Some((h, lo, width)) = source_range(g, p) {
        return Some((Part { value: p, src: p, lo, width, chain: Vec::new() }, h));
    }
    let mut chain = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![p.node];
    let mut src: Option<(ValueRef, ValueRef, usize, usize)> = None;
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        let node = g.node(n);
        if !matches!(node.op, Op::Unary(_) | Op::Binary(_)) || node.outputs.len() != 1 {
            return None;
        }
        chain.push(n);
        if chain.len() > MAX_CHAIN {
            return None;
        }
        for v in g.inputs_of(n) {
            if g.constant_value(v).is_some() {
                continue;
            }
            if let Some((h, lo, width)) = source_range(g, v) {
                match src {
                    Some((s, ..)) if s != v => return None,
                    _ => src = Some((v, h, lo, width)),
                }
            } else if matches!(g.node(v.node).op, Op::Unary(_) | Op::Binary(_)) {
                stack.push(v.node);
            } else {
                return None;
            }
        }
    }
    let (src, h, lo, width) = src?;
    if last_dim(g, p) != width {
        return None;
    }
    Some((Part { value: p, src, lo, width, chain }, h))
}

/// The FFN whose second MatMul is `mm2` (structure only; reads are checked by [`check_reads`]).
fn match_ffn(g: &Graph, mm2: ValueRef) -> Option<Ffn> {
    let ins = g.inputs_of(mm2.node);
    let (cat, w2) = (ins[0], ins[1]);
    let dtype = g.value_type(mm2).dtype;
    let (hc, _) = const_2d(g, w2, dtype)?;
    let cat_rank = g.value_type(cat).rank();
    if !matches!(g.node(cat.node).op, Op::Concat { axis } if cat_rank >= 1 && axis == cat_rank - 1) {
        return None;
    }
    let mut parts = Vec::new();
    let mut h: Option<ValueRef> = None;
    for p in g.inputs_of(cat.node) {
        let (part, ph) = part_of(g, p)?;
        if h.is_some_and(|h| h != ph) {
            return None;
        }
        h = Some(ph);
        parts.push(part);
    }
    let h = h?;
    if !parts.iter().any(Part::active) || parts.iter().all(Part::active) {
        return None;
    }
    if parts.iter().map(|p| p.width).sum::<usize>() != hc {
        return None;
    }
    // h = MatMul(x, W1) [+ b1]
    let (mm1, b1) = match &g.node(h.node).op {
        Op::MatMul => (h, None),
        Op::Binary(BinaryOp::Add) => {
            let hi = g.inputs_of(h.node);
            let mm = hi.into_iter().find(|v| matches!(g.node(v.node).op, Op::MatMul))?;
            (mm, Some(bias_of(g, h.node, mm)?))
        }
        _ => return None,
    };
    let mi = g.inputs_of(mm1.node);
    let (x, w1) = (mi[0], mi[1]);
    let (d_in, hh) = const_2d(g, w1, dtype)?;
    if g.constant_value(x).is_some() || last_dim(g, x) != d_in || last_dim(g, h) != hh || g.value_type(x).rank() == 0 {
        return None;
    }
    let (root, b2) = match single_user(g, mm2) {
        Some((u, _)) => match bias_of(g, u, mm2) {
            Some(b) => (ValueRef::new(u, 0), Some(b)),
            None => (mm2, None),
        },
        None => (mm2, None),
    };
    Some(Ffn { x, w1, b1, mm1, h, parts, cat, w2, mm2, b2, root })
}

/// Why the matched layer cannot be rewritten: an intermediate read outside the pattern.
fn check_reads(g: &Graph, f: &Ffn) -> Result<(), String> {
    let outside = |v: ValueRef| format!("%{} is read outside the pattern", g.value_name(v));
    let only_by = |v: ValueRef, allowed: &dyn Fn(NodeIndex) -> bool| {
        !g.is_graph_output(v) && g.users_of(v).iter().all(|(u, _)| allowed(*u))
    };
    if f.b1.is_some() && !matches!(single_user(g, f.mm1), Some((u, _)) if u == f.h.node) {
        return Err(outside(f.mm1));
    }
    let sources: HashSet<NodeIndex> = f.parts.iter().map(|p| p.src.node).collect();
    if !only_by(f.h, &|u| sources.contains(&u)) {
        return Err(outside(f.h));
    }
    let mut used: HashSet<ValueRef> = HashSet::new();
    for p in &f.parts {
        if !used.insert(p.src) {
            return Err(format!("%{} feeds two parts of the concat", g.value_name(p.src)));
        }
        if p.active() {
            let chain: HashSet<NodeIndex> = p.chain.iter().copied().collect();
            if !only_by(p.src, &|u| chain.contains(&u)) {
                return Err(outside(p.src));
            }
            for &n in &p.chain {
                let v = ValueRef::new(n, 0);
                if v == p.value {
                    continue;
                }
                if !only_by(v, &|u| chain.contains(&u)) {
                    return Err(outside(v));
                }
            }
        }
        if !matches!(single_user(g, p.value), Some((u, _)) if u == f.cat.node) {
            return Err(outside(p.value));
        }
    }
    // Outputs of the split/slice nodes that no part uses must be unread.
    for &s in &sources {
        for port in 0..g.node(s).outputs.len() {
            let v = ValueRef::new(s, port);
            if !used.contains(&v) && (g.is_graph_output(v) || !g.users_of(v).is_empty()) {
                return Err(outside(v));
            }
        }
    }
    if !matches!(single_user(g, f.cat), Some((u, _)) if u == f.mm2.node) {
        return Err(outside(f.cat));
    }
    if f.b2.is_some() && !matches!(single_user(g, f.mm2), Some((u, _)) if u == f.root.node) {
        return Err(outside(f.mm2));
    }
    Ok(())
}

/// `y = sum_active MatMul(act(MatMul(x, W1a) + b1a), W2a) + MatMul(x, W_idle) + b_idle`.
fn rewrite(g: &mut Graph, f: &Ffn) -> Result<(), PassError> {
    let dt = g.value_type(f.root).dtype;
    let (d_in, hh, w1) = {
        let (s, d) = const_f64(g, f.w1).expect("checked constant");
        (s[0], s[1], d)
    };
    let (d_out, w2) = {
        let (s, d) = const_f64(g, f.w2).expect("checked constant");
        (s[1], d)
    };
    let b1 = f.b1.map(|b| bias_vec(g, b, hh).expect("checked bias"));
    let b2 = f.b2.map(|b| bias_vec(g, b, d_out).expect("checked bias"));
    let name = g.value_name(f.root).to_string();

    let mut w_idle = vec![0.0; d_in * d_out];
    let mut b_idle = b2.clone().unwrap_or_else(|| vec![0.0; d_out]);
    let mut terms: Vec<ValueRef> = Vec::new();
    let mut row = 0;
    for p in &f.parts {
        let cols: Vec<f64> = (0..d_in).flat_map(|i| w1[i * hh + p.lo..i * hh + p.lo + p.width].to_vec()).collect();
        let rows = &w2[row * d_out..(row + p.width) * d_out];
        row += p.width;
        let bcols = b1.as_ref().map(|b| b[p.lo..p.lo + p.width].to_vec());
        if p.active() {
            let w1a = add_float_const(g, NAME, &format!("{name}.w1_active"), dt, &[d_in, p.width], cols)?;
            let mut ha = add_op(g, NAME, Op::MatMul, &[f.x, w1a], &format!("{name}.h_active"))?;
            if let Some(b) = bcols {
                let b1a = add_float_const(g, NAME, &format!("{name}.b1_active"), dt, &[p.width], b)?;
                ha = add_op(g, NAME, Op::Binary(BinaryOp::Add), &[ha, b1a], &format!("{name}.h_active_b"))?;
            }
            replace(g, p.src, ha);
            let w2a = add_float_const(g, NAME, &format!("{name}.w2_active"), dt, &[p.width, d_out], rows.to_vec())?;
            terms.push(add_op(g, NAME, Op::MatMul, &[p.value, w2a], &format!("{name}.y_active"))?);
        } else {
            let prod = matmul(&cols, d_in, p.width, rows, d_out);
            w_idle.iter_mut().zip(prod).for_each(|(a, b)| *a += b);
            if let Some(b) = bcols {
                let bp = matmul(&b, 1, p.width, rows, d_out);
                b_idle.iter_mut().zip(bp).for_each(|(a, b)| *a += b);
            }
        }
    }
    let wi = add_float_const(g, NAME, &format!("{name}.w_idle"), dt, &[d_in, d_out], w_idle)?;
    terms.push(add_op(g, NAME, Op::MatMul, &[f.x, wi], &format!("{name}.y_idle"))?);
    let mut out = terms[0];
    for t in &terms[1..] {
        out = add_op(g, NAME, Op::Binary(BinaryOp::Add), &[out, *t], &format!("{name}.sum"))?;
    }
    if b_idle.iter().any(|v| *v != 0.0) {
        let b = add_float_const(g, NAME, &format!("{name}.b_idle"), dt, &[d_out], b_idle)?;
        out = add_op(g, NAME, Op::Binary(BinaryOp::Add), &[out, b], &format!("{name}.biased"))?;
    }
    if g.value_type(out) != g.value_type(f.root) {
        return Err(PassError::Failed {
            pass: NAME.into(),
            msg: format!("rewritten %{name} has type {} instead of {}", g.value_type(out), g.value_type(f.root)),
        });
    }
    replace(g, f.root, out);
    g.remove_node(f.root.node);
    g.rename_value(out, name);
    Ok(())
}
