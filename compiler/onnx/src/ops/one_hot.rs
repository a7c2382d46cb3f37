//! OneHot (opsets 9, 11): `indices` (any numeric dtype, may be a run-time input; fractional
//! values truncate), constant scalar `depth`, `values = [off, on]`; the new dim of size depth
//! goes at `axis` (default -1, range `[-r-1, r]`). Negative indices count from depth; indices
//! outside `[-depth, depth)` give an all-`off` row. Imported as
//! `Where(Equal(idx', range) | Equal(idx', range - depth), on, off)` where `idx'` is the
//! indices with a 1-dim at `axis` and `range` is a constant `[depth, 1, ...]`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, const_i64, const_scalar_input, reshape};
use kiln_ir::{BinaryOp, DType, Op, ValueRef};

pub fn one_hot(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (indices, values) = (ctx.input(0)?, ctx.input(2)?);
    let depth = const_scalar_input(ctx, 1, "depth")?.ok_or_else(|| ctx.err("input 1 (depth) is required"))?;
    if !(depth >= 1.0 && depth <= i64::MAX as f64) {
        return Err(ctx.err(format!("depth {depth} must be at least 1")));
    }
    let depth = depth as i64;
    if ctx.shape(values).iter().product::<usize>() != 2 {
        return Err(ctx.err(format!("values must hold 2 elements [off, on], got shape {:?}", ctx.shape(values))));
    }
    let in_ty = ctx.ty(indices);
    if in_ty.dtype == DType::Bool {
        return Err(ctx.err("indices must be numeric, got bool"));
    }
    let r = in_ty.rank() as i64;
    let raw = ctx.attr_int("axis", -1)?;
    let axis = if raw < 0 { raw + r + 1 } else { raw };
    if axis < 0 || axis > r {
        return Err(ctx.err(format!("axis {raw} is out of range for output rank {}", r + 1)));
    }
    let axis = axis as usize;
    let idx = if in_ty.dtype == DType::I64 {
        indices
    } else {
        ctx.emit_tmp(Op::Cast { to: DType::I64 }, &[indices], "indices_i64")?
    };
    let mut with_axis = in_ty.shape.clone();
    with_axis.insert(axis, 1);
    let idx = reshape(ctx, idx, with_axis, "indices_view")?;
    let mut range_shape = vec![depth as usize];
    range_shape.extend(std::iter::repeat(1).take(in_ty.rank() - axis));
    let pos = const_i64(ctx, &range_shape, (0..depth).collect(), "range")?;
    let neg = const_i64(ctx, &range_shape, (-depth..0).collect(), "range_neg")?;
    let hit_pos = binary(ctx, BinaryOp::Equal, idx, pos, "hit")?;
    let hit_neg = binary(ctx, BinaryOp::Equal, idx, neg, "hit_neg")?;
    let hit = ctx.emit_tmp(Op::Where, &[hit_pos, hit_pos, hit_neg], "mask")?;
    let flat = reshape(ctx, values, vec![2], "values")?;
    let pick = |i: i64| Op::Slice { axes: vec![0], starts: vec![i], ends: vec![i + 1], steps: vec![1] };
    let off = ctx.emit_tmp(pick(0), &[flat], "off")?;
    let on = ctx.emit_tmp(pick(1), &[flat], "on")?;
    Ok(vec![ctx.emit_out(Op::Where, &[hit, on, off])?])
}
