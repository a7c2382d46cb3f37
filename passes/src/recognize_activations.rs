//! Recognizes activations that exporters write out in primitives and replaces each by the fused
//! op: GELU (erf and tanh forms), SiLU and Softmax.
//!
//! Owns these shapes (Add and Mul match either operand order; a "constant" is a one-element float
//! constant equal to the named number within a relative 1e-6):
//! - GELU, erf form: `x * (1 + Erf(x / sqrt(2)))` times `0.5`, the three factors multiplied in any
//!   grouping and order (`Mul(Mul(x, 0.5), p)`, `Mul(Mul(x, p), 0.5)`, `Mul(x, Mul(p, 0.5))`, ...),
//!   with `x / sqrt(2)` as `Div(x, 1.4142135)` or `Mul(x, 0.70710678)` -> `Gelu(x)`.
//! - GELU, tanh form: the same product with `p = 1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))`,
//!   `x^3` as `Pow(x, 3)`, `Mul(Mul(x, x), x)` or `Mul(x, Mul(x, x))` -> `GeluTanh(x)`.
//! - SiLU: `Mul(x, Sigmoid(x))` -> `Silu(x)`.
//! - Softmax: `e = Exp(Sub(x, ReduceMax(x, [a]))); y = Div(e, ReduceSum(e, [a]))` with kept dims,
//!   or the same without the max subtraction -> `Softmax { axis: a }(x)` (one axis only).
//!
//! Identity relied on: each fused op is defined as exactly that composition (`Softmax` subtracts
//! the row max itself, and `exp(x - m) / sum(exp(x - m))` does not depend on `m`), so the rewrite
//! changes only rounding (and removes the overflow of the form without max subtraction). A
//! pattern is rewritten only when every intermediate value is read inside the pattern alone and is
//! no graph output, and the result has `x`'s type (no constant broadcasts it to a larger shape).
//! When the max-subtracting part of a Softmax is shared elsewhere (or reduces another axis), the
//! rest is still a Softmax of the subtracted value and is rewritten as that. The replaced nodes
//! are left for dead-code.

use crate::rewrite;
use crate::rewrite::{binary, confined, reduce, replace_keeping_name, scalar, unary};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ReduceOp, UnaryOp, ValueRef};
use std::collections::HashSet;

pub struct RecognizeActivations;

const NAME: &str = "recognize-activations";

/// Relative tolerance for the constants of the written-out forms.
const REL_TOL: f64 = 1e-6;

/// `sqrt(2 / pi)`, the tanh-GELU scale.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

/// A recognized activation: `op(x)` replaces the value of `root`; `nodes` are the written-out form.
struct Found {
    op: Op,
    x: ValueRef,
    nodes: Vec<NodeIndex>,
}

impl Pass for RecognizeActivations {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut consumed: HashSet<NodeIndex> = HashSet::new();
        let mut changed = false;
        for n in order {
            if consumed.contains(&n) || graph.node(n).outputs.len() != 1 {
                continue;
            }
            let candidates = [
                match_gelu(graph, n, erf_branch, UnaryOp::Gelu),
                match_gelu(graph, n, tanh_branch, UnaryOp::GeluTanh),
                match_silu(graph, n),
            ];
            let mut found: Option<Found> = None;
            let mut declined: Option<String> = None;
            for f in candidates.into_iter().flatten().chain(match_softmax(graph, n)) {
                match check(graph, &f, n) {
                    Ok(()) => {
                        found = Some(f);
                        break;
                    }
                    Err(why) => {
                        declined.get_or_insert(format!("{}: {why}", f.op.name()));
                    }
                }
            }
            let root = ValueRef::new(n, 0);
            let Some(f) = found else {
                if let Some(why) = declined {
                    cx.notes.push(format!("left '{}' alone: {why}", graph.value_name(root)));
                }
                continue;
            };
            let name = graph.value_name(root).to_string();
            let new = match rewrite::add_op(graph, NAME, f.op.clone(), &[f.x], &name) {
                Ok(v) => v,
                Err(e) => {
                    cx.notes.push(format!("left '{name}' alone: {e}"));
                    continue;
                }
            };
            replace_keeping_name(graph, root, new);
            consumed.extend(f.nodes);
            changed = true;
        }
        Ok(changed)
    }
}

/// The rewrite's preconditions: float `x`, the result of `x`'s type and the fused op's inferred
/// type, every intermediate read only inside the pattern.
fn check(g: &Graph, f: &Found, root: NodeIndex) -> Result<(), String> {
    let ty = g.value_type(f.x);
    if !ty.dtype.is_float() {
        return Err(format!("{} is not a float type", ty.dtype));
    }
    if g.value_type(ValueRef::new(root, 0)) != ty {
        return Err("a constant broadcasts the result beyond x's shape".into());
    }
    match kiln_ir::ops::infer(&f.op, std::slice::from_ref(ty)) {
        Ok(out) if out.len() == 1 && &out[0] == ty => {}
        Ok(_) => return Err("the fused op changes the type".into()),
        Err(e) => return Err(e.to_string()),
    }
    confined(g, &f.nodes, root)
}

/// A recognized GELU factor `p(x)`: `x` and the nodes computing `p`.
type Branch = (ValueRef, Vec<NodeIndex>);

/// `0.5 * x * p` rooted at `root` (a Mul of a Mul and a leaf, factors in any order), where
/// `branch(p)` recognizes `p` as a function of `x`.
fn match_gelu(
    g: &Graph,
    root: NodeIndex,
    branch: fn(&Graph, ValueRef) -> Option<Branch>,
    act: UnaryOp,
) -> Option<Found> {
    let (a, b) = binary(g, ValueRef::new(root, 0), BinaryOp::Mul)?;
    for (inner, leaf) in [(a, b), (b, a)] {
        let Some((u, v)) = binary(g, inner, BinaryOp::Mul) else { continue };
        let leaves = [u, v, leaf];
        for i in 0..3 {
            let Some((x, mut nodes)) = branch(g, leaves[i]) else { continue };
            let (o1, o2) = (leaves[(i + 1) % 3], leaves[(i + 2) % 3]);
            if (o1 == x && near(g, o2, 0.5)) || (o2 == x && near(g, o1, 0.5)) {
                nodes.extend([inner.node, root]);
                return Some(Found { op: Op::Unary(act), x, nodes });
            }
        }
    }
    None
}

/// `1 + Erf(x / sqrt(2))` -> `x` and the nodes (scale, Erf, Add).
fn erf_branch(g: &Graph, p: ValueRef) -> Option<Branch> {
    let e = plus_one(g, p)?;
    let t = unary(g, e, UnaryOp::Erf)?;
    let x = if let Some((x, c)) = binary(g, t, BinaryOp::Div) {
        near(g, c, std::f64::consts::SQRT_2).then_some(x)?
    } else {
        times_const(g, t, std::f64::consts::FRAC_1_SQRT_2)?
    };
    Some((x, vec![t.node, e.node, p.node]))
}

/// `1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))` -> `x` and the nodes.
fn tanh_branch(g: &Graph, p: ValueRef) -> Option<Branch> {
    let th = plus_one(g, p)?;
    let s = unary(g, th, UnaryOp::Tanh)?;
    let inner = times_const(g, s, SQRT_2_OVER_PI)?;
    let (a, b) = binary(g, inner, BinaryOp::Add)?;
    for (x, m) in [(a, b), (b, a)] {
        let Some(cube) = times_const(g, m, 0.044715) else { continue };
        let Some(cube_nodes) = cube_of(g, cube, x) else { continue };
        let mut nodes = cube_nodes;
        nodes.extend([m.node, inner.node, s.node, th.node, p.node]);
        return Some((x, nodes));
    }
    None
}

/// The nodes computing `c` when `c` is `x^3`: `Pow(x, 3)`, `Mul(Mul(x, x), x)` or
/// `Mul(x, Mul(x, x))`.
fn cube_of(g: &Graph, c: ValueRef, x: ValueRef) -> Option<Vec<NodeIndex>> {
    if let Some((base, e)) = binary(g, c, BinaryOp::Pow) {
        return (base == x && scalar(g, e) == Some(3.0)).then(|| vec![c.node]);
    }
    let (a, b) = binary(g, c, BinaryOp::Mul)?;
    for (sq, other) in [(a, b), (b, a)] {
        if other == x && binary(g, sq, BinaryOp::Mul) == Some((x, x)) {
            return Some(vec![sq.node, c.node]);
        }
    }
    None
}

/// `Mul(x, Sigmoid(x))` in either order.
fn match_silu(g: &Graph, root: NodeIndex) -> Option<Found> {
    let (a, b) = binary(g, ValueRef::new(root, 0), BinaryOp::Mul)?;
    // A Sigmoid read elsewhere still matches here; `check` declines it.
    for (x, s) in [(a, b), (b, a)] {
        if unary(g, s, UnaryOp::Sigmoid) == Some(x) {
            return Some(Found { op: Op::Unary(UnaryOp::Silu), x, nodes: vec![s.node, root] });
        }
    }
    None
}

/// `Div(e, ReduceSum(e, [a]))` with `e = Exp(z)`: with `z = Sub(x, ReduceMax(x, [a]))` the
/// max-subtracting form on `x` first, then the plain form on `z`.
fn match_softmax(g: &Graph, root: NodeIndex) -> Vec<Found> {
    let mut out = Vec::new();
    let Some((e, s)) = binary(g, ValueRef::new(root, 0), BinaryOp::Div) else { return out };
    let Some((se, axes, keep)) = reduce(g, s, ReduceOp::Sum) else { return out };
    let Some(z) = unary(g, e, UnaryOp::Exp) else { return out };
    if se != e || axes.len() != 1 || !keep {
        return out;
    }
    let axis = axes[0];
    if let Some((x, mx)) = binary(g, z, BinaryOp::Sub) {
        if let Some((xm, max_axes, max_keep)) = reduce(g, mx, ReduceOp::Max) {
            if xm == x && max_axes == axes && max_keep {
                let nodes = vec![mx.node, z.node, e.node, s.node, root];
                out.push(Found { op: Op::Softmax { axis }, x, nodes });
            }
        }
    }
    out.push(Found { op: Op::Softmax { axis }, x: z, nodes: vec![e.node, s.node, root] });
    out
}

/// `v = 1 + t` (either order) -> `t`.
fn plus_one(g: &Graph, v: ValueRef) -> Option<ValueRef> {
    let (a, b) = binary(g, v, BinaryOp::Add)?;
    if near(g, b, 1.0) {
        Some(a)
    } else if near(g, a, 1.0) {
        Some(b)
    } else {
        None
    }
}

/// `v = t * c` (either order) with `c` a constant near `target` -> `t`.
fn times_const(g: &Graph, v: ValueRef, target: f64) -> Option<ValueRef> {
    let (a, b) = binary(g, v, BinaryOp::Mul)?;
    if near(g, b, target) {
        Some(a)
    } else if near(g, a, target) {
        Some(b)
    } else {
        None
    }
}

/// Whether `v` is a one-element float constant within [`REL_TOL`] of `target`.
fn near(g: &Graph, v: ValueRef, target: f64) -> bool {
    g.constant_value(v).is_some_and(|t| {
        t.len() == 1 && t.dtype().is_float() && (t.to_f64_vec()[0] - target).abs() <= REL_TOL * target.abs()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Graph, bool, Vec<String>) {
        let mut g = kiln_ir::text::parse(text).unwrap();
        let mut cx = PassContext::default();
        let changed = RecognizeActivations.run(&mut g, &mut cx).unwrap();
        kiln_ir::verify::verify(&g).unwrap();
        (g, changed, cx.notes)
    }

    fn output_op(g: &Graph) -> &Op {
        &g.node(g.outputs()[0].value.node).op
    }

    #[test]
    fn silu_either_order() {
        for body in ["Mul(%x, %s)", "Mul(%s, %x)"] {
            let (g, changed, _) = run(&format!(
                "graph @silu(%x: f32[3]) {{\n  %s: f32[3] = Sigmoid(%x)\n  %y: f32[3] = {body}\n  return %y\n}}"
            ));
            assert!(changed, "{body}");
            assert_eq!(output_op(&g), &Op::Unary(UnaryOp::Silu));
        }
    }

    #[test]
    fn gelu_with_a_wrong_constant_stays() {
        let (g, changed, _) = run(r#"graph @g(%x: f32[3]) {
  %c: f32[] = Constant dense<[1.41]>
  %t: f32[3] = Div(%x, %c)
  %e: f32[3] = Erf(%t)
  %one: f32[] = Constant dense<[1.0]>
  %p: f32[3] = Add(%e, %one)
  %xp: f32[3] = Mul(%x, %p)
  %half: f32[] = Constant dense<[0.5]>
  %y: f32[3] = Mul(%xp, %half)
  return %y
}"#);
        assert!(!changed);
        assert_eq!(output_op(&g), &Op::Binary(BinaryOp::Mul));
    }

    #[test]
    fn softmax_on_a_shared_max_keeps_the_subtraction() {
        let (g, changed, _) = run(r#"graph @sm(%x: f32[2,3]) {
  %m: f32[2,1] = ReduceMax(%x) {axes = [1], keep_dims = true}
  %z: f32[2,3] = Sub(%x, %m)
  %e: f32[2,3] = Exp(%z)
  %s: f32[2,1] = ReduceSum(%e) {axes = [1], keep_dims = true}
  %y: f32[2,3] = Div(%e, %s)
  return %y, %m
}"#);
        assert!(changed);
        let out = g.outputs()[0].value;
        assert_eq!(g.node(out.node).op, Op::Softmax { axis: 1 });
        assert_eq!(g.value_name(g.inputs_of(out.node)[0]), "z");
    }
}
