//! Conv, 2-D only: inputs X[N,C,H,W], W[M,C/group,kH,kW][, B[M]]; auto_pad, pads, strides,
//! dilations, group; kernel_shape (optional) must match W. 1-D convolutions (rank-3 input) go
//! through `conv1d.rs`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::conv1d;
use crate::ops::window::{spatial, window};
use kiln_ir::{Op, ValueRef};

pub fn conv(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, w) = (ctx.input(0)?, ctx.input(1)?);
    if ctx.rank(x) == 3 {
        return conv1d::conv(ctx);
    }
    let op = conv_op(ctx, x, w)?;
    let mut ins = vec![x, w];
    ins.extend(ctx.opt_input(2));
    Ok(vec![ctx.emit_out(op, &ins)?])
}

/// The IR `Conv` for a 2-D convolution of `x` by `w` with the node's conv attributes (auto_pad,
/// pads, strides, dilations, group; kernel_shape checked against `w`). Shared with the integer
/// and quantized convolutions.
pub fn conv_op(ctx: &NodeCtx<'_>, x: ValueRef, w: ValueRef) -> Result<Op> {
    let in_hw = spatial(ctx, &ctx.shape(x))?;
    let w_shape = ctx.shape(w);
    if w_shape.len() != 4 {
        return Err(ctx.err(format!("weight must be rank 4, got shape {w_shape:?}")));
    }
    let kernel = w_shape[2..].to_vec();
    if let Some(k) = ctx.attr_ints("kernel_shape")? {
        if k.iter().map(|v| *v as usize).ne(kernel.iter().copied()) || k.iter().any(|v| *v < 1) {
            return Err(ctx.err(format!("kernel_shape {k:?} does not match the weight's {kernel:?}")));
        }
    }
    if kernel.contains(&0) {
        return Err(ctx.err(format!("weight shape {w_shape:?} has an empty kernel")));
    }
    let win = window(ctx, kernel, &in_hw, true)?;
    let group = ctx.attr_int("group", 1)?;
    let group = usize::try_from(group)
        .ok()
        .filter(|g| *g > 0)
        .ok_or_else(|| ctx.err(format!("group {group} must be positive")))?;
    Ok(Op::Conv { strides: win.strides, pads: win.pads, dilations: win.dilations, group })
}
