//! LRN (local response normalization across channels), decomposed into IR ops:
//! `y = x / (bias + alpha * avg_c(x^2))^beta`, where `avg_c` is the mean over the channel window
//! `[c - floor((size-1)/2), c + ceil((size-1)/2)]` counting out-of-range channels as zeros,
//! i.e. `alpha / size * square_sum` of the ONNX definition. The window mean is an AvgPool
//! (count_include_pad) over x^2 viewed as `[N, 1, C, H*W]`.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{BinaryOp, Op, Tensor, ValueRef};

pub fn lrn(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let ty = ctx.ty(x);
    if ty.rank() < 3 || ty.dtype != kiln_ir::DType::F32 {
        return Err(ctx.err(format!("input must be f32 of rank >= 3 (N, C, spatial...), got {ty}")));
    }
    let size = ctx.attr_int_opt("size")?.ok_or_else(|| ctx.err("attribute 'size' is required"))?;
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| ctx.err(format!("size {size} must be positive")))?;
    let alpha = ctx.attr_float("alpha", 1e-4)?;
    let beta = ctx.attr_float("beta", 0.75)?;
    let bias = ctx.attr_float("bias", 1.0)?;
    let (n, c) = (ty.shape[0], ty.shape[1]);
    let hw: usize = ty.shape[2..].iter().product();

    let sq = ctx.emit_tmp(Op::Binary(BinaryOp::Mul), &[x, x], "square")?;
    let view = ctx.tmp_name("square_nchw");
    let sq4 = ctx.reshape(sq, vec![n, 1, c, hw], view)?;
    let (before, after) = ((size - 1) / 2, size / 2);
    let pool = Op::AvgPool {
        kernel: vec![size, 1],
        strides: vec![1, 1],
        pads: vec![before, 0, after, 0],
        count_include_pad: true,
    };
    let avg4 = ctx.emit_tmp(pool, &[sq4], "window_mean")?;
    let avg_name = ctx.tmp_name("window_mean_view");
    let avg = ctx.reshape(avg4, ty.shape.clone(), avg_name)?;
    let scalar = |v: f32| Tensor::from_f32(&[], vec![v]);
    let alpha_c = ctx.add_constant(ctx.tmp_name("alpha"), scalar(alpha)?);
    let bias_c = ctx.add_constant(ctx.tmp_name("bias"), scalar(bias)?);
    let beta_c = ctx.add_constant(ctx.tmp_name("beta"), scalar(beta)?);
    let scaled = ctx.emit_tmp(Op::Binary(BinaryOp::Mul), &[avg, alpha_c], "scaled")?;
    let base = ctx.emit_tmp(Op::Binary(BinaryOp::Add), &[scaled, bias_c], "base")?;
    let denom = ctx.emit_tmp(Op::Binary(BinaryOp::Pow), &[base, beta_c], "denom")?;
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Div), &[x, denom])?])
}
