//! Einsum (opset 12): explicit (`ij,jk->ik`) and implicit (`ij,jk`: the labels used once, in
//! alphabetical order) equations, with `...` broadcast dims (right-aligned across operands).
//!
//! Two float operands whose shared batch labels agree in size become one MatMul: each operand
//! is first summed over the labels only it has, then transposed to `[batch, m, k]` /
//! `[batch, k, n]` and flattened to rank 3; the product is reshaped and transposed to the
//! output order. Every other equation is aligned to one label order (Transpose + Reshape with
//! 1-dims), multiplied with broadcasting and summed over the contracted labels. A label
//! repeated within one operand (a diagonal) is refused.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, reshape, transpose};
use kiln_ir::{BinaryOp, Op, ReduceOp, ValueRef};

/// A label: a letter's code, or `ELLIPSIS + j` for the j-th (of E, right-aligned) `...` dim.
type Label = u32;
const ELLIPSIS: Label = 1000;

struct Term {
    labels: Vec<Label>,
}

/// Parse one term (`bij`, `...ij`) for an operand of `rank` (None for the output term);
/// `e` is the number of broadcast dims `...` stands for in the output.
fn parse_term(s: &str, rank: Option<usize>, e: usize) -> std::result::Result<(Vec<Label>, usize), String> {
    let (pre, post, has_ellipsis) = match s.find("...") {
        Some(i) => (&s[..i], &s[i + 3..], true),
        None => (s, "", false),
    };
    let letters = |t: &str| -> std::result::Result<Vec<Label>, String> {
        t.chars()
            .map(
                |c| if c.is_ascii_alphabetic() { Ok(c as Label) } else { Err(format!("invalid label '{c}' in '{s}'")) },
            )
            .collect()
    };
    let (pre, post) = (letters(pre)?, letters(post)?);
    let named = pre.len() + post.len();
    let k = match rank {
        Some(r) if !has_ellipsis && r != named => {
            return Err(format!("term '{s}' has {named} labels for an operand of rank {r}"))
        }
        Some(r) if r < named => return Err(format!("term '{s}' has {named} labels for an operand of rank {r}")),
        Some(r) => r - named,
        None if has_ellipsis => e,
        None => 0,
    };
    let mut labels = pre;
    labels.extend((e.saturating_sub(k)..e).map(|j| ELLIPSIS + j as Label));
    labels.extend(post);
    Ok((labels, k))
}

/// Parsed equation: per-operand labels and output labels.
fn parse(eq: &str, ranks: &[usize]) -> std::result::Result<(Vec<Term>, Vec<Label>), String> {
    let eq: String = eq.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return Err(format!("equation has {} operand terms for {} inputs", terms.len(), ranks.len()));
    }
    // First pass: how many dims each `...` stands for; E is the largest.
    let mut e = 0;
    for (t, r) in terms.iter().zip(ranks) {
        e = e.max(parse_term(t, Some(*r), 0)?.1);
    }
    let mut ops = Vec::with_capacity(terms.len());
    for (t, r) in terms.iter().zip(ranks) {
        let (labels, _) = parse_term(t, Some(*r), e)?;
        let mut seen = labels.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!("term '{t}' repeats a label (diagonals are unsupported)"));
        }
        ops.push(Term { labels });
    }
    let out = match rhs {
        Some(r) => {
            let (labels, _) = parse_term(r, None, e)?;
            for l in &labels {
                if !ops.iter().any(|o| o.labels.contains(l)) {
                    return Err(format!("output label '{}' appears in no operand", char::from_u32(*l).unwrap_or('?')));
                }
            }
            labels
        }
        None => {
            let mut once: Vec<Label> = ops
                .iter()
                .flat_map(|o| o.labels.iter().copied())
                .filter(|l| *l < ELLIPSIS)
                .filter(|l| ops.iter().map(|o| o.labels.iter().filter(|x| *x == l).count()).sum::<usize>() == 1)
                .collect();
            once.sort_unstable();
            let mut labels: Vec<Label> = (0..e).map(|j| ELLIPSIS + j as Label).collect();
            labels.extend(once);
            labels
        }
    };
    let mut sorted = out.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err("the output term repeats a label".into());
    }
    Ok((ops, out))
}

pub fn einsum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let eq = ctx.attr_string("equation", "")?;
    let xs = ctx.present_inputs();
    if xs.is_empty() {
        return Err(ctx.err("Einsum needs at least one input"));
    }
    let ranks: Vec<usize> = xs.iter().map(|x| ctx.rank(*x)).collect();
    let (terms, out) = parse(&eq, &ranks).map_err(|e| ctx.err(format!("equation '{eq}': {e}")))?;
    // Size of every label; 1 broadcasts against any size.
    let mut sizes: Vec<(Label, usize)> = Vec::new();
    for (t, x) in terms.iter().zip(&xs) {
        for (l, d) in t.labels.iter().zip(ctx.shape(*x)) {
            match sizes.iter_mut().find(|(k, _)| k == l) {
                Some((_, s)) if *s == d || d == 1 => {}
                Some((_, s)) if *s == 1 => *s = d,
                Some((_, s)) => {
                    return Err(ctx.err(format!("equation '{eq}': label sizes {s} and {d} disagree")));
                }
                None => sizes.push((*l, d)),
            }
        }
    }
    let size = |l: Label| sizes.iter().find(|(k, _)| *k == l).map_or(1, |(_, s)| *s);
    let out_shape: Vec<usize> = out.iter().map(|l| size(*l)).collect();
    let float = xs.iter().all(|x| ctx.ty(*x).dtype.is_float());
    let v = if xs.len() == 2 && float && batch_sizes_agree(ctx, &terms, &xs) {
        matmul_path(ctx, &terms, &xs, &out, &size)?
    } else {
        broadcast_path(ctx, &terms, &xs, &out, &size)?
    };
    if ctx.shape(v) != out_shape {
        return Err(ctx.err(format!("equation '{eq}' produced shape {:?}, expected {out_shape:?}", ctx.shape(v))));
    }
    Ok(vec![v])
}

/// Every label of both operands has one size in both (no 1-dim broadcasting between them).
fn batch_sizes_agree(ctx: &NodeCtx<'_>, terms: &[Term], xs: &[ValueRef]) -> bool {
    let (sa, sb) = (ctx.shape(xs[0]), ctx.shape(xs[1]));
    terms[0]
        .labels
        .iter()
        .zip(&sa)
        .all(|(l, da)| terms[1].labels.iter().position(|m| m == l).is_none_or(|j| sb[j] == *da))
}

/// Sum `x` (labels `labels`) over the labels `keep` rejects; returns the value and its labels.
fn sum_out(
    ctx: &mut NodeCtx<'_>,
    x: ValueRef,
    labels: &[Label],
    keep: impl Fn(Label) -> bool,
    suffix: &str,
) -> Result<(ValueRef, Vec<Label>)> {
    let axes: Vec<usize> = (0..labels.len()).filter(|i| !keep(labels[*i])).collect();
    let kept: Vec<Label> = labels.iter().copied().filter(|l| keep(*l)).collect();
    if axes.is_empty() {
        return Ok((x, kept));
    }
    let v = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: false }, &[x], suffix)?;
    Ok((v, kept))
}

/// `x` (labels `have`) transposed to the label order `want` (a permutation of `have`).
fn arrange(ctx: &mut NodeCtx<'_>, x: ValueRef, have: &[Label], want: &[Label], suffix: &str) -> Result<ValueRef> {
    let perm: Vec<usize> = want.iter().filter_map(|l| have.iter().position(|h| h == l)).collect();
    transpose(ctx, x, perm, suffix)
}

fn matmul_path(
    ctx: &mut NodeCtx<'_>,
    terms: &[Term],
    xs: &[ValueRef],
    out: &[Label],
    size: &dyn Fn(Label) -> usize,
) -> Result<ValueRef> {
    let (la, lb) = (&terms[0].labels, &terms[1].labels);
    let (a, la) = sum_out(ctx, xs[0], la, |l| out.contains(&l) || lb.contains(&l), "a_summed")?;
    let (b, lb) = sum_out(ctx, xs[1], lb, |l| out.contains(&l) || la.contains(&l), "b_summed")?;
    let batch: Vec<Label> = out.iter().copied().filter(|l| la.contains(l) && lb.contains(l)).collect();
    let m: Vec<Label> = out.iter().copied().filter(|l| la.contains(l) && !lb.contains(l)).collect();
    let n: Vec<Label> = out.iter().copied().filter(|l| lb.contains(l) && !la.contains(l)).collect();
    let k: Vec<Label> = la.iter().copied().filter(|l| lb.contains(l) && !out.contains(l)).collect();
    let dims = |ls: &[Label]| -> usize { ls.iter().map(|l| size(*l)).product() };
    let shape_a: Vec<usize> = la.iter().map(|l| size(*l)).collect();
    let shape_b: Vec<usize> = lb.iter().map(|l| size(*l)).collect();
    if ctx.shape(a) != shape_a || ctx.shape(b) != shape_b {
        // A 1-dim broadcast against a contracted size: leave it to the general path.
        return broadcast_path(ctx, terms, xs, out, size);
    }
    let order_a: Vec<Label> = [&batch[..], &m, &k].concat();
    let order_b: Vec<Label> = [&batch[..], &k, &n].concat();
    let a = arrange(ctx, a, &la, &order_a, "a_arranged")?;
    let b = arrange(ctx, b, &lb, &order_b, "b_arranged")?;
    let a = reshape(ctx, a, vec![dims(&batch), dims(&m), dims(&k)], "a3")?;
    let b = reshape(ctx, b, vec![dims(&batch), dims(&k), dims(&n)], "b3")?;
    let c = ctx.emit_tmp(Op::MatMul, &[a, b], "product")?;
    let have: Vec<Label> = [&batch[..], &m, &n].concat();
    let c = reshape(ctx, c, have.iter().map(|l| size(*l)).collect(), "product_dims")?;
    arrange(ctx, c, &have, out, "arranged")
}

fn broadcast_path(
    ctx: &mut NodeCtx<'_>,
    terms: &[Term],
    xs: &[ValueRef],
    out: &[Label],
    size: &dyn Fn(Label) -> usize,
) -> Result<ValueRef> {
    // One order for every label: the output's, then the contracted ones as first seen.
    let mut order: Vec<Label> = out.to_vec();
    for t in terms {
        for l in &t.labels {
            if !order.contains(l) {
                order.push(*l);
            }
        }
    }
    let mut acc: Option<ValueRef> = None;
    for (i, (t, x)) in terms.iter().zip(xs).enumerate() {
        let mine: Vec<Label> = order.iter().copied().filter(|l| t.labels.contains(l)).collect();
        let v = arrange(ctx, *x, &t.labels, &mine, &format!("arranged{i}"))?;
        let shape = ctx.shape(v);
        let mut dims = shape.iter();
        let full: Vec<usize> =
            order.iter().map(|l| if t.labels.contains(l) { dims.next().copied().unwrap_or(1) } else { 1 }).collect();
        let v = reshape(ctx, v, full, &format!("aligned{i}"))?;
        acc = Some(match acc {
            None => v,
            Some(a) => binary(ctx, BinaryOp::Mul, a, v, &format!("product{i}"))?,
        });
    }
    let Some(mut v) = acc else {
        return Err(ctx.err("Einsum needs at least one input"));
    };
    // Broadcast a single operand's 1-dims up to the label sizes (a lone operand never multiplies).
    let full: Vec<usize> = order.iter().map(|l| size(*l)).collect();
    if ctx.shape(v) != full {
        v = ctx.emit_tmp(Op::Expand { shape: full }, &[v], "expanded")?;
    }
    if order.len() > out.len() {
        let axes = (out.len()..order.len()).collect();
        v = ctx.emit_tmp(Op::Reduce { op: ReduceOp::Sum, axes, keep_dims: false }, &[v], "summed")?;
    }
    Ok(v)
}
