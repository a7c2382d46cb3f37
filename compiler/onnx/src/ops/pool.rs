//! MaxPool / AveragePool (2-D: kernel_shape, auto_pad, pads, strides; MaxPool dilations;
//! ceil_mode as extra bottom/right padding) and GlobalAveragePool (-> ReduceMean over the
//! spatial dims, keep_dims). MaxPool's Indices output is not produced (refused when used) and
//! storage_order must be 0. AveragePool supports ceil_mode wherever the extra padding is not
//! counted (count_include_pad = 0, or no extra padding needed); dilations must be 1. 1-D pools
//! (rank-3 input) go through `conv1d.rs`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::conv1d;
use crate::ops::window::{ceil_mode_extra, spatial, window, Window};
use kiln_ir::{Op, ReduceOp, ValueRef};

/// Kernel, window and ceil-mode extra padding of a pool node.
fn pool_window(ctx: &NodeCtx<'_>, x: ValueRef, has_dilations: bool) -> Result<(Window, [usize; 2])> {
    let in_hw = spatial(ctx, &ctx.shape(x))?;
    let Some(k) = ctx.attr_ints("kernel_shape")? else {
        return Err(ctx.err("attribute 'kernel_shape' is required"));
    };
    if k.len() != 2 || k.iter().any(|v| *v < 1) {
        return Err(ctx.err(format!("kernel_shape {k:?} must be 2 positive values (2-D only)")));
    }
    let kernel = k.iter().map(|v| *v as usize).collect();
    let win = window(ctx, kernel, &in_hw, has_dilations)?;
    let ceil = ctx.opset >= 10 && ctx.attr_bool("ceil_mode", false)?;
    if !ceil {
        return Ok((win, [0, 0]));
    }
    if ctx.attr_string("auto_pad", "NOTSET")? != "NOTSET" {
        return Err(ctx.err("ceil_mode = 1 with auto_pad other than NOTSET is unsupported"));
    }
    let extra = ceil_mode_extra(ctx, &win, &in_hw)?;
    Ok((win, extra))
}

pub fn max_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    if ctx.rank(x) == 3 {
        return conv1d::max_pool(ctx);
    }
    if ctx.attr_int("storage_order", 0)? != 0 {
        return Err(ctx.err("storage_order = 1 is unsupported"));
    }
    let (mut w, extra) = pool_window(ctx, x, ctx.opset >= 10)?;
    w.pads[2] += extra[0];
    w.pads[3] += extra[1];
    let op = Op::MaxPool { kernel: w.kernel, strides: w.strides, pads: w.pads, dilations: w.dilations };
    Ok(vec![ctx.emit_out(op, &[x])?])
}

pub fn average_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    if ctx.rank(x) == 3 {
        return conv1d::average_pool(ctx);
    }
    let (mut w, extra) = pool_window(ctx, x, ctx.opset >= 19)?;
    if w.dilations != [1, 1] {
        return Err(ctx.err(format!("dilations {:?} are unsupported for AveragePool", w.dilations)));
    }
    let count_include_pad = ctx.attr_bool("count_include_pad", false)?;
    if count_include_pad && extra != [0, 0] {
        return Err(ctx.err("ceil_mode = 1 with count_include_pad = 1 is unsupported where it changes the output size"));
    }
    w.pads[2] += extra[0];
    w.pads[3] += extra[1];
    let op = Op::AvgPool { kernel: w.kernel, strides: w.strides, pads: w.pads, count_include_pad };
    Ok(vec![ctx.emit_out(op, &[x])?])
}

pub fn global_average_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let rank = ctx.rank(x);
    if rank < 3 {
        return Err(ctx.err(format!("input must have rank >= 3 (N, C, spatial...), got rank {rank}")));
    }
    let op = Op::Reduce { op: ReduceOp::Mean, axes: (2..rank).collect(), keep_dims: true };
    Ok(vec![ctx.emit_out(op, &[x])?])
}
