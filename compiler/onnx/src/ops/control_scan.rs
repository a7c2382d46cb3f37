//! Scan, unrolled at import time over its static sequence length. Step `t` imports the body
//! inline with the state values and, for each scan input, its slice `t` (or `len-1-t` when
//! reversed) along its scan axis (a Gather with a scalar index); scan outputs stack the
//! per-step values along their output axis (prepended when reversed).
//! Opset 9+ form: inputs `states..., scan_inputs...`. Opset 8 form: an (empty) `sequence_lens`
//! input first and a leading batch axis on every input, unrolled per batch entry.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::control_if::scope_label;
use crate::ops::control_loop::{stack, MAX_UNROLL};
use crate::proto::GraphProto;
use crate::subgraph::import_subgraph;
use kiln_ir::{Op, Tensor, ValueRef};

/// How each scan input is read and each scan output written.
struct Plan {
    in_axes: Vec<usize>,
    in_reverse: Vec<bool>,
    out_axes: Vec<i64>,
    out_reverse: Vec<bool>,
}

pub fn scan(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let node = ctx.node;
    let Some(body) = node.attribute.iter().find(|a| a.name() == "body").and_then(|a| a.g.as_ref()) else {
        return Err(ctx.err("graph attribute 'body' is missing"));
    };
    let m = ctx.attr_int_opt("num_scan_inputs")?.ok_or_else(|| ctx.err("attribute 'num_scan_inputs' is missing"))?;
    let first = if ctx.opset < 9 { 1 } else { 0 };
    let n_in = ctx.num_inputs().saturating_sub(first);
    if m < 1 || m as usize > n_in {
        return Err(ctx.err(format!("num_scan_inputs {m} does not fit {n_in} state and scan inputs")));
    }
    let m = m as usize;
    let n = n_in - m;
    let mut ins = Vec::with_capacity(n_in);
    for i in first..ctx.num_inputs() {
        ins.push(ctx.input(i)?);
    }
    let (states, xs) = ins.split_at(n);
    let k = body.output.len().checked_sub(n).ok_or_else(|| ctx.err("the body has fewer outputs than states"))?;
    if node.output.len() != body.output.len() {
        return Err(ctx.err(format!("the node has {} outputs, the body {}", node.output.len(), body.output.len())));
    }
    let label = scope_label(ctx);
    if ctx.opset < 9 {
        return scan8(ctx, body, states, xs, k, &label);
    }
    let dirs = |name: &str, len: usize| -> Result<Vec<bool>> {
        let v = ctx.attr_ints(name)?.unwrap_or_else(|| vec![0; len]);
        if v.len() != len || v.iter().any(|d| *d != 0 && *d != 1) {
            return Err(ctx.err(format!("attribute '{name}' {v:?} must hold {len} values of 0 or 1")));
        }
        Ok(v.iter().map(|d| *d == 1).collect())
    };
    let in_reverse = dirs("scan_input_directions", m)?;
    let out_reverse = dirs("scan_output_directions", k)?;
    let raw_in_axes = ctx.attr_ints("scan_input_axes")?.unwrap_or_else(|| vec![0; m]);
    let out_axes = ctx.attr_ints("scan_output_axes")?.unwrap_or_else(|| vec![0; k]);
    if raw_in_axes.len() != m || out_axes.len() != k {
        return Err(ctx.err(format!("scan_input_axes needs {m} values and scan_output_axes {k}")));
    }
    let mut in_axes = Vec::with_capacity(m);
    for (x, a) in xs.iter().zip(&raw_in_axes) {
        in_axes.push(ctx.axis(*a, ctx.rank(*x), "scan_input_axes entry")?);
    }
    let plan = Plan { in_axes, in_reverse, out_axes, out_reverse };
    let (mut finals, scans) = unroll(ctx, body, states, xs, &plan, &label)?;
    for (j, s) in scans.into_iter().enumerate() {
        let name = ctx.out_name(n + j);
        let v = stack_out(ctx, s, &plan, j, &name)?;
        finals.push(v);
    }
    Ok(finals)
}

/// Run the body once per step; returns the final states and, per scan output, its per-step
/// values in step order (empty lists for a zero-length sequence).
fn unroll(
    ctx: &mut NodeCtx<'_>,
    body: &GraphProto,
    states: &[ValueRef],
    xs: &[ValueRef],
    plan: &Plan,
    label: &str,
) -> Result<(Vec<ValueRef>, Vec<Vec<ValueRef>>)> {
    let len = ctx.shape(xs[0])[plan.in_axes[0]];
    for (x, a) in xs.iter().zip(&plan.in_axes) {
        if ctx.shape(*x)[*a] != len {
            return Err(
                ctx.err(format!("scan inputs have different sequence lengths ({} and {len})", ctx.shape(*x)[*a]))
            );
        }
    }
    if len > MAX_UNROLL {
        return Err(ctx.err(format!("Scan '{label}': sequence length {len} exceeds {MAX_UNROLL}; kiln unrolls scans")));
    }
    let k = body.output.len() - states.len();
    let mut cur = states.to_vec();
    let mut scans = vec![Vec::with_capacity(len); k];
    for t in 0..len {
        let scope = format!("{label}/step{t}");
        let mut args = cur.clone();
        for (j, x) in xs.iter().enumerate() {
            let idx = if plan.in_reverse[j] { len - 1 - t } else { t };
            let ix = ctx.add_constant(format!("{scope}/index{j}"), Tensor::from_i64(&[], vec![idx as i64])?);
            let name = format!("{scope}/slice{j}");
            args.push(ctx.emit(Op::Gather { axis: plan.in_axes[j] }, &[*x, ix], &[name])?[0]);
        }
        let outs = import_subgraph(ctx, body, "body", &args, &scope)?;
        cur = outs[..states.len()].to_vec();
        for (j, v) in outs[states.len()..].iter().enumerate() {
            scans[j].push(*v);
        }
    }
    Ok((cur, scans))
}

/// Scan output `j` from its per-step values: reversed when its direction says so, stacked
/// along its output axis.
fn stack_out(ctx: &mut NodeCtx<'_>, mut vals: Vec<ValueRef>, plan: &Plan, j: usize, name: &str) -> Result<ValueRef> {
    if vals.is_empty() {
        return Err(ctx.err(format!("scan output '{name}' of a zero-length sequence is unsupported")));
    }
    if plan.out_reverse[j] {
        vals.reverse();
    }
    let axis = ctx.axis(plan.out_axes[j], ctx.rank(vals[0]) + 1, "scan_output_axes entry")?;
    stack(ctx, &vals, axis, name)
}

/// Scan-8: every input has a leading batch axis; the body runs per batch entry over axis 1.
fn scan8(
    ctx: &mut NodeCtx<'_>,
    body: &GraphProto,
    states: &[ValueRef],
    xs: &[ValueRef],
    k: usize,
    label: &str,
) -> Result<Vec<ValueRef>> {
    if ctx.opt_input(0).is_some() {
        return Err(ctx.err("Scan-8 with sequence_lens is unsupported (every sequence must be full length)"));
    }
    let m = xs.len();
    let dirs = ctx.attr_ints("directions")?.unwrap_or_else(|| vec![0; m]);
    if dirs.len() != m || dirs.iter().any(|d| *d != 0 && *d != 1) {
        return Err(ctx.err(format!("attribute 'directions' {dirs:?} must hold {m} values of 0 or 1")));
    }
    let all: Vec<ValueRef> = states.iter().chain(xs).copied().collect();
    let batch = ctx.shape(all[0]).first().copied().unwrap_or(0);
    if all.iter().any(|v| ctx.shape(*v).first() != Some(&batch)) || batch == 0 {
        return Err(ctx.err("Scan-8 inputs need one nonzero leading batch axis"));
    }
    let plan = Plan {
        in_axes: vec![0; m],
        in_reverse: dirs.iter().map(|d| *d == 1).collect(),
        out_axes: vec![0; k],
        out_reverse: vec![false; k],
    };
    let mut per_out: Vec<Vec<ValueRef>> = vec![Vec::with_capacity(batch); states.len() + k];
    for b in 0..batch {
        let scope = format!("{label}/batch{b}");
        let ix = ctx.add_constant(format!("{scope}/index"), Tensor::from_i64(&[], vec![b as i64])?);
        let mut sliced = Vec::with_capacity(all.len());
        for (i, v) in all.iter().enumerate() {
            sliced.push(ctx.emit(Op::Gather { axis: 0 }, &[*v, ix], &[format!("{scope}/in{i}")])?[0]);
        }
        let (finals, scans) = unroll(ctx, body, &sliced[..states.len()], &sliced[states.len()..], &plan, &scope)?;
        for (i, v) in finals.into_iter().enumerate() {
            per_out[i].push(v);
        }
        for (j, s) in scans.into_iter().enumerate() {
            let name = format!("{scope}/scan{j}");
            per_out[states.len() + j].push(stack_out(ctx, s, &plan, j, &name)?);
        }
    }
    let mut outs = Vec::with_capacity(per_out.len());
    for (i, vals) in per_out.iter().enumerate() {
        let name = ctx.out_name(i);
        outs.push(stack(ctx, vals, 0, &name)?);
    }
    Ok(outs)
}
