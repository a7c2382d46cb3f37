//! Tile with constant `repeats`: x `[d0, d1, ...]` is viewed as `[1, d0, 1, d1, ...]`, expanded
//! to `[r0, d0, r1, d1, ...]` and reshaped to `[r0*d0, r1*d1, ...]`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::reshape;
use kiln_ir::{Op, ValueRef};

pub fn tile(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let reps = ctx.const_ints_input(1, "repeats")?.ok_or_else(|| ctx.err("input 1 (repeats) is required"))?;
    let shape = ctx.shape(x);
    if reps.len() != shape.len() || reps.iter().any(|r| *r < 0) {
        return Err(ctx.err(format!("repeats {reps:?} must be {} non-negative values", shape.len())));
    }
    if reps.iter().all(|r| *r == 1) {
        return Ok(vec![x]);
    }
    let reps: Vec<usize> = reps.iter().map(|r| *r as usize).collect();
    let spread: Vec<usize> = shape.iter().flat_map(|d| [1, *d]).collect();
    let expanded: Vec<usize> = shape.iter().zip(&reps).flat_map(|(d, r)| [*r, *d]).collect();
    let out: Vec<usize> = shape.iter().zip(&reps).map(|(d, r)| d * r).collect();
    let v = reshape(ctx, x, spread, "spread")?;
    let e = ctx.emit_tmp(Op::Expand { shape: expanded }, &[v], "repeated")?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape: out }, &[e])?])
}
