//! Helpers for importers that decompose an ONNX op into several IR ops: constants of any dtype
//! (built in f64 or i64 and cast at import, which folds), constant operands of any dtype, and
//! one-line emitters for the elementwise ops the decompositions chain.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, DType, Op, Tensor, UnaryOp, ValueRef};
use std::sync::Arc;

/// A constant of `dtype` holding `data` (row-major, `shape`), named `{output 0}/{suffix}`.
pub fn const_f64(
    ctx: &mut NodeCtx<'_>,
    shape: &[usize],
    data: Vec<f64>,
    dtype: DType,
    suffix: &str,
) -> Result<ValueRef> {
    let t = Tensor::from_f64(shape, data).map_err(|e| ctx.err(e))?;
    let v = ctx.add_constant(ctx.tmp_name(suffix), t);
    if dtype == DType::F64 {
        return Ok(v);
    }
    ctx.emit_tmp(Op::Cast { to: dtype }, &[v], suffix)
}

/// A scalar (rank 0) constant of `dtype`.
pub fn scalar(ctx: &mut NodeCtx<'_>, v: f64, dtype: DType, suffix: &str) -> Result<ValueRef> {
    const_f64(ctx, &[], vec![v], dtype, suffix)
}

/// An i64 constant.
pub fn const_i64(ctx: &mut NodeCtx<'_>, shape: &[usize], data: Vec<i64>, suffix: &str) -> Result<ValueRef> {
    let t = Tensor::from_i64(shape, data).map_err(|e| ctx.err(e))?;
    Ok(ctx.add_constant(ctx.tmp_name(suffix), t))
}

/// A bool constant.
pub fn const_bool(ctx: &mut NodeCtx<'_>, shape: &[usize], data: Vec<bool>, suffix: &str) -> Result<ValueRef> {
    let t = Tensor::from_bool(shape, data).map_err(|e| ctx.err(e))?;
    Ok(ctx.add_constant(ctx.tmp_name(suffix), t))
}

/// Input `i` as a constant tensor of any dtype; `None` when absent (or an empty tensor, which
/// ONNX uses for "not given"), an error when present but computed at run time. The error has
/// the same form as [`NodeCtx::const_ints_input`]'s.
pub fn const_input(ctx: &NodeCtx<'_>, i: usize, what: &str) -> Result<Option<Arc<Tensor>>> {
    let Some(v) = ctx.opt_input(i) else {
        return Ok(None);
    };
    if ctx.shape(v).contains(&0) {
        return Ok(None);
    }
    let name = ctx.node.input.get(i).map(String::as_str).unwrap_or("");
    match ctx.constant(v) {
        Some(t) => Ok(Some(t)),
        None => Err(ctx.err(format!("{what} (input {i} '{name}') needs a constant operand"))),
    }
}

/// A constant scalar input read as f64 (`None` when absent).
pub fn const_scalar_input(ctx: &NodeCtx<'_>, i: usize, what: &str) -> Result<Option<f64>> {
    let Some(t) = const_input(ctx, i, what)? else {
        return Ok(None);
    };
    match t.to_f64_vec().as_slice() {
        [v] => Ok(Some(*v)),
        _ => Err(ctx.err(format!("{what} must hold one value, got shape {:?}", t.shape()))),
    }
}

pub fn binary(ctx: &mut NodeCtx<'_>, op: BinaryOp, a: ValueRef, b: ValueRef, suffix: &str) -> Result<ValueRef> {
    ctx.emit_tmp(Op::Binary(op), &[a, b], suffix)
}

pub fn unary(ctx: &mut NodeCtx<'_>, op: UnaryOp, x: ValueRef, suffix: &str) -> Result<ValueRef> {
    ctx.emit_tmp(Op::Unary(op), &[x], suffix)
}

/// `x` reshaped to `shape`, named `{output 0}/{suffix}` (no op when the shape is unchanged).
pub fn reshape(ctx: &mut NodeCtx<'_>, x: ValueRef, shape: Vec<usize>, suffix: &str) -> Result<ValueRef> {
    let name = ctx.tmp_name(suffix);
    ctx.reshape(x, shape, name)
}

/// `x` transposed by `perm` (no op for the identity permutation).
pub fn transpose(ctx: &mut NodeCtx<'_>, x: ValueRef, perm: Vec<usize>, suffix: &str) -> Result<ValueRef> {
    if perm.iter().enumerate().all(|(i, p)| i == *p) {
        return Ok(x);
    }
    ctx.emit_tmp(Op::Transpose { perm }, &[x], suffix)
}

/// Require a float input (the normalizations and interpolations compute in floats).
pub fn require_float(ctx: &NodeCtx<'_>, x: ValueRef, what: &str) -> Result<DType> {
    let d = ctx.ty(x).dtype;
    if !d.is_float() {
        return Err(ctx.err(format!("{what} must be a float tensor, got {}", ctx.ty(x))));
    }
    Ok(d)
}
