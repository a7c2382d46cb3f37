//! Merge consecutive linear maps with no nonlinearity between them into one MatMul.
//!
//! Identity relied on: over the last axis, `MatMul(x, A)` with a constant 2-D `A` is the linear map
//! `x -> x @ A` applied to every row of `x` (any rank >= 1, leading dims untouched), so any tree built
//! from such MatMuls, Adds of constant biases (shape `[N]` or broadcast to it along the last axis
//! only) and Adds of two such trees over the *same* base value `x` is an affine map
//! `v = x @ M + c` with
//! - `x @ A` -> `M = A`, `c = 0`; `x` itself -> `M = I`, `c = 0`;
//! - `f @ B` -> `M_f @ B`, `c_f @ B`;   `f + b` -> `M_f`, `c_f + b`;   `f + g` -> `M_f + M_g`, `c_f + c_g`.
//!
//! This covers the serial case `MatMul(MatMul(x, A) [+ a], B) [+ b]` -> `MatMul(x, A@B) + (a@B + b)`,
//! parallel adapters `MatMul(x, W) + MatMul(MatMul(x, U), D)` -> `MatMul(x, W + U@D)` and serial
//! adapters `MatMul(x + MatMul(MatMul(x, U), D), W)` -> `MatMul(x, (I + U@D)@W)`.
//!
//! It holds exactly in real arithmetic; in floats only the rounding changes (products are computed
//! in f64 and stored once in the weights' dtype). The rewrite is done only when every intermediate
//! value of the tree is read exactly once, by its parent in the tree (and is not a graph output), so
//! the whole tree dies; the base `x` may be read anywhere. A tree needs at least two MatMuls (one
//! MatMul plus a bias is already merged). The merged form costs `K*N` multiply-adds per row against
//! the sum of `K_i*N_i` over the tree's MatMuls: it is used only when strictly cheaper (a true
//! low-rank pair `x @ U @ D` with a small inner dim stays, with a note), unless
//! `PassContext::force_linear_merge` is set.

use crate::rewrite::{add_float_const, add_op, bias_vec, const_f64, matmul, replace, single_user};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, ValueRef};
use std::collections::HashSet;

const NAME: &str = "merge-linear";

pub struct MergeLinear;

/// The structure of an affine tree over one base value (numbers are computed only when merging).
enum Expr {
    /// The base value itself.
    Base,
    /// `e @ W` with `W` a constant `[K_e, N]`.
    MatMul(Box<Expr>, ValueRef),
    /// `e + b` with `b` a constant broadcast along the last axis.
    AddBias(Box<Expr>, ValueRef),
    /// `e1 + e2` (same base, same shape).
    Add(Box<Expr>, Box<Expr>),
}

/// An affine tree rooted at some value: `root = base @ M + c`.
struct Tree {
    base: ValueRef,
    expr: Expr,
    /// Every node of the tree, root included (the base's producer excluded).
    nodes: Vec<NodeIndex>,
    matmuls: usize,
    /// Multiply-adds per row of the base over the tree's MatMuls (sum of `K_i * N_i`).
    cost: u64,
}

impl Pass for MergeLinear {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError> {
        let mut order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        // Consumers before producers: the largest tree is seen first.
        order.reverse();
        let mut consumed: HashSet<NodeIndex> = HashSet::new();
        let mut in_refused: HashSet<NodeIndex> = HashSet::new();
        let mut changed = false;
        for n in order {
            if consumed.contains(&n) || !graph.contains_node(n) {
                continue;
            }
            if graph.node(n).outputs.len() != 1 {
                continue;
            }
            let root = ValueRef::new(n, 0);
            let Some(tree) = form(graph, root) else { continue };
            if tree.matmuls < 2 {
                continue;
            }
            let k = last_dim(graph, tree.base);
            let n_out = last_dim(graph, root);
            let merged = (k * n_out) as u64;
            if merged < tree.cost || cx.force_linear_merge {
                merge(graph, root, &tree)?;
                consumed.extend(tree.nodes.iter().copied());
                changed = true;
            } else {
                if !in_refused.contains(&n) {
                    let rows = (graph.value_type(tree.base).num_elements() / k.max(1)) as u64;
                    cx.notes.push(format!(
                        "kept %{} ({} MatMuls over %{}): one merged MatMul [{k}x{n_out}] would cost {} FLOPs, the \
                         factorized form costs {} (low rank; --force-linear-merge merges it anyway)",
                        graph.value_name(root),
                        tree.matmuls,
                        graph.value_name(tree.base),
                        2 * rows * merged,
                        2 * rows * tree.cost,
                    ));
                }
                in_refused.extend(tree.nodes.iter().copied());
            }
        }
        Ok(changed)
    }
}

fn last_dim(g: &Graph, v: ValueRef) -> usize {
    g.value_type(v).shape.last().copied().unwrap_or(0)
}

/// The affine tree rooted at `v` by its producer, if that producer is a MatMul by a constant or an
/// Add of a bias or of two trees over the same base.
fn form(g: &Graph, v: ValueRef) -> Option<Tree> {
    let n = v.node;
    let ty = g.value_type(v);
    if !ty.dtype.is_float() || ty.rank() == 0 {
        return None;
    }
    let ins = g.inputs_of(n);
    match &g.node(n).op {
        Op::MatMul => {
            let (a, w) = (ins[0], ins[1]);
            let wt = g.constant_value(w)?;
            let at = g.value_type(a);
            if g.constant_value(a).is_some()
                || !wt.dtype().is_float()
                || wt.dtype() != at.dtype
                || wt.shape().len() != 2
                || at.rank() == 0
                || at.shape.last() != Some(&wt.shape()[0])
            {
                return None;
            }
            let mut t = operand(g, a, n)?;
            t.cost += (wt.shape()[0] * wt.shape()[1]) as u64;
            t.matmuls += 1;
            t.nodes.push(n);
            t.expr = Expr::MatMul(Box::new(t.expr), w);
            Some(t)
        }
        Op::Binary(BinaryOp::Add) => {
            let (p, q) = (ins[0], ins[1]);
            let (pc, qc) = (g.constant_value(p).is_some(), g.constant_value(q).is_some());
            match (pc, qc) {
                (false, true) | (true, false) => {
                    let (data, bias) = if qc { (p, q) } else { (q, p) };
                    if g.value_type(data) != ty || bias_vec(g, bias, last_dim(g, v)).is_none() {
                        return None;
                    }
                    let mut t = operand(g, data, n)?;
                    t.nodes.push(n);
                    t.expr = Expr::AddBias(Box::new(t.expr), bias);
                    Some(t)
                }
                (false, false) => {
                    if g.value_type(p) != ty || g.value_type(q) != ty {
                        return None;
                    }
                    let tp = operand(g, p, n)?;
                    let tq = operand(g, q, n)?;
                    if tp.base != tq.base {
                        return None;
                    }
                    let mut nodes = tp.nodes;
                    nodes.extend(tq.nodes);
                    nodes.push(n);
                    Some(Tree {
                        base: tp.base,
                        expr: Expr::Add(Box::new(tp.expr), Box::new(tq.expr)),
                        nodes,
                        matmuls: tp.matmuls + tq.matmuls,
                        cost: tp.cost + tq.cost,
                    })
                }
                (true, true) => None,
            }
        }
        _ => None,
    }
}

/// The tree of operand `a` of `parent`: its own tree when `a` is read only once, by `parent`, else
/// `a` as the base.
fn operand(g: &Graph, a: ValueRef, parent: NodeIndex) -> Option<Tree> {
    if matches!(single_user(g, a), Some((u, _)) if u == parent) {
        if let Some(t) = form(g, a) {
            return Some(t);
        }
    }
    let ty = g.value_type(a);
    (ty.dtype.is_float() && ty.rank() >= 1 && g.constant_value(a).is_none()).then(|| Tree {
        base: a,
        expr: Expr::Base,
        nodes: Vec::new(),
        matmuls: 0,
        cost: 0,
    })
}

/// `(M, c, width)` of `e` over a base of width `k`; `M` is `None` for the identity.
fn eval(g: &Graph, e: &Expr, k: usize) -> (Option<Vec<f64>>, Vec<f64>, usize) {
    match e {
        Expr::Base => (None, vec![0.0; k], k),
        Expr::MatMul(inner, w) => {
            let (m, c, ka) = eval(g, inner, k);
            let (shape, wd) = const_f64(g, *w).expect("checked constant");
            let n = shape[1];
            let m = match m {
                None => wd.clone(),
                Some(m) => matmul(&m, k, ka, &wd, n),
            };
            let c = matmul(&c, 1, ka, &wd, n);
            (Some(m), c, n)
        }
        Expr::AddBias(inner, b) => {
            let (m, mut c, n) = eval(g, inner, k);
            let b = bias_vec(g, *b, n).expect("checked bias");
            c.iter_mut().zip(b).for_each(|(c, b)| *c += b);
            (m, c, n)
        }
        Expr::Add(p, q) => {
            let (mp, cp, n) = eval(g, p, k);
            let (mq, cq, _) = eval(g, q, k);
            let dense = |m: Option<Vec<f64>>| m.unwrap_or_else(|| identity(k));
            let m = match (mp, mq) {
                (None, None) => {
                    let mut i = identity(k);
                    i.iter_mut().for_each(|v| *v *= 2.0);
                    i
                }
                (mp, mq) => {
                    let mut a = dense(mp);
                    a.iter_mut().zip(dense(mq)).for_each(|(a, b)| *a += b);
                    a
                }
            };
            let c = cp.iter().zip(&cq).map(|(a, b)| a + b).collect();
            (Some(m), c, n)
        }
    }
}

fn identity(k: usize) -> Vec<f64> {
    let mut i = vec![0.0; k * k];
    (0..k).for_each(|d| i[d * k + d] = 1.0);
    i
}

/// Replace `root` by `MatMul(base, M) (+ c)`, the result taking over the root's name.
fn merge(g: &mut Graph, root: ValueRef, tree: &Tree) -> Result<(), PassError> {
    let k = last_dim(g, tree.base);
    let (m, c, n) = eval(g, &tree.expr, k);
    let m = m.unwrap_or_else(|| identity(k));
    let dt = g.value_type(root).dtype;
    let name = g.value_name(root).to_string();
    let w = add_float_const(g, NAME, &format!("{name}.merged_w"), dt, &[k, n], m)?;
    let mut out = add_op(g, NAME, Op::MatMul, &[tree.base, w], &format!("{name}.merged"))?;
    if c.iter().any(|v| *v != 0.0) {
        let b = add_float_const(g, NAME, &format!("{name}.merged_b"), dt, &[n], c)?;
        out = add_op(g, NAME, Op::Binary(BinaryOp::Add), &[out, b], &format!("{name}.merged_add"))?;
    }
    if g.value_type(out) != g.value_type(root) {
        return Err(PassError::Failed {
            pass: NAME.into(),
            msg: format!("merged %{name} has type {} instead of {}", g.value_type(out), g.value_type(root)),
        });
    }
    replace(g, root, out);
    g.remove_node(root.node);
    g.rename_value(out, name);
    Ok(())
}
