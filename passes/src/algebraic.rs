//! Algebraic identities that remove work without changing a single output bit:
//! - `x * 1`, `1 * x`, `x + 0`, `0 + x`, `x - 0`, `x / 1` -> `x` (only where the constant does not
//!   broadcast `x` to a larger shape or change its dtype);
//! - `Transpose(Transpose(x, p), q)` -> one Transpose with the composed permutation, or `x` when
//!   that is the identity; a Transpose with the identity permutation -> `x`;
//! - `Reshape(Reshape(x))` -> one Reshape; a Reshape to `x`'s own shape -> `x`;
//! - `Cast` to `x`'s own dtype and `Expand` to `x`'s own shape -> `x`.
//!
//! Adding zero is only dropped for `+0` with floats where `-0 + 0 = +0` cannot be observed through
//! a later op; kiln treats signed zeros as equal (the reference tolerance and every consumer do).

use crate::rewrite::{add_op, is_splat, producer, replace, single_user};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};

pub struct AlgebraicSimplify;

const NAME: &str = "algebraic-simplify";

impl Pass for AlgebraicSimplify {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            if !graph.contains_node(n) {
                continue;
            }
            let before = graph.node_count();
            if let Some(new) = simplify(graph, n)? {
                let name = graph.node(n).outputs[0].name.clone();
                replace(graph, ValueRef::new(n, 0), new);
                graph.remove_node(n);
                if graph.node_count() == before {
                    // `new` is a node built for this rewrite: it takes over the old value's name.
                    graph.rename_value(new, name);
                }
                changed = true;
            }
        }
        Ok(changed)
    }
}

/// The value that replaces node `n`'s only output, if an identity applies.
fn simplify(g: &mut Graph, n: NodeIndex) -> Result<Option<ValueRef>, PassError> {
    let ins = g.inputs_of(n);
    let out_ty = g.node(n).outputs[0].ty.clone();
    let same_type = |g: &Graph, v: ValueRef| *g.value_type(v) == out_ty;
    let op = g.node(n).op.clone();
    Ok(match op {
        Op::Binary(b) if ins.len() == 2 => {
            let (l, r) = (ins[0], ins[1]);
            let keep = |g: &Graph, x: ValueRef, c: ValueRef, unit: f64| same_type(g, x) && is_splat(g, c, unit);
            match b {
                BinaryOp::Mul if keep(g, l, r, 1.0) => Some(l),
                BinaryOp::Mul if keep(g, r, l, 1.0) => Some(r),
                BinaryOp::Add if keep(g, l, r, 0.0) => Some(l),
                BinaryOp::Add if keep(g, r, l, 0.0) => Some(r),
                BinaryOp::Sub if keep(g, l, r, 0.0) => Some(l),
                BinaryOp::Div if keep(g, l, r, 1.0) => Some(l),
                _ => None,
            }
        }
        Op::Transpose { perm } => {
            let x = ins[0];
            if perm.iter().enumerate().all(|(i, p)| i == *p) {
                Some(x)
            } else if let (Op::Transpose { perm: inner }, Some(_)) = (producer(g, x).clone(), single_user(g, x)) {
                // out[i] = mid[perm[i]] and mid[j] = src[inner[j]]: out[i] = src[inner[perm[i]]].
                let composed: Vec<usize> = perm.iter().map(|p| inner[*p]).collect();
                let src = g.inputs_of(x.node)[0];
                if composed.iter().enumerate().all(|(i, p)| i == *p) {
                    Some(src)
                } else {
                    Some(add_op(g, NAME, Op::Transpose { perm: composed }, &[src], "transpose")?)
                }
            } else {
                None
            }
        }
        Op::Reshape { shape } => {
            let x = ins[0];
            if g.value_type(x).shape == shape {
                Some(x)
            } else if matches!(producer(g, x), Op::Reshape { .. }) && single_user(g, x).is_some() {
                let src = g.inputs_of(x.node)[0];
                if g.value_type(src).shape == shape {
                    Some(src)
                } else {
                    Some(add_op(g, NAME, Op::Reshape { shape }, &[src], "reshape")?)
                }
            } else {
                None
            }
        }
        Op::Cast { to } if g.value_type(ins[0]).dtype == to => Some(ins[0]),
        Op::Expand { .. } if same_type(g, ins[0]) => Some(ins[0]),
        _ => None,
    })
}
