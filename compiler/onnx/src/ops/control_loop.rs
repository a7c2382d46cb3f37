//! Loop, unrolled at import time. The trip count `M` and the initial condition must be
//! compile-time constants (after folding), and so must the body's condition output in every
//! iteration (a pass-through of `cond_in` is). Iteration `i` imports the body inline with
//! `iteration_num = i` (i64 constant), the condition, and the loop-carried values of the
//! previous iteration; scan outputs stack the per-iteration values along a new axis 0.
//! At most [`MAX_UNROLL`] iterations are unrolled.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::control_if::scope_label;
use crate::proto::{type_proto, ValueInfoProto};
use crate::subgraph::import_subgraph;
use kiln_ir::{DType, Op, Tensor, ValueRef};

/// The most iterations a Loop or Scan is unrolled into.
pub const MAX_UNROLL: usize = 4096;

pub fn loop_(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let node = ctx.node;
    let label = scope_label(ctx);
    let Some(body) = node.attribute.iter().find(|a| a.name() == "body").and_then(|a| a.g.as_ref()) else {
        return Err(ctx.err("graph attribute 'body' is missing"));
    };
    let trip = match ctx.opt_input(0) {
        None => None,
        Some(m) => match ctx.constant(m) {
            Some(t) => Some(scalar_i64(ctx, &t, "trip count M")?),
            None => return Err(ctx.err(format!("Loop '{label}': trip count must be a compile-time constant"))),
        },
    };
    let mut cond = match ctx.opt_input(1) {
        None => true,
        Some(c) => match ctx.constant(c) {
            Some(t) => scalar_i64(ctx, &t, "condition")? != 0,
            None => return Err(ctx.err(format!("Loop '{label}': the condition must be a compile-time constant"))),
        },
    };
    if trip.is_none() && ctx.opt_input(1).is_none() {
        return Err(ctx.err(format!("Loop '{label}': no trip count and no condition (an endless loop)")));
    }
    let n_carried = ctx.num_inputs().saturating_sub(2);
    let mut carried = Vec::with_capacity(n_carried);
    for i in 0..n_carried {
        carried.push(ctx.input(2 + i)?);
    }
    if body.input.len() != 2 + n_carried {
        return Err(ctx.err(format!(
            "the body declares {} inputs; 2 + {n_carried} loop-carried values expected",
            body.input.len()
        )));
    }
    let n_scan = body.output.len().checked_sub(1 + n_carried).ok_or_else(|| {
        ctx.err(format!("the body declares {} outputs; at least 1 + {n_carried} expected", body.output.len()))
    })?;
    if node.output.len() != n_carried + n_scan {
        return Err(
            ctx.err(format!("the node has {} outputs, but the body gives {n_carried} + {n_scan}", node.output.len()))
        );
    }
    // Bind iteration_num and cond with the rank the body declares ([] per the spec; [1] seen).
    let (iter_shape, cond_shape) = (declared_scalar_shape(&body.input[0]), declared_scalar_shape(&body.input[1]));
    let mut scans: Vec<Vec<ValueRef>> = vec![Vec::new(); n_scan];
    let mut i: usize = 0;
    while cond && trip.is_none_or(|m| (i as i64) < m) {
        if i >= MAX_UNROLL {
            return Err(ctx.err(format!("Loop '{label}': more than {MAX_UNROLL} iterations; kiln unrolls loops")));
        }
        let scope = format!("{label}/iter{i}");
        let it = Tensor::from_i64(&iter_shape, vec![i as i64]).map_err(|e| ctx.err(e))?;
        let it = ctx.add_constant(format!("{scope}/iteration_num"), it);
        let c = Tensor::from_bool(&cond_shape, vec![cond]).map_err(|e| ctx.err(e))?;
        let c = ctx.add_constant(format!("{scope}/cond"), c);
        let mut args = vec![it, c];
        args.extend(&carried);
        let outs = import_subgraph(ctx, body, "body", &args, &scope)?;
        let cond_out = outs[0];
        let cty = ctx.ty(cond_out);
        if cty.dtype != DType::Bool || cty.num_elements() != 1 {
            return Err(ctx.err(format!("iteration {i}: the body's condition output is {cty}, not one bool")));
        }
        cond = match ctx.constant(cond_out) {
            Some(t) => scalar_i64(ctx, &t, "condition output")? != 0,
            None => {
                return Err(ctx.err(format!(
                    "Loop '{label}': the body's condition output must be a compile-time constant (iteration {i})"
                )))
            }
        };
        carried = outs[1..1 + n_carried].to_vec();
        for (k, v) in outs[1 + n_carried..].iter().enumerate() {
            scans[k].push(*v);
        }
        i += 1;
    }
    let mut results = carried;
    if i == 0 {
        // No iteration: the scan outputs' element shapes are unknown; the driver rejects them if used.
        return Ok(results);
    }
    for (k, vals) in scans.into_iter().enumerate() {
        let name = ctx.out_name(n_carried + k);
        results.push(stack(ctx, &vals, 0, &name)?);
    }
    Ok(results)
}

/// `vals` (one type) stacked along a new axis `axis`: each reshaped with a 1 inserted, then
/// concatenated.
pub fn stack(ctx: &mut NodeCtx<'_>, vals: &[ValueRef], axis: usize, name: &str) -> Result<ValueRef> {
    let first = ctx.ty(vals[0]);
    let mut parts = Vec::with_capacity(vals.len());
    for (j, v) in vals.iter().enumerate() {
        let ty = ctx.ty(*v);
        if ty != first {
            return Err(ctx.err(format!("scan output '{name}': iteration {j} gives {ty}, iteration 0 gave {first}")));
        }
        let mut shape = ty.shape.clone();
        shape.insert(axis, 1);
        parts.push(ctx.reshape(*v, shape, format!("{name}/part{j}"))?);
    }
    if parts.len() == 1 {
        return Ok(parts[0]);
    }
    let out = ctx.emit(Op::Concat { axis }, &parts, &[name.to_string()])?;
    Ok(out[0])
}

/// The single integer of a one-element tensor.
fn scalar_i64(ctx: &NodeCtx<'_>, t: &Tensor, what: &str) -> Result<i64> {
    let v = t.to_i64_vec().map_err(|e| ctx.err(format!("{what}: {e}")))?;
    match v.as_slice() {
        [x] => Ok(*x),
        _ => Err(ctx.err(format!("{what} must have one element, got shape {:?}", t.shape()))),
    }
}

/// `[1]` when `vi` declares a rank-1 shape, else `[]`.
fn declared_scalar_shape(vi: &ValueInfoProto) -> Vec<usize> {
    match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) if t.shape.as_ref().is_some_and(|s| s.dim.len() == 1) => vec![1],
        _ => vec![],
    }
}
