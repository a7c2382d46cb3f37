//! Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9). The output shape is static,
//! so each resized axis becomes constant index and weight tensors built at import
//! (`resize_axis.rs`): nearest is one `Gather(x, idx)`; linear / cubic gather every tap at once,
//! `Gather(x, idx[O * taps])` viewed as `[.., O, taps, ..]`, times the weights
//! `[O, taps, 1, ..]`, summed over the taps. Axes are resized one after another (the
//! interpolation is separable). `tf_crop_and_resize` positions outside the input take
//! `extrapolation_value` through a Where with a constant mask.
//!
//! Operands: `scales` / `sizes` / `roi` must be constants (scales and roi are floats, so the
//! node tests that feed them as run-time inputs are out of reach). Before opset 11 (Resize-10,
//! Upsample) the coordinates are `asymmetric` and nearest rounds like onnxruntime (floor when
//! upsampling, ceil when downsampling). `antialias = 1` is refused.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, const_bool, const_f64, const_i64, const_input, reshape, scalar};
use crate::ops::resize_axis::{nearest_indices, taps, Coord, Mode, Nearest};
use kiln_ir::{BinaryOp, Op, ReduceOp, ValueRef};

/// What every resized axis needs: the mode, and per axis of x the scale, output size and
/// coordinate mapping.
struct Plan {
    mode: Mode,
    scales: Vec<f64>,
    out: Vec<usize>,
    coords: Vec<Coord>,
    extrapolation: f64,
}

pub fn resize(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let rank = shape.len();
    if ctx.opset >= 18 && ctx.attr_int("antialias", 0)? != 0 {
        return Err(ctx.err("antialias = 1 is unsupported"));
    }
    let legacy = ctx.opset < 11;
    let coord_name = if legacy {
        "asymmetric".to_string()
    } else {
        ctx.attr_string("coordinate_transformation_mode", "half_pixel")?
    };
    let nearest = if legacy {
        Nearest::Simple
    } else {
        match ctx.attr_string("nearest_mode", "round_prefer_floor")?.as_str() {
            "round_prefer_floor" => Nearest::RoundPreferFloor,
            "round_prefer_ceil" => Nearest::RoundPreferCeil,
            "floor" => Nearest::Floor,
            "ceil" => Nearest::Ceil,
            m => return Err(ctx.err(format!("nearest_mode '{m}' is unknown"))),
        }
    };
    let mode = read_mode(ctx, nearest)?;
    let axes: Vec<usize> = match ctx.attr_ints("axes")? {
        Some(a) if ctx.opset >= 18 => ctx.axes(&a, rank, "axes")?,
        _ => (0..rank).collect(),
    };
    let scales_at = if legacy { 1 } else { 2 };
    let given_scales = const_input(ctx, scales_at, "scales")?.map(|t| t.to_f64_vec());
    let given_sizes = if legacy { None } else { ctx.const_ints_input(3, "sizes")?.filter(|s| !s.is_empty()) };
    let mut scales = vec![1.0; rank];
    let mut out = shape.clone();
    match (given_scales, given_sizes) {
        (_, Some(sizes)) => {
            if sizes.len() != axes.len() || sizes.iter().any(|s| *s < 0) {
                return Err(ctx.err(format!("sizes {sizes:?} must be {} non-negative values", axes.len())));
            }
            for (a, s) in axes.iter().zip(&sizes) {
                out[*a] = *s as usize;
                scales[*a] = *s as f64 / shape[*a] as f64;
            }
            let policy = if ctx.opset >= 18 {
                ctx.attr_string("keep_aspect_ratio_policy", "stretch")?
            } else {
                "stretch".into()
            };
            let pick = axes.iter().map(|a| scales[*a]);
            let one = match policy.as_str() {
                "stretch" => None,
                "not_larger" => pick.reduce(f64::min),
                "not_smaller" => pick.reduce(f64::max),
                p => return Err(ctx.err(format!("keep_aspect_ratio_policy '{p}' is unknown"))),
            };
            if let Some(s) = one {
                for a in &axes {
                    scales[*a] = s;
                    out[*a] = (s * shape[*a] as f64 + 0.5) as usize;
                }
            }
        }
        (Some(given), None) => {
            if given.len() != axes.len() || given.iter().any(|s| !(*s > 0.0 && s.is_finite())) {
                return Err(ctx.err(format!("scales {given:?} must be {} positive values", axes.len())));
            }
            for (a, s) in axes.iter().zip(&given) {
                scales[*a] = *s;
                out[*a] = (*s * shape[*a] as f64) as usize;
            }
        }
        (None, None) => return Err(ctx.err("one of scales and sizes is required")),
    }
    if (0..rank).any(|a| shape[a] == 0 && out[a] != 0) {
        return Err(ctx.err(format!("cannot resize an empty axis of {shape:?} to {out:?}")));
    }
    let coord = match coord_name.as_str() {
        "half_pixel" => Coord::HalfPixel,
        "half_pixel_symmetric" => Coord::HalfPixelSymmetric,
        "pytorch_half_pixel" => Coord::PytorchHalfPixel,
        "align_corners" => Coord::AlignCorners,
        "asymmetric" => Coord::Asymmetric,
        "tf_crop_and_resize" => Coord::TfCropAndResize(0.0, 1.0),
        m => return Err(ctx.err(format!("coordinate_transformation_mode '{m}' is unknown"))),
    };
    let mut coords = vec![coord; rank];
    if coord_name == "tf_crop_and_resize" {
        let roi = const_input(ctx, 1, "roi")?.ok_or_else(|| ctx.err("tf_crop_and_resize needs roi"))?.to_f64_vec();
        if roi.len() != 2 * axes.len() {
            return Err(ctx.err(format!("roi {roi:?} must hold {} values", 2 * axes.len())));
        }
        for (i, a) in axes.iter().enumerate() {
            coords[*a] = Coord::TfCropAndResize(roi[i], roi[axes.len() + i]);
        }
    }
    let extrapolation = ctx.attr_float("extrapolation_value", 0.0)? as f64;
    Ok(vec![apply(ctx, x, &Plan { mode, scales, out, coords, extrapolation })?])
}

fn read_mode(ctx: &NodeCtx<'_>, nearest: Nearest) -> Result<Mode> {
    Ok(match ctx.attr_string("mode", "nearest")?.as_str() {
        "nearest" => Mode::Nearest(nearest),
        "linear" | "bilinear" => Mode::Linear,
        "cubic" if ctx.opset >= 11 => Mode::Cubic {
            a: ctx.attr_float("cubic_coeff_a", -0.75)? as f64,
            exclude_outside: ctx.attr_bool("exclude_outside", false)?,
        },
        m => return Err(ctx.err(format!("mode '{m}' is unsupported at opset {}", ctx.opset))),
    })
}

pub fn upsample(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let scales: Vec<f64> = if ctx.opset >= 9 {
        const_input(ctx, 1, "scales")?.ok_or_else(|| ctx.err("input 1 (scales) is required"))?.to_f64_vec()
    } else {
        let s = ctx.attr_floats("scales")?.ok_or_else(|| ctx.err("attribute 'scales' is required"))?;
        s.iter().map(|v| *v as f64).collect()
    };
    if scales.len() != shape.len() || scales.iter().any(|s| !(*s >= 1.0 && s.is_finite())) {
        return Err(ctx.err(format!("scales {scales:?} must be {} values >= 1", shape.len())));
    }
    let mode = read_mode(ctx, Nearest::Simple)?;
    let out = shape.iter().zip(&scales).map(|(d, s)| (*d as f64 * s) as usize).collect();
    let coords = vec![Coord::Asymmetric; shape.len()];
    Ok(vec![apply(ctx, x, &Plan { mode, scales, out, coords, extrapolation: 0.0 })?])
}

/// Resize every axis whose size, scale or region changes.
fn apply(ctx: &mut NodeCtx<'_>, x: ValueRef, plan: &Plan) -> Result<ValueRef> {
    let shape = ctx.shape(x);
    let mut v = x;
    for d in 0..shape.len() {
        let (i, o, s, coord) = (shape[d], plan.out[d], plan.scales[d], plan.coords[d]);
        let trivial_roi = matches!(coord, Coord::TfCropAndResize(a, b) if a == 0.0 && b == 1.0)
            || !matches!(coord, Coord::TfCropAndResize(..));
        if o == i && s == 1.0 && trivial_roi {
            continue;
        }
        v = resize_axis(ctx, v, d, i, o, s, coord, plan)?;
    }
    Ok(v)
}

#[allow(clippy::too_many_arguments)]
fn resize_axis(
    ctx: &mut NodeCtx<'_>,
    x: ValueRef,
    d: usize,
    i: usize,
    o: usize,
    s: f64,
    coord: Coord,
    plan: &Plan,
) -> Result<ValueRef> {
    let t = taps(plan.mode, coord, i, o, s);
    if let Mode::Nearest(_) = plan.mode {
        let idx = const_i64(ctx, &[o], nearest_indices(&t), &format!("index{d}"))?;
        return ctx.emit_tmp(Op::Gather { axis: d }, &[x, idx], &format!("axis{d}"));
    }
    let ty = ctx.ty(x);
    if !ty.dtype.is_float() {
        return Err(ctx.err(format!("linear and cubic modes need a float input, got {ty}")));
    }
    let n = t.taps;
    let idx = const_i64(ctx, &[o * n], t.index.clone(), &format!("index{d}"))?;
    let g = ctx.emit_tmp(Op::Gather { axis: d }, &[x, idx], &format!("taps{d}"))?;
    let mut split = ty.shape.clone();
    split[d] = n;
    split.insert(d, o);
    let g = reshape(ctx, g, split, &format!("taps{d}_view"))?;
    let trailing = ty.rank() - d - 1;
    let mut wshape = vec![o, n];
    wshape.extend(std::iter::repeat(1).take(trailing));
    let w = const_f64(ctx, &wshape, t.weight.clone(), ty.dtype, &format!("weight{d}"))?;
    let weighted = binary(ctx, BinaryOp::Mul, g, w, &format!("weighted{d}"))?;
    let sum = Op::Reduce { op: ReduceOp::Sum, axes: vec![d + 1], keep_dims: false };
    let mut v = ctx.emit_tmp(sum, &[weighted], &format!("axis{d}"))?;
    if t.outside.iter().any(|b| *b) {
        let mut mshape = vec![o];
        mshape.extend(std::iter::repeat(1).take(trailing));
        let mask = const_bool(ctx, &mshape, t.outside.clone(), &format!("outside{d}"))?;
        let e = scalar(ctx, plan.extrapolation, ty.dtype, "extrapolation")?;
        v = ctx.emit_tmp(Op::Where, &[mask, e, v], &format!("axis{d}_extrapolated"))?;
    }
    Ok(v)
}
