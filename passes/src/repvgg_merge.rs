//! RepVGG / ACNet structural reparameterization: merge the branches of `Add(branch, branch)` that
//! all read the same `x` into one Conv. Run after `fold-batchnorm` (which turns each `Conv + BN`
//! branch into a plain Conv); each application merges one pair, so a three-branch block
//! `Add(Add(conv3x3(x), conv1x1(x)), BN(x))` collapses over repeated runs (or within one run when
//! the inner Add comes first in topological order).
//!
//! Identities relied on (convolution is linear in its weights):
//! - Two branches `ConvA(x) + ConvB(x)` with the same stride, group, dilation 1 and channel counts:
//!   zero-padding a kernel by `lo` rows on top / `hi` below (and the same on the left / right)
//!   while adding `lo` / `hi` to its pads leaves the conv unchanged, so when both convs can be
//!   brought to one kernel size `K` and one set of pads this way (per spatial dim: `pad_lo` of the
//!   merged conv minus each conv's own top pad, plus the same at the bottom, equals `K - k`; e.g.
//!   3x3 pad 1 with 1x1 pad 0, or ACNet's 3x3 + 1x3 + 3x1) the sum is one conv with the padded
//!   kernels summed and the biases summed.
//! - An identity branch `Conv(x) + x`: when the conv keeps the shape (output channels == input
//!   channels, stride 1, dilation 1, output spatial == input spatial), `x` itself is the conv with
//!   a 1 at tap `(pad_top, pad_left)` (the kernel center for symmetric pads) for output channel
//!   `o` and in-group input channel `o % (C / group)`, so it adds to the conv's kernel.
//! - A per-channel affine identity branch `x * s + t` (BatchNorm(x) with constant params, or a
//!   Mul / Add of a per-channel constant on `x`): the identity kernel scaled by `s[o]`, and `t[o]`
//!   added to the bias.
//!
//! Holds only when weights and biases (and the affine params) are constants and each merged
//! branch's result is read only by the Add; otherwise the graph is left alone.

use crate::const_conv::{add_const_conv, const_conv, ConstConv};
use crate::rewrite::{channel_vector, split_const_operand, swap_in};
use crate::rewrite::{const_f64, only_read_by};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "repvgg-merge";

pub struct RepVggMerge;

impl Pass for RepVggMerge {
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
            changed |= merge_add(graph, n, cx)?;
        }
        Ok(changed)
    }
}

/// One operand of the Add, seen as a branch over some input.
enum Branch {
    Conv(ConstConv),
    /// `x * s + t` per channel of `x`; `nodes` computes it (empty for `x` itself).
    Affine {
        x: ValueRef,
        s: Vec<f64>,
        t: Vec<f64>,
        nodes: Vec<NodeIndex>,
    },
}

/// How operand `v` of Add node `add` reads as a branch.
fn classify(g: &Graph, v: ValueRef, add: NodeIndex) -> Branch {
    let identity = Branch::Affine { x: v, s: Vec::new(), t: Vec::new(), nodes: Vec::new() };
    if !only_read_by(g, v, add) {
        return identity;
    }
    match &g.node(v.node).op {
        Op::Conv { .. } => match const_conv(g, v.node) {
            Ok(c) => Branch::Conv(c),
            Err(_) => identity,
        },
        Op::BatchNorm { epsilon } => {
            let ins = g.inputs_of(v.node);
            let params: Option<Vec<Vec<f64>>> = ins[1..].iter().map(|p| const_f64(g, *p).map(|(_, d)| d)).collect();
            let Some(p) = params else { return identity };
            let s: Vec<f64> = p[0].iter().zip(&p[3]).map(|(sc, var)| sc / (var + *epsilon as f64).sqrt()).collect();
            let t: Vec<f64> = p[1].iter().zip(&p[2]).zip(&s).map(|((b, mean), s)| b - mean * s).collect();
            Branch::Affine { x: ins[0], s, t, nodes: vec![v.node] }
        }
        Op::Binary(op @ (BinaryOp::Mul | BinaryOp::Add)) => {
            let Some((x, c)) = split_const_operand(g, v.node) else { return identity };
            let ty = g.value_type(x).clone();
            if g.value_type(v) != &ty {
                return identity;
            }
            let Some(c) = channel_vector(g, c, &ty) else { return identity };
            let ch = c.len();
            let (s, t) = if *op == BinaryOp::Mul { (c, vec![0.0; ch]) } else { (vec![1.0; ch], c) };
            Branch::Affine { x, s, t, nodes: vec![v.node] }
        }
        _ => identity,
    }
}

/// Try to merge the two operands of Add node `add`; true when it did.
fn merge_add(g: &mut Graph, add: NodeIndex, cx: &mut PassContext) -> Result<bool, PassError> {
    let ins = g.inputs_of(add);
    let out = ValueRef::new(add, 0);
    let out_ty = g.value_type(out).clone();
    if ins.iter().any(|v| g.value_type(*v) != &out_ty) {
        return Ok(false);
    }
    let (p, q) = (classify(g, ins[0], add), classify(g, ins[1], add));
    let merged = match (&p, &q) {
        (Branch::Conv(a), Branch::Conv(b)) if a.x == b.x => match merge_convs(a, b) {
            Ok(m) => m,
            Err(why) => {
                cx.notes.push(format!("left Add '%{}': {why}", g.value_name(out)));
                return Ok(false);
            }
        },
        (Branch::Conv(c), Branch::Affine { x, s, t, .. }) | (Branch::Affine { x, s, t, .. }, Branch::Conv(c))
            if *x == c.x =>
        {
            match merge_identity(g, c, s, t) {
                Ok(m) => m,
                Err(why) => {
                    cx.notes.push(format!("left Add '%{}': {why}", g.value_name(out)));
                    return Ok(false);
                }
            }
        }
        _ => return Ok(false),
    };
    let x = match &p {
        Branch::Conv(c) => c.x,
        Branch::Affine { x, .. } => *x,
    };
    let hint = g.value_name(out).to_string();
    let new = add_const_conv(g, NAME, &hint, out_ty.dtype, x, merged.op, &merged.w_shape, merged.w, merged.b)?;
    if g.value_type(new) != &out_ty {
        return Err(PassError::Failed {
            pass: NAME.into(),
            msg: format!("merged conv for '%{hint}' has type {}, expected {out_ty}", g.value_type(new)),
        });
    }
    let mut dead = vec![add];
    for b in [&p, &q] {
        match b {
            Branch::Conv(c) => dead.push(c.node),
            Branch::Affine { nodes, .. } => dead.extend(nodes),
        }
    }
    swap_in(g, out, new, &dead);
    Ok(true)
}

/// The single conv a merge produces.
struct Merged {
    op: Op,
    w_shape: Vec<usize>,
    w: Vec<f64>,
    b: Option<Vec<f64>>,
}

/// `ConvA(x) + ConvB(x)` as one conv, or why not.
fn merge_convs(a: &ConstConv, b: &ConstConv) -> Result<Merged, String> {
    if a.strides != b.strides {
        return Err(format!("the convs have different strides ({:?} vs {:?})", a.strides, b.strides));
    }
    if a.group != b.group {
        return Err(format!("the convs have different groups ({} vs {})", a.group, b.group));
    }
    if a.dilations != [1, 1] || b.dilations != [1, 1] {
        return Err("a conv is dilated".into());
    }
    if a.w_shape[..2] != b.w_shape[..2] {
        return Err(format!("the conv weights {:?} and {:?} differ in channels", a.w_shape, b.w_shape));
    }
    // Per spatial dim: merged kernel extent, merged pads, and each conv's offset in the kernel.
    let mut k = [0usize; 2];
    let mut pads = vec![0usize; 4];
    let mut off = [[0usize; 2]; 2];
    for d in 0..2 {
        k[d] = a.w_shape[2 + d].max(b.w_shape[2 + d]);
        pads[d] = a.pads[d].max(b.pads[d]);
        pads[d + 2] = a.pads[d + 2].max(b.pads[d + 2]);
        for (i, c) in [a, b].into_iter().enumerate() {
            let (lo, hi) = (pads[d] - c.pads[d], pads[d + 2] - c.pads[d + 2]);
            if lo + hi != k[d] - c.w_shape[2 + d] {
                return Err(format!(
                    "the kernels {:?} (pads {:?}) and {:?} (pads {:?}) do not align once padded",
                    &a.w_shape[2..],
                    a.pads,
                    &b.w_shape[2..],
                    b.pads
                ));
            }
            off[i][d] = lo;
        }
    }
    let (m, cg) = (a.w_shape[0], a.w_shape[1]);
    let w_shape = vec![m, cg, k[0], k[1]];
    let mut w = vec![0.0; m * cg * k[0] * k[1]];
    for (i, c) in [a, b].into_iter().enumerate() {
        let (kh, kw) = (c.w_shape[2], c.w_shape[3]);
        for oc in 0..m * cg {
            for y in 0..kh {
                for xx in 0..kw {
                    let dst = (oc * k[0] + y + off[i][0]) * k[1] + xx + off[i][1];
                    w[dst] += c.w[(oc * kh + y) * kw + xx];
                }
            }
        }
    }
    let b_sum = match (&a.b, &b.b) {
        (None, None) => None,
        _ => Some(a.bias_or_zero().iter().zip(b.bias_or_zero()).map(|(p, q)| p + q).collect()),
    };
    let op = Op::Conv { strides: a.strides.clone(), pads, dilations: vec![1, 1], group: a.group };
    Ok(Merged { op, w_shape, w, b: b_sum })
}

/// `Conv(x) + (x * s + t)` as one conv (empty `s` / `t` mean 1 / 0), or why not.
fn merge_identity(g: &Graph, c: &ConstConv, s: &[f64], t: &[f64]) -> Result<Merged, String> {
    let x_ty = g.value_type(c.x);
    let conv_ty = g.value_type(ValueRef::new(c.node, 0));
    if x_ty != conv_ty {
        return Err(format!("the conv changes the shape ({x_ty} -> {conv_ty}), so x is no identity branch"));
    }
    if c.strides != [1, 1] || c.dilations != [1, 1] {
        return Err("the conv is strided or dilated, so x is no identity branch".into());
    }
    let (m, cg, kh, kw) = (c.w_shape[0], c.w_shape[1], c.w_shape[2], c.w_shape[3]);
    let (ty, tx) = (c.pads[0], c.pads[1]);
    if ty >= kh || tx >= kw {
        return Err("the identity tap lies outside the kernel".into());
    }
    let mut w = c.w.clone();
    for o in 0..m {
        let scale = s.get(o).copied().unwrap_or(1.0);
        w[((o * cg + o % cg) * kh + ty) * kw + tx] += scale;
    }
    let b = if c.b.is_none() && t.iter().all(|v| *v == 0.0) {
        None
    } else {
        Some(c.bias_or_zero().iter().enumerate().map(|(o, b)| b + t.get(o).copied().unwrap_or(0.0)).collect())
    };
    let op =
        Op::Conv { strides: c.strides.clone(), pads: c.pads.clone(), dilations: c.dilations.clone(), group: c.group };
    Ok(Merged { op, w_shape: c.w_shape.clone(), w, b })
}
