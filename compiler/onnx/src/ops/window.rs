//! Shared 2-D window attributes of Conv and the pools: kernel, strides, dilations and pads
//! (`[top, left, bottom, right]`), with `auto_pad` NOTSET / VALID / SAME_UPPER / SAME_LOWER and
//! pooling's `ceil_mode` (turned into extra bottom/right padding).

use crate::context::NodeCtx;
use crate::error::Result;

/// Resolved window of a 2-D op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads: Vec<usize>,
}

/// A list attribute of 2 positive values (default `[1, 1]`).
fn pair(ctx: &NodeCtx<'_>, name: &str) -> Result<Vec<usize>> {
    match ctx.attr_ints(name)? {
        None => Ok(vec![1, 1]),
        Some(v) => to_usizes(ctx, name, &v, 2, 1),
    }
}

fn to_usizes(ctx: &NodeCtx<'_>, name: &str, v: &[i64], len: usize, min: i64) -> Result<Vec<usize>> {
    if v.len() != len || v.iter().any(|x| *x < min) {
        return Err(ctx.err(format!("attribute '{name}' = {v:?} must be {len} values >= {min} (2-D only)")));
    }
    Ok(v.iter().map(|x| *x as usize).collect())
}

/// Read strides, dilations, pads and auto_pad for a window of `kernel` over the spatial dims
/// `in_hw`. `dilations` is read only when `has_dilations`.
pub fn window(ctx: &NodeCtx<'_>, kernel: Vec<usize>, in_hw: &[usize], has_dilations: bool) -> Result<Window> {
    let strides = pair(ctx, "strides")?;
    let dilations = if has_dilations { pair(ctx, "dilations")? } else { vec![1, 1] };
    let auto_pad = ctx.attr_string("auto_pad", "NOTSET")?;
    let pads = match auto_pad.as_str() {
        "NOTSET" => match ctx.attr_ints("pads")? {
            None => vec![0; 4],
            Some(p) => to_usizes(ctx, "pads", &p, 4, 0)?,
        },
        "VALID" => vec![0; 4],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = vec![0; 4];
            for i in 0..2 {
                let out = in_hw[i].div_ceil(strides[i]);
                let span = (kernel[i] - 1) * dilations[i] + 1;
                let total = ((out.saturating_sub(1)) * strides[i] + span).saturating_sub(in_hw[i]);
                let small = total / 2;
                let (begin, end) =
                    if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                pads[i] = begin;
                pads[i + 2] = end;
            }
            pads
        }
        other => return Err(ctx.err(format!("auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"))),
    };
    Ok(Window { kernel, strides, dilations, pads })
}

/// Extra bottom/right padding that makes floor-mode output sizes equal ONNX's ceil-mode sizes
/// (a last window must start inside the input or its begin padding). Zero where they agree.
pub fn ceil_mode_extra(ctx: &NodeCtx<'_>, w: &Window, in_hw: &[usize]) -> Result<[usize; 2]> {
    let mut extra = [0; 2];
    for i in 0..2 {
        let span = (w.kernel[i] - 1) * w.dilations[i] + 1;
        let padded = in_hw[i] + w.pads[i] + w.pads[i + 2];
        if padded < span {
            return Err(ctx.err(format!("window {span} is larger than the padded input {padded} on spatial dim {i}")));
        }
        let s = w.strides[i];
        let floor_out = (padded - span) / s + 1;
        let mut ceil_out = (padded - span).div_ceil(s) + 1;
        if (ceil_out - 1) * s >= in_hw[i] + w.pads[i] {
            ceil_out -= 1;
        }
        if ceil_out > floor_out {
            extra[i] = (ceil_out - 1) * s + span - padded;
        }
    }
    Ok(extra)
}

/// Spatial dims (H, W) of a rank-4 NCHW input, or an error naming the op's 2-D limit.
pub fn spatial(ctx: &NodeCtx<'_>, shape: &[usize]) -> Result<Vec<usize>> {
    if shape.len() != 4 {
        return Err(ctx.err(format!("only 2-D (NCHW, rank 4) inputs are supported, got shape {shape:?}")));
    }
    Ok(shape[2..].to_vec())
}
