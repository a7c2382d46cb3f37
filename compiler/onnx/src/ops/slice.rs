//! Slice. Opset < 10: `starts`/`ends`/`axes` attributes, step 1. Opset >= 10: inputs
//! `data, starts, ends[, axes[, steps]]`, all constant. Starts/ends are normalized per the ONNX
//! spec (negative counts from the end, then clamped to `[0, d]` for positive steps and
//! `[0, d-1]` / `[-1, d-1]` for negative steps) into the IR's normalized Slice.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn slice(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let (starts, ends, axes, steps) = if ctx.opset < 10 {
        let (Some(s), Some(e)) = (ctx.attr_ints("starts")?, ctx.attr_ints("ends")?) else {
            return Err(ctx.err("attributes 'starts' and 'ends' are required"));
        };
        (s, e, ctx.attr_ints("axes")?, None)
    } else {
        let (Some(s), Some(e)) = (ctx.const_ints_input(1, "starts")?, ctx.const_ints_input(2, "ends")?) else {
            return Err(ctx.err("inputs 'starts' and 'ends' are required"));
        };
        (s, e, ctx.const_ints_input(3, "axes")?, ctx.const_ints_input(4, "steps")?)
    };
    let n = starts.len();
    let axes = axes.unwrap_or_else(|| (0..n as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; n]);
    if ends.len() != n || axes.len() != n || steps.len() != n {
        return Err(ctx.err(format!(
            "starts ({n}), ends ({}), axes ({}) and steps ({}) must have the same length",
            ends.len(),
            axes.len(),
            steps.len()
        )));
    }
    let axes = ctx.axes(&axes, shape.len(), "axes")?;
    // Normalize each axis, then list them in axis order.
    let mut parts: Vec<(usize, i64, i64, i64)> = Vec::with_capacity(n);
    for i in 0..n {
        let d = shape[axes[i]] as i64;
        let step = steps[i];
        if step == 0 {
            return Err(ctx.err(format!("step for axis {} is 0", axes[i])));
        }
        let (s, e) = normalize(starts[i], ends[i], step, d);
        parts.push((axes[i], s, e, step));
    }
    parts.sort_by_key(|p| p.0);
    let op = Op::Slice {
        axes: parts.iter().map(|p| p.0).collect(),
        starts: parts.iter().map(|p| p.1).collect(),
        ends: parts.iter().map(|p| p.2).collect(),
        steps: parts.iter().map(|p| p.3).collect(),
    };
    Ok(vec![ctx.emit_out(op, &[x])?])
}

/// ONNX start/end normalization for one axis of size `d` (see the module doc).
pub fn normalize(start: i64, end: i64, step: i64, d: i64) -> (i64, i64) {
    let s = if start < 0 { start.saturating_add(d) } else { start };
    let e = if end < 0 { end.saturating_add(d) } else { end };
    if step > 0 {
        (s.max(0).min(d), e.max(0).min(d))
    } else {
        (s.max(0).min(d - 1), e.max(-1).min(d - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn clamps_like_onnx() {
        assert_eq!(normalize(0, i64::MAX, 1, 10), (0, 10));
        assert_eq!(normalize(-3, -1, 1, 10), (7, 9));
        assert_eq!(normalize(-1, i64::MIN, -1, 10), (9, -1));
        assert_eq!(normalize(20, -20, -2, 10), (9, -1));
        assert_eq!(normalize(5, 2, 1, 10), (5, 2));
    }
}
