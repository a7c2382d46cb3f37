//! RotaryEmbedding (opset 23) as a composition: rotate the first `rotary_embedding_dim` channels
//! of each head by the angles in `cos_cache`/`sin_cache`, pass the rest through.
//!
//! With `x` viewed as `[B, S, H, D]` (4-D input `[B, H, S, D]` is transposed, 3-D `[B, S, H*D]`
//! reshaped with `num_heads`), `cos`/`sin` = the caches gathered by `position_ids` (or taken as
//! `[B, S, *]` when absent) and cut to `rot/2` channels, and `(x1, x2)` the two halves of the
//! rotated channels (even/odd channels when `interleaved`):
//! `real = cos*x1 - sin*x2`, `imag = sin*x1 + cos*x2`, re-assembled in the same layout.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, reshape, transpose};
use kiln_ir::{BinaryOp, Op, ValueRef};

fn slice(
    ctx: &mut NodeCtx<'_>,
    x: ValueRef,
    axis: usize,
    start: usize,
    end: usize,
    step: usize,
    suffix: &str,
) -> Result<ValueRef> {
    let op =
        Op::Slice { axes: vec![axis], starts: vec![start as i64], ends: vec![end as i64], steps: vec![step as i64] };
    ctx.emit_tmp(op, &[x], suffix)
}

pub fn rotary_embedding(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (cos_cache, sin_cache) = (ctx.input(1)?, ctx.input(2)?);
    let position_ids = ctx.opt_input(3);
    let interleaved = ctx.attr_bool("interleaved", false)?;
    let shape = ctx.shape(x);
    // x as [B, S, H, D]
    let (xs, b, s, h, d) = match shape.as_slice() {
        &[b, h, s, d] => (transpose(ctx, x, vec![0, 2, 1, 3], "bshd")?, b, s, h, d),
        &[b, s, hidden] => {
            let h = ctx.attr_int("num_heads", 0)?;
            if h <= 0 || hidden % h as usize != 0 {
                return Err(ctx.err(format!("3-D input of hidden size {hidden} needs num_heads dividing it, got {h}")));
            }
            let h = h as usize;
            (reshape(ctx, x, vec![b, s, h, hidden / h], "bshd")?, b, s, h, hidden / h)
        }
        _ => return Err(ctx.err(format!("input must be 3-D or 4-D, got {}", ctx.ty(x)))),
    };
    let rot = match ctx.attr_int("rotary_embedding_dim", 0)? {
        0 => d,
        r if r > 0 && (r as usize) <= d && r % 2 == 0 => r as usize,
        r => return Err(ctx.err(format!("rotary_embedding_dim {r} must be even and at most the head size {d}"))),
    };
    let half = rot / 2;
    let angles = |ctx: &mut NodeCtx<'_>, cache: ValueRef, what: &str| -> Result<ValueRef> {
        let c = match position_ids {
            Some(p) => ctx.emit_tmp(Op::Gather { axis: 0 }, &[cache, p], &format!("{what}_gathered"))?,
            None => cache,
        };
        let cs = ctx.shape(c);
        if cs.len() != 3 || cs[0] != b || cs[1] != s || cs[2] < half {
            return Err(ctx.err(format!("{what} gives shape {cs:?}, expected [{b}, {s}, >= {half}]")));
        }
        let c = slice(ctx, c, 2, 0, half, 1, &format!("{what}_half"))?;
        reshape(ctx, c, vec![b, s, 1, half], &format!("{what}_heads"))
    };
    let cos = angles(ctx, cos_cache, "cos")?;
    let sin = angles(ctx, sin_cache, "sin")?;
    let x_rot = if rot < d { slice(ctx, xs, 3, 0, rot, 1, "rotated")? } else { xs };
    let (x1, x2) = if interleaved {
        (slice(ctx, x_rot, 3, 0, rot, 2, "x1")?, slice(ctx, x_rot, 3, 1, rot, 2, "x2")?)
    } else {
        (slice(ctx, x_rot, 3, 0, half, 1, "x1")?, slice(ctx, x_rot, 3, half, rot, 1, "x2")?)
    };
    let cos_x1 = binary(ctx, BinaryOp::Mul, cos, x1, "cos_x1")?;
    let sin_x2 = binary(ctx, BinaryOp::Mul, sin, x2, "sin_x2")?;
    let real = binary(ctx, BinaryOp::Sub, cos_x1, sin_x2, "real")?;
    let sin_x1 = binary(ctx, BinaryOp::Mul, sin, x1, "sin_x1")?;
    let cos_x2 = binary(ctx, BinaryOp::Mul, cos, x2, "cos_x2")?;
    let imag = binary(ctx, BinaryOp::Add, sin_x1, cos_x2, "imag")?;
    let rotated = if interleaved {
        let re = reshape(ctx, real, vec![b, s, h, half, 1], "real5")?;
        let im = reshape(ctx, imag, vec![b, s, h, half, 1], "imag5")?;
        let pairs = ctx.emit_tmp(Op::Concat { axis: 4 }, &[re, im], "pairs")?;
        reshape(ctx, pairs, vec![b, s, h, rot], "interleaved")?
    } else {
        ctx.emit_tmp(Op::Concat { axis: 3 }, &[real, imag], "halves")?
    };
    let full = if rot < d {
        let rest = slice(ctx, xs, 3, rot, d, 1, "passed")?;
        ctx.emit_tmp(Op::Concat { axis: 3 }, &[rotated, rest], "joined")?
    } else {
        rotated
    };
    let out = if shape.len() == 3 {
        ctx.emit_out(Op::Reshape { shape: shape.clone() }, &[full])?
    } else {
        ctx.emit_out(Op::Transpose { perm: vec![0, 2, 1, 3] }, &[full])?
    };
    Ok(vec![out])
}
