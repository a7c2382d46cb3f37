//! DepthToSpace (modes DCR, the default, and CRD) and SpaceToDepth on `[N, C, H, W]`, each a
//! Reshape to 6-D, a Transpose and a Reshape back (the ONNX definitions verbatim).

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{reshape, transpose};
use kiln_ir::{Op, ValueRef};

/// The rank-4 input shape and a positive `blocksize`.
fn dims_and_block(ctx: &NodeCtx<'_>, x: ValueRef) -> Result<([usize; 4], usize)> {
    let s = ctx.shape(x);
    let [n, c, h, w] = s[..] else {
        return Err(ctx.err(format!("input must have rank 4 (N, C, H, W), got {s:?}")));
    };
    let b = ctx.attr_int_opt("blocksize")?.ok_or_else(|| ctx.err("attribute 'blocksize' is required"))?;
    let b =
        usize::try_from(b).ok().filter(|b| *b > 0).ok_or_else(|| ctx.err(format!("blocksize {b} must be positive")))?;
    Ok(([n, c, h, w], b))
}

pub fn depth_to_space(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let ([n, c, h, w], b) = dims_and_block(ctx, x)?;
    if c % (b * b) != 0 {
        return Err(ctx.err(format!("channels {c} are not a multiple of blocksize^2 = {}", b * b)));
    }
    let mode = ctx.attr_string("mode", "DCR")?;
    let cc = c / (b * b);
    let (split, perm) = match mode.as_str() {
        "DCR" => (vec![n, b, b, cc, h, w], vec![0, 3, 4, 1, 5, 2]),
        "CRD" => (vec![n, cc, b, b, h, w], vec![0, 1, 4, 2, 5, 3]),
        m => return Err(ctx.err(format!("mode '{m}' is not DCR or CRD"))),
    };
    let v = reshape(ctx, x, split, "blocks")?;
    let t = transpose(ctx, v, perm, "moved")?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape: vec![n, cc, h * b, w * b] }, &[t])?])
}

pub fn space_to_depth(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let ([n, c, h, w], b) = dims_and_block(ctx, x)?;
    if h % b != 0 || w % b != 0 {
        return Err(ctx.err(format!("spatial dims {h}x{w} are not multiples of blocksize {b}")));
    }
    let v = reshape(ctx, x, vec![n, c, h / b, b, w / b, b], "blocks")?;
    let t = transpose(ctx, v, vec![0, 3, 5, 1, 2, 4], "moved")?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape: vec![n, c * b * b, h / b, w / b] }, &[t])?])
}
