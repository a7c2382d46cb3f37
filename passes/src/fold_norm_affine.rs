//! Fold a normalization's affine part (gamma, beta) into the linear layers that read it.
//!
//! Identity relied on: a LayerNorm / RmsNorm over the last axis returns `y = n * gamma + beta`
//! with `n` the normalized row, and for a linear layer with bias,
//! `y @ W + b = n @ (diag(gamma) W) + (beta @ W + b)`. So when every reader of `y` is
//! `MatMul(y, W) + b` with constant 2-D `W` and a constant bias `b` along the last axis (the bias
//! add read only there), gamma and beta move into each layer's weights and bias, and the norm
//! keeps unit scale and no bias. That removes the per-element bias add (and the beta operand)
//! from the norm; the layers keep their shape and cost.
//!
//! Not applied (with a note) where a reader is anything else, a layer has no bias to absorb
//! `beta @ W` (folding would add an Add per layer, more work than it removes), or the norm has no
//! beta (nothing to remove).

use crate::rewrite::{add_float_const, add_op, bias_vec, const_f64, matmul, only_read_by, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "fold-norm-affine";

pub struct FoldNormAffine;

/// One reader layer: `bias_add = Add(MatMul(y, W), b)`.
struct Layer {
    matmul: NodeIndex,
    bias_add: NodeIndex,
    w: ValueRef,
    b: ValueRef,
}

impl Pass for FoldNormAffine {
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
            let (axis, epsilon, rms) = match graph.node(n).op {
                Op::LayerNorm { axis, epsilon } => (axis, epsilon, false),
                Op::RmsNorm { axis, epsilon } => (axis, epsilon, true),
                _ => continue,
            };
            let ins = graph.inputs_of(n);
            let y = ValueRef::new(n, 0);
            let ty = graph.value_type(y).clone();
            if ins.len() < 3 || axis + 1 != ty.rank() {
                continue; // no beta to remove, or not a last-axis norm
            }
            let d = ty.shape[axis];
            let (Some(gamma), Some(beta)) = (bias_vec(graph, ins[1], d), bias_vec(graph, ins[2], d)) else {
                continue;
            };
            let layers = match readers(graph, y, d) {
                Ok(l) => l,
                Err(why) => {
                    cx.notes.push(format!("kept the affine part of '{}': {why}", graph.value_name(y)));
                    continue;
                }
            };
            // The norm without its affine part.
            let ones = add_float_const(graph, NAME, "unit_scale", ty.dtype, &[d], vec![1.0; d])?;
            let op = if rms { Op::RmsNorm { axis, epsilon } } else { Op::LayerNorm { axis, epsilon } };
            let name = graph.value_name(y).to_string();
            let normed = add_op(graph, NAME, op, &[ins[0], ones], &format!("{name}.normalized"))?;
            for l in &layers {
                let (wshape, w) = const_f64(graph, l.w).expect("checked constant");
                let n_out = wshape[1];
                let b = bias_vec(graph, l.b, n_out).expect("checked bias");
                let w2: Vec<f64> = w.iter().enumerate().map(|(i, v)| v * gamma[i / n_out]).collect();
                let shift = matmul(&beta, 1, d, &w, n_out);
                let b2: Vec<f64> = b.iter().zip(shift).map(|(p, q)| p + q).collect();
                let wname = format!("{}.scaled", graph.value_name(l.w));
                let bname = format!("{}.shifted", graph.value_name(l.b));
                let wv = add_float_const(graph, NAME, &wname, ty.dtype, &wshape, w2)?;
                let bv = add_float_const(graph, NAME, &bname, ty.dtype, &[n_out], b2)?;
                let mm_name = graph.value_name(ValueRef::new(l.matmul, 0)).to_string();
                let mm = add_op(graph, NAME, Op::MatMul, &[normed, wv], &mm_name)?;
                let out = ValueRef::new(l.bias_add, 0);
                let out_name = graph.value_name(out).to_string();
                let added = add_op(graph, NAME, Op::Binary(BinaryOp::Add), &[mm, bv], &out_name)?;
                swap_in(graph, out, added, &[l.bias_add, l.matmul]);
            }
            if graph.users_of(y).is_empty() && !graph.is_graph_output(y) {
                graph.remove_node(n);
                graph.rename_value(normed, name);
            }
            changed = true;
        }
        Ok(changed)
    }
}

/// Every reader of `y` as a biased linear layer, or why not.
fn readers(g: &Graph, y: ValueRef, d: usize) -> Result<Vec<Layer>, String> {
    if g.is_graph_output(y) {
        return Err("it is a graph output".into());
    }
    let mut layers = Vec::new();
    for (u, port) in g.users_of(y) {
        let what = g.node(u).op.name();
        if g.node(u).op != Op::MatMul || port != 0 {
            return Err(format!("it is read by {what} '{}', not only by linear layers", g.node(u).outputs[0].name));
        }
        let w = g.inputs_of(u)[1];
        let wshape = const_f64(g, w).map(|(s, _)| s);
        if wshape.as_ref().is_none_or(|s| s.len() != 2 || s[0] != d) {
            return Err(format!("the weight '{}' is not a constant [{d}, N] matrix", g.value_name(w)));
        }
        let n_out = wshape.unwrap()[1];
        let mm = ValueRef::new(u, 0);
        let users = g.users_of(mm);
        let add = match users.as_slice() {
            [(a, _)] if g.node(*a).op == Op::Binary(BinaryOp::Add) && only_read_by(g, mm, *a) => *a,
            _ => return Err(format!("the layer '{}' has no bias add to absorb beta", g.value_name(mm))),
        };
        let other = g.inputs_of(add).into_iter().find(|v| *v != mm);
        let Some(b) = other.filter(|b| bias_vec(g, *b, n_out).is_some()) else {
            return Err(format!("the layer '{}' has no constant bias to absorb beta", g.value_name(mm)));
        };
        if g.value_type(ValueRef::new(add, 0)) != g.value_type(mm) {
            return Err(format!("the bias of '{}' broadcasts the layer's output", g.value_name(mm)));
        }
        layers.push(Layer { matmul: u, bias_add: add, w, b });
    }
    if layers.is_empty() {
        return Err("it has no readers".into());
    }
    Ok(layers)
}
