//! Recognizes LayerNorm and RMSNorm that exporters write out in primitives and replaces each by
//! the fused `Op::LayerNorm` / `Op::RmsNorm`.
//!
//! Owns these shapes (Add and Mul match either operand order):
//! - LayerNorm: `mean = ReduceMean(x); d = Sub(x, mean); var = ReduceMean(Pow(d, 2) | Mul(d, d));
//!   den = Sqrt(Add(var, eps)); y = Div(d, den) | Mul(d, Reciprocal(den))`, both ReduceMeans over
//!   the same trailing axes `axis..rank` with `keep_dims`, optionally followed by `Mul(y, gamma)` and
//!   `Add(., beta)` with constant gamma / beta -> `LayerNorm { axis, epsilon }(x, gamma | 1[, beta])`.
//! - RMSNorm: `ms = ReduceMean(Pow(x, 2) | Mul(x, x)); r = Sqrt(Add(ms, eps));
//!   y = Div(x, r) | Mul(x, Reciprocal(r))`, optionally `* gamma` (and `+ beta`)
//!   -> `RmsNorm { axis, epsilon }(x, gamma | 1[, beta])`.
//!
//! Identity relied on: the fused ops are defined as exactly these compositions (population
//! variance / mean square over dims `axis..rank`, `eps` added before the square root, scale then
//! bias broadcast against the normalized dims), so the rewrite changes only rounding (the fused
//! ops accumulate in f64 and round once). `eps` must be a one-element float constant (it becomes
//! the f32 attribute). A pattern is rewritten only when every intermediate value is read inside
//! the pattern alone and is no graph output; gamma / beta are absorbed only when the fused op's
//! type inference accepts them (they broadcast to the normalized dims) and the result keeps the
//! replaced value's type. A written-out LayerNorm whose centering part is shared elsewhere is
//! still an RMSNorm of `d = x - mean`, and is rewritten as that. The replaced nodes are left for
//! dead-code.

use crate::rewrite;
use crate::rewrite::{binary, confined, reduce, replace_keeping_name, scalar, unary};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ReduceOp, TensorType, UnaryOp, ValueRef};
use std::collections::HashSet;

pub struct RecognizeNorms;

const NAME: &str = "recognize-norms";

impl Pass for RecognizeNorms {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut consumed: HashSet<NodeIndex> = HashSet::new();
        let mut changed = false;
        for n in order {
            if consumed.contains(&n) {
                continue;
            }
            let Some(core) = match_core(graph, n) else { continue };
            let layer = plan_layer_norm(graph, &core);
            let plan = match layer {
                Some(Ok(p)) => Ok(p),
                Some(Err(why)) => match plan_rms_norm(graph, &core) {
                    Ok(p) => {
                        cx.notes.push(format!(
                            "'{}' is not a LayerNorm ({why}); recognized RmsNorm of '{}' instead",
                            graph.value_name(ValueRef::new(n, 0)),
                            graph.value_name(core.num)
                        ));
                        Ok(p)
                    }
                    Err(_) => Err(format!("LayerNorm: {why}")),
                },
                None => plan_rms_norm(graph, &core).map_err(|why| format!("RmsNorm: {why}")),
            };
            let plan = match plan {
                Ok(p) => p,
                Err(why) => {
                    cx.notes.push(format!("left '{}' alone: {why}", graph.value_name(ValueRef::new(n, 0))));
                    continue;
                }
            };
            match apply(graph, &plan)? {
                Ok(nodes) => {
                    consumed.extend(nodes);
                    changed = true;
                }
                Err(why) => cx.notes.push(format!("left '{}' alone: {why}", graph.value_name(ValueRef::new(n, 0)))),
            }
        }
        Ok(changed)
    }
}

/// `num / sqrt(mean(num^2) + eps)` (or `num * reciprocal(...)`) rooted at node `root`: the part
/// both norms share.
struct Core {
    num: ValueRef,
    eps: ValueRef,
    /// The value squared (`Pow(num, 2)` or `Mul(num, num)`).
    sq: ValueRef,
    axes: Vec<usize>,
    keep_dims: bool,
    /// Square, mean of squares, `+ eps`, sqrt, reciprocal (if any), root.
    nodes: Vec<NodeIndex>,
    root: NodeIndex,
}

/// A recognized norm ready to be built: `x` normalized over `axis..rank`.
struct Plan {
    layer: bool,
    x: ValueRef,
    axis: usize,
    epsilon: f32,
    /// Every node of the written-out form (without gamma / beta); all but `root` are read only
    /// inside it.
    nodes: Vec<NodeIndex>,
    root: NodeIndex,
}

fn match_core(g: &Graph, n: NodeIndex) -> Option<Core> {
    let root = ValueRef::new(n, 0);
    if g.node(n).outputs.len() != 1 {
        return None;
    }
    // (numerator, denominator, reciprocal node)
    let mut cands: Vec<(ValueRef, ValueRef, Option<NodeIndex>)> = Vec::new();
    if let Some((a, b)) = binary(g, root, BinaryOp::Div) {
        cands.push((a, b, None));
    }
    if let Some((a, b)) = binary(g, root, BinaryOp::Mul) {
        for (num, rc) in [(a, b), (b, a)] {
            if let Some(den) = unary(g, rc, UnaryOp::Reciprocal) {
                cands.push((num, den, Some(rc.node)));
            }
        }
    }
    for (num, den, recip) in cands {
        let Some(shifted) = unary(g, den, UnaryOp::Sqrt) else { continue };
        let Some((p, q)) = binary(g, shifted, BinaryOp::Add) else { continue };
        for (ms, eps) in [(p, q), (q, p)] {
            let Some((sq, axes, keep_dims)) = reduce(g, ms, ReduceOp::Mean) else { continue };
            if !is_square_of(g, sq, num) {
                continue;
            }
            let mut nodes = vec![sq.node, ms.node, shifted.node, den.node];
            nodes.extend(recip);
            nodes.push(n);
            return Some(Core { num, eps, sq, axes, keep_dims, nodes, root: n });
        }
    }
    None
}

/// `None` when the core's numerator is not `x - mean(x)`; `Some(Err(why))` when it is but the
/// rewrite's preconditions fail.
fn plan_layer_norm(g: &Graph, core: &Core) -> Option<Result<Plan, String>> {
    let (x, mean) = binary(g, core.num, BinaryOp::Sub)?;
    let (mx, axes, keep_dims) = reduce(g, mean, ReduceOp::Mean)?;
    if mx != x {
        return None;
    }
    Some((|| {
        if axes != core.axes || !keep_dims {
            return Err(format!(
                "the mean is over axes {axes:?} (keep_dims {keep_dims}), the variance over {:?}",
                core.axes
            ));
        }
        if g.value_type(core.num) != g.value_type(x) {
            return Err("x - mean broadcasts beyond x".into());
        }
        let (axis, epsilon) = check_core(g, core, x)?;
        let mut nodes = vec![mean.node, core.num.node];
        nodes.extend(&core.nodes);
        confined(g, &nodes, core.root)?;
        Ok(Plan { layer: true, x, axis, epsilon, nodes, root: core.root })
    })())
}

fn plan_rms_norm(g: &Graph, core: &Core) -> Result<Plan, String> {
    let x = core.num;
    let (axis, epsilon) = check_core(g, core, x)?;
    confined(g, &core.nodes, core.root)?;
    Ok(Plan { layer: false, x, axis, epsilon, nodes: core.nodes.clone(), root: core.root })
}

/// The checks both norms share: float `x`, squares and result of `x`'s type, reduction over a
/// trailing range with kept dims, a one-element constant `eps`. Gives `(axis, epsilon)`.
fn check_core(g: &Graph, core: &Core, x: ValueRef) -> Result<(usize, f32), String> {
    let ty = g.value_type(x);
    if !ty.dtype.is_float() {
        return Err(format!("{} is not a float type", ty.dtype));
    }
    if g.value_type(core.sq) != ty || g.value_type(ValueRef::new(core.root, 0)) != ty {
        return Err("an intermediate broadcasts beyond the normalized value's shape".into());
    }
    let rank = ty.rank();
    let Some(&axis) = core.axes.first() else { return Err("the mean reduces no axis".into()) };
    if !core.axes.iter().copied().eq(axis..rank) {
        return Err(format!("the mean is over axes {:?}, not a trailing range of rank {rank}", core.axes));
    }
    if !core.keep_dims {
        return Err("the mean drops the reduced dims".into());
    }
    let Some(t) = g.constant_value(core.eps) else {
        return Err(format!("epsilon '{}' is not a constant", g.value_name(core.eps)));
    };
    if t.len() != 1 || !t.dtype().is_float() {
        return Err(format!("epsilon '{}' is not a one-element float constant", g.value_name(core.eps)));
    }
    let eps = t.to_f64_vec()[0];
    if !eps.is_finite() || eps < 0.0 {
        return Err(format!("epsilon {eps} is not a finite non-negative number"));
    }
    Ok((axis, eps as f32))
}

/// A candidate `* gamma` / `+ beta` tail: gamma, beta, the last value replaced, the tail's nodes.
type Affine = (Option<ValueRef>, Option<ValueRef>, ValueRef, Vec<NodeIndex>);

/// Build the fused node for `plan`, absorbing a following `* gamma` / `+ beta` where they
/// type-check, and point the readers of the last replaced value at it. `Ok(Err(why))` when no
/// form type-checks (nothing is changed then); `Ok(Ok(nodes))` lists the nodes it replaced.
fn apply(g: &mut Graph, plan: &Plan) -> Result<Result<Vec<NodeIndex>, String>, PassError> {
    let y = ValueRef::new(plan.root, 0);
    let x_ty = g.value_type(plan.x).clone();
    // Optional `Mul(y, gamma)` then `Add(., beta)`, each the only reader of what it follows.
    let gamma = const_operand_reader(g, y, BinaryOp::Mul);
    let after_gamma = gamma.map(|(m, _)| ValueRef::new(m, 0)).unwrap_or(y);
    let beta = const_operand_reader(g, after_gamma, BinaryOp::Add);
    // (gamma, beta, last replaced value, extra nodes), longest first.
    let mut forms: Vec<Affine> = Vec::new();
    if let Some((gm, gv)) = gamma {
        if let Some((bm, bv)) = beta {
            forms.push((Some(gv), Some(bv), ValueRef::new(bm, 0), vec![gm, bm]));
        }
        forms.push((Some(gv), None, ValueRef::new(gm, 0), vec![gm]));
    } else if let Some((bm, bv)) = beta {
        forms.push((None, Some(bv), ValueRef::new(bm, 0), vec![bm]));
    }
    forms.push((None, None, y, vec![]));

    let op = if plan.layer {
        Op::LayerNorm { axis: plan.axis, epsilon: plan.epsilon }
    } else {
        Op::RmsNorm { axis: plan.axis, epsilon: plan.epsilon }
    };
    for (gamma, beta, last, extra) in forms {
        let scalar_ty = TensorType::new(x_ty.dtype, vec![]);
        let mut tys = vec![x_ty.clone(), gamma.map_or(scalar_ty, |v| g.value_type(v).clone())];
        tys.extend(beta.map(|v| g.value_type(v).clone()));
        match kiln_ir::ops::infer(&op, &tys) {
            Ok(out) if out.len() == 1 && &out[0] == g.value_type(last) => {}
            _ => continue,
        }
        let name = g.value_name(last).to_string();
        let scale = match gamma {
            Some(v) => v,
            None => rewrite::add_float_const(g, NAME, &format!("{name}.ones"), x_ty.dtype, &[], vec![1.0])?,
        };
        let mut inputs = vec![plan.x, scale];
        inputs.extend(beta);
        let new = match rewrite::add_op(g, NAME, op.clone(), &inputs, &name) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e.to_string())),
        };
        replace_keeping_name(g, last, new);
        let mut nodes = plan.nodes.clone();
        nodes.extend(extra);
        return Ok(Ok(nodes));
    }
    Ok(Err(format!("{} does not type-check on these operands", op.name())))
}

/// The only reader of `v` when it is `op(v, c)` or `op(c, v)` with `c` a constant: (node, c).
fn const_operand_reader(g: &Graph, v: ValueRef, op: BinaryOp) -> Option<(NodeIndex, ValueRef)> {
    let (m, _) = rewrite::single_user(g, v)?;
    let (a, b) = binary(g, ValueRef::new(m, 0), op)?;
    let other = if a == v { b } else { a };
    (other != v && g.constant_value(other).is_some()).then_some((m, other))
}

/// `sq` is `Pow(v, 2)` (a one-element exponent) or `Mul(v, v)`.
fn is_square_of(g: &Graph, sq: ValueRef, v: ValueRef) -> bool {
    if let Some((a, b)) = binary(g, sq, BinaryOp::Pow) {
        return a == v && scalar(g, b) == Some(2.0);
    }
    binary(g, sq, BinaryOp::Mul) == Some((v, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Graph, bool, Vec<String>) {
        let mut g = kiln_ir::text::parse(text).unwrap();
        let mut cx = PassContext::default();
        let changed = RecognizeNorms.run(&mut g, &mut cx).unwrap();
        kiln_ir::verify::verify(&g).unwrap();
        (g, changed, cx.notes)
    }

    #[test]
    fn layer_norm_with_reciprocal_and_affine() {
        let (g, changed, _) = run(r#"graph @ln(%x: f32[2,4]) {
  %mean: f32[2,1] = ReduceMean(%x) {axes = [1], keep_dims = true}
  %d: f32[2,4] = Sub(%x, %mean)
  %sq: f32[2,4] = Mul(%d, %d)
  %var: f32[2,1] = ReduceMean(%sq) {axes = [1], keep_dims = true}
  %eps: f32[] = Constant dense<[1e-5]>
  %ve: f32[2,1] = Add(%eps, %var)
  %den: f32[2,1] = Sqrt(%ve)
  %inv: f32[2,1] = Reciprocal(%den)
  %n: f32[2,4] = Mul(%inv, %d)
  %gamma: f32[4] = Constant dense<[1.0, 2.0, 3.0, 4.0]>
  %s: f32[2,4] = Mul(%gamma, %n)
  %beta: f32[4] = Constant dense<[0.5, 0.5, 0.5, 0.5]>
  %y: f32[2,4] = Add(%s, %beta)
  return %y
}"#);
        assert!(changed);
        let out = g.outputs()[0].value;
        assert_eq!(g.value_name(out), "y");
        assert!(matches!(g.node(out.node).op, Op::LayerNorm { axis: 1, epsilon } if epsilon == 1e-5));
        assert_eq!(g.inputs_of(out.node).len(), 3);
    }

    #[test]
    fn rms_norm_declines_a_variable_epsilon() {
        let (_, changed, notes) = run(r#"graph @rms(%x: f32[2,4], %eps: f32[]) {
  %two: f32[] = Constant dense<[2.0]>
  %sq: f32[2,4] = Pow(%x, %two)
  %ms: f32[2,1] = ReduceMean(%sq) {axes = [1], keep_dims = true}
  %se: f32[2,1] = Add(%ms, %eps)
  %r: f32[2,1] = Sqrt(%se)
  %y: f32[2,4] = Div(%x, %r)
  return %y
}"#);
        assert!(!changed);
        assert!(notes.iter().any(|n| n.contains("not a constant")), "{notes:?}");
    }
}
