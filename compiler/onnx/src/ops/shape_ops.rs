//! Ops that only move or relabel elements, all imported with static shapes: Reshape (0 copies a
//! dim unless `allowzero`, -1 is inferred), Flatten, Unsqueeze/Squeeze (axes attribute before
//! opset 13, input after) -> Reshape; Transpose (default perm reverses); Concat; Expand (constant
//! shape operand, numpy broadcast); Shape (a constant i64 vector, opset-15 `start`/`end`).

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::{broadcast_shapes, product};
use kiln_ir::{Op, Tensor, ValueRef};

pub fn reshape(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let Some(spec) = ctx.const_ints_input(1, "shape")? else {
        return Err(ctx.err("input 1 (shape) is required"));
    };
    let allow_zero = ctx.opset >= 14 && ctx.attr_bool("allowzero", false)?;
    let in_shape = ctx.shape(x);
    let shape = resolve_reshape(&in_shape, &spec, allow_zero).map_err(|e| ctx.err(e))?;
    Ok(vec![emit_reshape(ctx, x, shape)?])
}

/// The static shape an ONNX Reshape `spec` gives an input of shape `input`.
pub fn resolve_reshape(input: &[usize], spec: &[i64], allow_zero: bool) -> Result<Vec<usize>, String> {
    let total = product(input);
    let mut out = Vec::with_capacity(spec.len());
    let mut infer_at = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            -1 if infer_at.is_some() => return Err(format!("shape {spec:?} has more than one -1")),
            -1 => {
                infer_at = Some(i);
                out.push(1);
            }
            0 if !allow_zero => match input.get(i) {
                Some(&dim) => out.push(dim),
                None => {
                    return Err(format!(
                        "shape {spec:?} copies dim {i} (0), but the input {input:?} has rank {}",
                        input.len()
                    ))
                }
            },
            d if d >= 0 => out.push(d as usize),
            d => return Err(format!("shape {spec:?} has invalid dim {d}")),
        }
    }
    if let Some(i) = infer_at {
        let known = product(&out);
        if total.checked_rem(known) != Some(0) {
            return Err(format!("cannot infer the -1 dim of shape {spec:?} for an input of shape {input:?}"));
        }
        out[i] = total / known;
    }
    if product(&out) != total {
        return Err(format!(
            "shape {spec:?} (= {out:?}) does not hold the {total} elements of an input of shape {input:?}"
        ));
    }
    Ok(out)
}

/// A Reshape to `shape` named after the node's output; an identity when nothing changes.
fn emit_reshape(ctx: &mut NodeCtx<'_>, x: ValueRef, shape: Vec<usize>) -> Result<ValueRef> {
    if ctx.shape(x) == shape {
        return Ok(x);
    }
    ctx.emit_out(Op::Reshape { shape }, &[x])
}

pub fn flatten(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let r = shape.len() as i64;
    let a = ctx.attr_int("axis", 1)?;
    let axis = if a < 0 { a + r } else { a };
    if axis < 0 || axis > r {
        return Err(ctx.err(format!("axis {a} is out of range for rank {r}")));
    }
    let axis = axis as usize;
    let out = vec![product(&shape[..axis]), product(&shape[axis..])];
    Ok(vec![emit_reshape(ctx, x, out)?])
}

/// Axes of Unsqueeze/Squeeze: attribute before opset 13, constant input after.
fn squeeze_axes(ctx: &NodeCtx<'_>) -> Result<Option<Vec<i64>>> {
    if ctx.opset >= 13 {
        ctx.const_ints_input(1, "axes")
    } else {
        ctx.attr_ints("axes")
    }
}

pub fn unsqueeze(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let Some(axes) = squeeze_axes(ctx)? else {
        return Err(ctx.err("axes are required"));
    };
    let shape = ctx.shape(x);
    let out_rank = shape.len() + axes.len();
    let axes = ctx.axes(&axes, out_rank, "axes")?;
    let mut dims = shape.iter();
    let out: Vec<usize> =
        (0..out_rank).map(|j| if axes.contains(&j) { 1 } else { dims.next().copied().unwrap_or(1) }).collect();
    Ok(vec![emit_reshape(ctx, x, out)?])
}

pub fn squeeze(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let axes = match squeeze_axes(ctx)? {
        Some(a) if !a.is_empty() => ctx.axes(&a, shape.len(), "axes")?,
        _ => (0..shape.len()).filter(|i| shape[*i] == 1).collect(),
    };
    if let Some(a) = axes.iter().find(|a| shape[**a] != 1) {
        return Err(ctx.err(format!("cannot squeeze axis {a} of size {} (shape {shape:?})", shape[*a])));
    }
    let out: Vec<usize> = (0..shape.len()).filter(|i| !axes.contains(i)).map(|i| shape[i]).collect();
    Ok(vec![emit_reshape(ctx, x, out)?])
}

pub fn transpose(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let rank = ctx.rank(x);
    let perm = match ctx.attr_ints("perm")? {
        Some(p) => {
            let mut seen = vec![false; rank];
            let mut out = Vec::with_capacity(rank);
            for &a in &p {
                match usize::try_from(a) {
                    Ok(a) if a < rank && !seen[a] => {
                        seen[a] = true;
                        out.push(a);
                    }
                    _ => return Err(ctx.err(format!("perm {p:?} is not a permutation of 0..{rank}"))),
                }
            }
            if out.len() != rank {
                return Err(ctx.err(format!("perm {p:?} is not a permutation of 0..{rank}")));
            }
            out
        }
        None => (0..rank).rev().collect(),
    };
    Ok(vec![ctx.emit_out(Op::Transpose { perm }, &[x])?])
}

pub fn concat(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let xs = ctx.present_inputs();
    let Some(&first) = xs.first() else {
        return Err(ctx.err("Concat needs at least one input"));
    };
    let Some(axis) = ctx.attr_int_opt("axis")? else {
        return Err(ctx.err("attribute 'axis' is required"));
    };
    let axis = ctx.axis(axis, ctx.rank(first), "axis")?;
    if xs.len() == 1 {
        return Ok(vec![first]);
    }
    Ok(vec![ctx.emit_out(Op::Concat { axis }, &xs)?])
}

pub fn expand(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let Some(spec) = ctx.const_ints_input(1, "shape")? else {
        return Err(ctx.err("input 1 (shape) is required"));
    };
    let mut given = Vec::with_capacity(spec.len());
    for d in &spec {
        match usize::try_from(*d) {
            Ok(d) => given.push(d),
            Err(_) => return Err(ctx.err(format!("shape {spec:?} has a negative dim"))),
        }
    }
    let in_shape = ctx.shape(x);
    let Some(shape) = broadcast_shapes(&in_shape, &given) else {
        return Err(ctx.err(format!("cannot broadcast input shape {in_shape:?} to {spec:?}")));
    };
    if shape == in_shape {
        return Ok(vec![x]);
    }
    Ok(vec![ctx.emit_out(Op::Expand { shape }, &[x])?])
}

/// Shape of a statically typed value: a constant i64 vector of `dims[start..end]`.
pub fn shape(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dims = ctx.shape(x);
    let r = dims.len() as i64;
    let clamp = |v: i64| -> usize { (if v < 0 { v + r } else { v }).clamp(0, r) as usize };
    let (start, end) = if ctx.opset >= 15 {
        (clamp(ctx.attr_int("start", 0)?), clamp(ctx.attr_int("end", r)?))
    } else {
        (0, dims.len())
    };
    let picked: Vec<i64> = if start < end { dims[start..end].iter().map(|d| *d as i64).collect() } else { vec![] };
    let t = Tensor::from_i64(&[picked.len()], picked).map_err(|e| ctx.err(e))?;
    Ok(vec![ctx.add_constant(ctx.out_name(0), t)])
}
