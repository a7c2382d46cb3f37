//! ConvTranspose, 1-D and 2-D: x `[N, C_in, spatial]`, w `[C_in, C_out/group, k...]`[, b
//! `[C_out]`]; strides, dilations, group, pads / auto_pad, output_padding, output_shape.
//!
//! Composed as a stride-1 Conv: x with `stride - 1` zeros inserted after every element (Reshape
//! to add a unit dim after each spatial dim, Pad it to the stride, Reshape back), then padded
//! by `span - 1 - pad_begin` before and `span - 1 - pad_end + output_padding - (stride - 1)`
//! after (negative = crop; `span = (k - 1) * dilation + 1`), convolved with the weight regrouped
//! to `[C_out, C_in/group, k...]` and flipped spatially (Slice with step -1), same dilations.
//! With `output_shape`, or auto_pad SAME_UPPER / SAME_LOWER (output = input * stride), the pads
//! come from `total = stride * (in - 1) + output_padding + span - out` as in the ONNX spec:
//! SAME_UPPER puts `floor(total / 2)` first, the others put it last (onnxruntime agrees). A
//! negative total (output_shape larger than the full output) extends with zeros: at the end
//! under NOTSET, on both sides under SAME_* (the ONNX reference; onnxruntime refuses it). A 1-D
//! op runs as 2-D over `[N, C, 1, L]`.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{require_float, reshape, transpose};
use crate::ops::lp_pool::{ints, to_2d};
use kiln_ir::op::PadMode;
use kiln_ir::{Op, ValueRef};

/// Per spatial dim: (pad begin, pad end) of the transposed convolution (negative end = extend).
fn pads(ctx: &NodeCtx<'_>, in_sp: &[usize], k: &[usize], s: &[i64], d: &[i64], op: &[i64]) -> Result<Vec<(i64, i64)>> {
    let nd = in_sp.len();
    let full: Vec<i64> = (0..nd).map(|i| s[i] * (in_sp[i] as i64 - 1) + op[i] + (k[i] as i64 - 1) * d[i] + 1).collect();
    let auto_pad = ctx.attr_string("auto_pad", "NOTSET")?;
    let out_shape = match ctx.attr_ints("output_shape")? {
        Some(o) if o.len() == nd || o.len() == nd + 2 => Some(o[o.len() - nd..].to_vec()),
        Some(o) => return Err(ctx.err(format!("output_shape {o:?} must have {nd} values"))),
        None if auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" => {
            Some((0..nd).map(|i| in_sp[i] as i64 * s[i]).collect())
        }
        None => None,
    };
    if let Some(out) = out_shape {
        return Ok((0..nd)
            .map(|i| {
                let total = full[i] - out[i];
                let half = total.div_euclid(2);
                if total < 0 && auto_pad == "NOTSET" {
                    (0, total)
                } else if auto_pad == "SAME_UPPER" {
                    (half, total - half)
                } else {
                    (total - half, half)
                }
            })
            .collect());
    }
    match auto_pad.as_str() {
        "NOTSET" => {
            let p = ints(ctx, "pads", 2 * nd, 0, 0)?;
            Ok((0..nd).map(|i| (p[i], p[i + nd])).collect())
        }
        "VALID" => Ok(vec![(0, 0); nd]),
        other => Err(ctx.err(format!("auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"))),
    }
}

pub fn conv_transpose(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, w) = (ctx.input(0)?, ctx.input(1)?);
    require_float(ctx, x, "X")?;
    let (xs, ws) = (ctx.shape(x), ctx.shape(w));
    if (xs.len() != 3 && xs.len() != 4) || ws.len() != xs.len() {
        return Err(ctx.err(format!("only 1-D and 2-D ConvTranspose is supported (x {xs:?}, w {ws:?})")));
    }
    let nd = xs.len() - 2;
    let (n, c_in, c_out_g) = (xs[0], xs[1], ws[1]);
    let kernel = ws[2..].to_vec();
    if let Some(k) = ctx.attr_ints("kernel_shape")? {
        if k.iter().map(|v| *v as usize).ne(kernel.iter().copied()) {
            return Err(ctx.err(format!("kernel_shape {k:?} does not match the weight's {kernel:?}")));
        }
    }
    if kernel.contains(&0) || c_out_g == 0 {
        return Err(ctx.err(format!("weight shape {ws:?} is empty")));
    }
    let g = ctx.attr_int("group", 1)?;
    let g = usize::try_from(g).ok().filter(|g| *g > 0 && c_in % g == 0 && ws[0] == c_in).ok_or_else(|| {
        ctx.err(format!("group {g} must divide the {c_in} input channels, and w {ws:?} lead with them"))
    })?;
    let s = ints(ctx, "strides", nd, 1, 1)?;
    let d = ints(ctx, "dilations", nd, 1, 1)?;
    let op = ints(ctx, "output_padding", nd, 0, 0)?;
    let pads = pads(ctx, &xs[2..], &kernel, &s, &d, &op)?;

    // Zero insertion: [N, C, H, W] -> [N, C, H, 1, W, 1] -> pad to [N, C, H, sH, W, sW] -> [N, C, H*sH, W*sW].
    let hw = to_2d(&xs[2..].iter().map(|v| *v as i64).collect::<Vec<_>>(), 1);
    let (s2, d2, op2, k2) =
        (to_2d(&s, 1), to_2d(&d, 1), to_2d(&op, 0), to_2d(&kernel.iter().map(|v| *v as i64).collect::<Vec<_>>(), 1));
    let p2: Vec<(i64, i64)> = if nd == 1 { vec![(0, 0), pads[0]] } else { pads };
    let mut up = reshape(ctx, x, vec![n, c_in, hw[0], hw[1]], "nchw")?;
    if s2 != [1, 1] {
        let six = reshape(ctx, up, vec![n, c_in, hw[0], 1, hw[1], 1], "unit_dims")?;
        let mut zp = vec![0i64; 12];
        zp[6 + 3] = s2[0] as i64 - 1;
        zp[6 + 5] = s2[1] as i64 - 1;
        let padded = ctx.emit_tmp(Op::Pad { pads: zp, mode: PadMode::Constant }, &[six], "zeros_inserted")?;
        up = reshape(ctx, padded, vec![n, c_in, hw[0] * s2[0], hw[1] * s2[1]], "upsampled")?;
    }
    let mut cp = vec![0i64; 8];
    for i in 0..2 {
        let span = (k2[i] as i64 - 1) * d2[i] as i64 + 1;
        cp[2 + i] = span - 1 - p2[i].0;
        cp[6 + i] = span - 1 - p2[i].1 + op2[i] as i64 - (s2[i] as i64 - 1);
    }
    let xp = ctx.emit_tmp(Op::Pad { pads: cp, mode: PadMode::Constant }, &[up], "conv_input")?;

    // Weight: [C_in, C_out/g, kH, kW] -> [g, C_in/g, C_out/g, kH, kW] -> [C_out, C_in/g, kH, kW], flipped.
    let (kh, kw) = (k2[0], k2[1]);
    let w5 = reshape(ctx, w, vec![g, c_in / g, c_out_g, kh, kw], "w_grouped")?;
    let wt = transpose(ctx, w5, vec![0, 2, 1, 3, 4], "w_transposed")?;
    let w4 = reshape(ctx, wt, vec![g * c_out_g, c_in / g, kh, kw], "w_regrouped")?;
    let flip = Op::Slice {
        axes: vec![2, 3],
        starts: vec![kh as i64 - 1, kw as i64 - 1],
        ends: vec![-1, -1],
        steps: vec![-1, -1],
    };
    let wf = ctx.emit_tmp(flip, &[w4], "w_flipped")?;
    let mut ins = vec![xp, wf];
    ins.extend(ctx.opt_input(2));
    let conv = Op::Conv { strides: vec![1, 1], pads: vec![0; 4], dilations: d2, group: g };
    if nd == 2 {
        return Ok(vec![ctx.emit_out(conv, &ins)?]);
    }
    let y4 = ctx.emit_tmp(conv, &ins, "2d")?;
    let ys = ctx.shape(y4);
    Ok(vec![ctx.emit_out(Op::Reshape { shape: vec![ys[0], ys[1], ys[3]] }, &[y4])?])
}
