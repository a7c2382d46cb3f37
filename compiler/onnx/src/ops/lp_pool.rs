//! LpPool (opsets 1/2/11/18), 1-D and 2-D: `y = (sum over the window of |x|^p)^(1/p)`. The
//! window sum is a depthwise Conv with an all-ones `[C, 1, kH, kW]` weight (group C), which
//! carries strides, dilations (opset 18), pads / auto_pad and ceil_mode (opset 18, as extra
//! bottom/right zero padding): zero padding adds nothing to the sum. `p` is a float attribute at
//! opset 1 and an int (default 2) from opset 2. A 1-D input `[N, C, L]` runs as `[N, C, 1, L]`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, const_f64, require_float, reshape, scalar, unary};
use crate::ops::window::{ceil_mode_extra, Window};
use kiln_ir::{BinaryOp, Op, UnaryOp, ValueRef};

/// A list attribute of `nd` values >= `min` (default: `nd` copies of `default`).
pub(crate) fn ints(ctx: &NodeCtx<'_>, name: &str, nd: usize, default: i64, min: i64) -> Result<Vec<i64>> {
    match ctx.attr_ints(name)? {
        None => Ok(vec![default; nd]),
        Some(v) if v.len() == nd && v.iter().all(|x| *x >= min) => Ok(v),
        Some(v) => Err(ctx.err(format!("attribute '{name}' = {v:?} must be {nd} values >= {min}"))),
    }
}

/// `v` (one value per spatial dim, 1 or 2 dims) as 2 values, a 1-D list led by `lead`.
pub(crate) fn to_2d(v: &[i64], lead: i64) -> Vec<usize> {
    let v: Vec<usize> = v.iter().map(|x| *x as usize).collect();
    if v.len() == 1 {
        vec![lead as usize, v[0]]
    } else {
        v
    }
}

/// The pool window over spatial dims `in_sp` (1 or 2 dims), as a 2-D window.
fn lp_window(ctx: &NodeCtx<'_>, in_sp: &[usize]) -> Result<Window> {
    let nd = in_sp.len();
    let Some(kernel) = ctx.attr_ints("kernel_shape")? else {
        return Err(ctx.err("attribute 'kernel_shape' is required"));
    };
    if kernel.len() != nd || kernel.iter().any(|k| *k < 1) {
        return Err(ctx.err(format!("kernel_shape {kernel:?} must be {nd} positive values")));
    }
    let strides = ints(ctx, "strides", nd, 1, 1)?;
    let dilations = if ctx.opset >= 18 { ints(ctx, "dilations", nd, 1, 1)? } else { vec![1; nd] };
    let auto_pad = ctx.attr_string("auto_pad", "NOTSET")?;
    let pads = match auto_pad.as_str() {
        "NOTSET" => ints(ctx, "pads", 2 * nd, 0, 0)?,
        "VALID" => vec![0; 2 * nd],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = vec![0; 2 * nd];
            for i in 0..nd {
                let (n, s) = (in_sp[i] as i64, strides[i]);
                let span = (kernel[i] - 1) * dilations[i] + 1;
                let total = (((n + s - 1) / s - 1) * s + span - n).max(0);
                let (small, big) = (total / 2, total - total / 2);
                (pads[i], pads[i + nd]) = if auto_pad == "SAME_UPPER" { (small, big) } else { (big, small) };
            }
            pads
        }
        other => return Err(ctx.err(format!("auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"))),
    };
    let (begin, end) = pads.split_at(nd);
    let (b, e) = (to_2d(begin, 0), to_2d(end, 0));
    let mut w = Window {
        kernel: to_2d(&kernel, 1),
        strides: to_2d(&strides, 1),
        dilations: to_2d(&dilations, 1),
        pads: vec![b[0], b[1], e[0], e[1]],
    };
    if ctx.opset >= 18 && ctx.attr_bool("ceil_mode", false)? {
        if auto_pad != "NOTSET" {
            return Err(ctx.err("ceil_mode = 1 with auto_pad other than NOTSET is unsupported"));
        }
        let in_hw = to_2d(&in_sp.iter().map(|d| *d as i64).collect::<Vec<_>>(), 1);
        let extra = ceil_mode_extra(ctx, &w, &in_hw)?;
        w.pads[2] += extra[0];
        w.pads[3] += extra[1];
    }
    Ok(w)
}

pub fn lp_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let dt = require_float(ctx, x, "X")?;
    let shape = ctx.shape(x);
    if shape.len() != 3 && shape.len() != 4 {
        return Err(ctx.err(format!("only 1-D and 2-D inputs (rank 3 or 4) are supported, got shape {shape:?}")));
    }
    let p = if ctx.opset < 2 { ctx.attr_float("p", 2.0)? as f64 } else { ctx.attr_int("p", 2)? as f64 };
    if p.is_nan() || p <= 0.0 {
        return Err(ctx.err(format!("p = {p} must be positive")));
    }
    let w = lp_window(ctx, &shape[2..])?;
    let (n, c) = (shape[0], shape[1]);
    let hw = to_2d(&shape[2..].iter().map(|d| *d as i64).collect::<Vec<_>>(), 1);
    let x4 = reshape(ctx, x, vec![n, c, hw[0], hw[1]], "nchw")?;
    let abs = unary(ctx, UnaryOp::Abs, x4, "abs")?;
    let pe = scalar(ctx, p, dt, "p")?;
    let powed = binary(ctx, BinaryOp::Pow, abs, pe, "abs_pow_p")?;
    let k = w.kernel[0] * w.kernel[1];
    let ones = const_f64(ctx, &[c, 1, w.kernel[0], w.kernel[1]], vec![1.0; c * k], dt, "ones")?;
    let conv = Op::Conv { strides: w.strides, pads: w.pads, dilations: w.dilations, group: c };
    let sum = ctx.emit_tmp(conv, &[powed, ones], "window_sum")?;
    let inv_p = scalar(ctx, 1.0 / p, dt, "inv_p")?;
    if shape.len() == 4 {
        return Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Pow), &[sum, inv_p])?]);
    }
    let y4 = binary(ctx, BinaryOp::Pow, sum, inv_p, "root")?;
    let s = ctx.shape(y4);
    Ok(vec![ctx.emit_out(Op::Reshape { shape: vec![s[0], s[1], s[3]] }, &[y4])?])
}
