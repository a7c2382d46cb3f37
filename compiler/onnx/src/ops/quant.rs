//! Quantization ops imported as compositions of IR ops; rounding and saturation follow the ONNX
//! reference implementation (`onnx/reference/ops/op_*quant*.py`, `op_qlinear_*.py`, `op_*_integer.py`):
//! - DequantizeLinear: `(f32(x) - f32(zp)) * scale`, cast to the scale's dtype (or `output_dtype`).
//! - QuantizeLinear: `clamp(round_half_even(x / scale) + zp)`, cast to the zero point's dtype
//!   (uint8 by default, or `output_dtype`); `x / scale` in numpy's promoted dtype (or `precision`).
//! - DynamicQuantizeLinear: uint8 scale/zero point from `min(0, min x)` and `max(0, max x)`.
//! - MatMulInteger / ConvInteger: `(x - zp)` in f64, MatMul/Conv in f64 (integer products of 8- and
//!   16-bit values summed are exact below 2^53), cast to i32.
//! - QLinearMatMul / QLinearConv: the integer MatMul/Conv as above, times
//!   `a_scale * b_scale / y_scale` (computed in the scales' dtype), plus `y_zp`, rounded half to
//!   even and saturated.
//!
//! Scales and zero points are per tensor, per axis (`axis`), or blocked (`block_size`, repeated
//! along `axis`). 8-bit float, 4-bit and 2-bit types are refused where the tensor is read.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, reshape, scalar, unary};
use crate::ops::product;
use crate::tensor_proto::dtype_from_onnx;
use kiln_ir::{BinaryOp, DType, Op, ReduceOp, UnaryOp, ValueRef};

/// `v` cast to `dt` (no op when it already has that dtype).
fn cast(ctx: &mut NodeCtx<'_>, v: ValueRef, dt: DType, suffix: &str) -> Result<ValueRef> {
    if ctx.ty(v).dtype == dt {
        return Ok(v);
    }
    ctx.emit_tmp(Op::Cast { to: dt }, &[v], suffix)
}

/// Emit `op` as the node's output `i`.
fn emit_named(ctx: &mut NodeCtx<'_>, op: Op, inputs: &[ValueRef], i: usize) -> Result<ValueRef> {
    let name = ctx.out_name(i);
    let outs = ctx.emit(op, inputs, &[name])?;
    outs.first().copied().ok_or_else(|| ctx.err("op produced no output"))
}

/// The saturation range of a quantized integer dtype.
fn quant_range(ctx: &NodeCtx<'_>, dt: DType) -> Result<(f64, f64)> {
    match dt {
        DType::U8 => Ok((0.0, 255.0)),
        DType::I8 => Ok((-128.0, 127.0)),
        DType::U16 => Ok((0.0, 65535.0)),
        DType::I16 => Ok((-32768.0, 32767.0)),
        _ => Err(ctx.err(format!("quantized dtype {} is unsupported (uint8, int8, uint16, int16)", dt.name()))),
    }
}

/// `v` (a scale or zero point) made broadcastable against `shape` as the reference's
/// `reshape_input` does: a one-element tensor becomes a scalar, a 1-D tensor lies along `axis`,
/// and with `block_size > 0` each element is repeated `block_size` times along `axis`.
fn param_view(
    ctx: &mut NodeCtx<'_>,
    v: ValueRef,
    shape: &[usize],
    axis: i64,
    block: usize,
    what: &str,
) -> Result<ValueRef> {
    let ps = ctx.shape(v);
    if product(&ps) == 1 {
        return reshape(ctx, v, vec![], what);
    }
    let axis = ctx.axis(axis, shape.len(), "axis")?;
    if block == 0 {
        if ps.len() != 1 || axis >= shape.len() || ps[0] != shape[axis] {
            return Err(ctx.err(format!(
                "{what} of shape {ps:?} must be a scalar or a vector of the {} elements along axis {axis} of {shape:?}",
                shape.get(axis).copied().unwrap_or(0)
            )));
        }
        let mut dims = vec![1; shape.len()];
        dims[axis] = ps[0];
        return reshape(ctx, v, dims, what);
    }
    let blocks = shape.get(axis).map(|d| d.div_ceil(block));
    let ok = ps.len() == shape.len()
        && Some(ps[axis]) == blocks
        && ps.iter().zip(shape).enumerate().all(|(i, (p, s))| i == axis || p == s);
    if !ok {
        return Err(ctx.err(format!(
            "{what} of shape {ps:?} does not block {shape:?} along axis {axis} with block_size {block}"
        )));
    }
    let mut unsq = ps.clone();
    unsq.insert(axis + 1, 1);
    let u = reshape(ctx, v, unsq.clone(), &format!("{what}_blocks"))?;
    unsq[axis + 1] = block;
    let e = ctx.emit_tmp(Op::Expand { shape: unsq }, &[u], &format!("{what}_repeated"))?;
    let mut merged = ps.clone();
    merged[axis] *= block;
    let m = reshape(ctx, e, merged.clone(), &format!("{what}_merged"))?;
    if merged[axis] == shape[axis] {
        return Ok(m);
    }
    let op = Op::Slice { axes: vec![axis], starts: vec![0], ends: vec![shape[axis] as i64], steps: vec![1] };
    ctx.emit_tmp(op, &[m], &format!("{what}_trimmed"))
}

/// The `axis` (unresolved: it only matters for per-axis or blocked parameters) and `block_size`
/// attributes.
fn axis_block(ctx: &NodeCtx<'_>) -> Result<(i64, usize)> {
    let axis = ctx.attr_int("axis", 1)?;
    let block = ctx.attr_int("block_size", 0)?;
    let block = usize::try_from(block).map_err(|_| ctx.err(format!("block_size {block} must be >= 0")))?;
    Ok((axis, block))
}

/// An optional input (absent or empty: `None`).
fn opt(ctx: &NodeCtx<'_>, i: usize) -> Option<ValueRef> {
    ctx.opt_input(i).filter(|v| !ctx.shape(*v).contains(&0))
}

/// `round_half_even(v) + zp`, saturated to `dt`'s range and cast to `dt` as the node's output `out`.
/// `v` is float; the sum and clamp run in f32 (f64 when `v` is f64).
fn requantize(ctx: &mut NodeCtx<'_>, v: ValueRef, zp: Option<ValueRef>, dt: DType, out: usize) -> Result<ValueRef> {
    let (lo, hi) = quant_range(ctx, dt)?;
    let rounded = unary(ctx, UnaryOp::Round, v, "rounded")?;
    let fdt = if ctx.ty(v).dtype == DType::F64 { DType::F64 } else { DType::F32 };
    let mut acc = cast(ctx, rounded, fdt, "rounded_wide")?;
    if let Some(zp) = zp {
        let zpf = cast(ctx, zp, fdt, "zero_point_float")?;
        acc = binary(ctx, BinaryOp::Add, acc, zpf, "shifted")?;
    }
    let lo = scalar(ctx, lo, fdt, "qmin")?;
    let hi = scalar(ctx, hi, fdt, "qmax")?;
    let a = binary(ctx, BinaryOp::Max, acc, lo, "clamp_low")?;
    let c = binary(ctx, BinaryOp::Min, a, hi, "clamped")?;
    emit_named(ctx, Op::Cast { to: dt }, &[c], out)
}

/// numpy's result dtype for float arithmetic on `a` and `b`.
fn promoted(a: DType, b: DType) -> DType {
    match (a, b) {
        _ if a == b => a,
        (DType::F64, _) | (_, DType::F64) => DType::F64,
        _ => DType::F32,
    }
}

pub fn dequantize_linear(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale) = (ctx.input(0)?, ctx.input(1)?);
    let shape = ctx.shape(x);
    let (axis, block) = axis_block(ctx)?;
    let out_dt = match ctx.attr_int("output_dtype", 0)? {
        0 => ctx.ty(scale).dtype,
        code => dtype_from_onnx(code as i32, "output_dtype")?,
    };
    let xf = cast(ctx, x, DType::F32, "x_float")?;
    let centered = match opt(ctx, 2) {
        Some(zp) => {
            if ctx.ty(zp).dtype != ctx.ty(x).dtype {
                return Err(ctx.err(format!("zero point {} and x {} differ in dtype", ctx.ty(zp), ctx.ty(x))));
            }
            let zpv = param_view(ctx, zp, &shape, axis, block, "zero_point")?;
            let zpf = cast(ctx, zpv, DType::F32, "zero_point_float")?;
            binary(ctx, BinaryOp::Sub, xf, zpf, "centered")?
        }
        None => xf,
    };
    let sv = param_view(ctx, scale, &shape, axis, block, "scale")?;
    let sf = cast(ctx, sv, DType::F32, "scale_float")?;
    if out_dt == DType::F32 {
        return Ok(vec![emit_named(ctx, Op::Binary(BinaryOp::Mul), &[centered, sf], 0)?]);
    }
    let y = binary(ctx, BinaryOp::Mul, centered, sf, "scaled")?;
    Ok(vec![emit_named(ctx, Op::Cast { to: out_dt }, &[y], 0)?])
}

pub fn quantize_linear(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale) = (ctx.input(0)?, ctx.input(1)?);
    let shape = ctx.shape(x);
    let (axis, block) = axis_block(ctx)?;
    let zp = opt(ctx, 2);
    let out_dt = match (zp, ctx.attr_int("output_dtype", 0)?) {
        (Some(z), 0) => ctx.ty(z).dtype,
        (None, 0) => DType::U8,
        (z, code) => {
            let d = dtype_from_onnx(code as i32, "output_dtype")?;
            if let Some(z) = z.filter(|z| ctx.ty(*z).dtype != d) {
                return Err(ctx.err(format!("output_dtype {} differs from the zero point's {}", d.name(), ctx.ty(z))));
            }
            d
        }
    };
    quant_range(ctx, out_dt)?;
    let cdt = match ctx.attr_int("precision", 0)? {
        0 => promoted(ctx.ty(x).dtype, ctx.ty(scale).dtype),
        code => dtype_from_onnx(code as i32, "precision")?,
    };
    if !cdt.is_float() {
        return Err(ctx.err(format!("x and scale must be floats, got {} and {}", ctx.ty(x), ctx.ty(scale))));
    }
    let sv = param_view(ctx, scale, &shape, axis, block, "scale")?;
    let xc = cast(ctx, x, cdt, "x_compute")?;
    let sc = cast(ctx, sv, cdt, "scale_compute")?;
    let q = binary(ctx, BinaryOp::Div, xc, sc, "scaled")?;
    let zpv = match zp {
        Some(z) => Some(param_view(ctx, z, &shape, axis, block, "zero_point")?),
        None => None,
    };
    Ok(vec![requantize(ctx, q, zpv, out_dt, 0)?])
}

pub fn dynamic_quantize_linear(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let xdt = ctx.ty(x).dtype;
    if !xdt.is_float() {
        return Err(ctx.err(format!("x must be a float tensor, got {}", ctx.ty(x))));
    }
    let rank = ctx.rank(x);
    let xf = cast(ctx, x, DType::F32, "x_float")?;
    let all = |op| Op::Reduce { op, axes: (0..rank).collect(), keep_dims: false };
    let zero = scalar(ctx, 0.0, DType::F32, "zero")?;
    let mx = ctx.emit_tmp(all(ReduceOp::Max), &[xf], "max")?;
    let mn = ctx.emit_tmp(all(ReduceOp::Min), &[xf], "min")?;
    let maxx = binary(ctx, BinaryOp::Max, mx, zero, "max0")?;
    let minx = binary(ctx, BinaryOp::Min, mn, zero, "min0")?;
    let range = binary(ctx, BinaryOp::Sub, maxx, minx, "range")?;
    let empty = binary(ctx, BinaryOp::Equal, maxx, minx, "empty_range")?;
    let one = scalar(ctx, 1.0, DType::F32, "one")?;
    let range = ctx.emit_tmp(Op::Where, &[empty, one, range], "range_nonzero")?;
    let q = scalar(ctx, 255.0, DType::F32, "qrange")?;
    let y_scale = binary(ctx, BinaryOp::Div, range, q, "y_scale")?;
    // zero point: round(clamp(0 - min / scale, 0, 255)).
    let ratio = binary(ctx, BinaryOp::Div, minx, y_scale, "min_over_scale")?;
    let initial = binary(ctx, BinaryOp::Sub, zero, ratio, "initial_zero_point")?;
    let hi = scalar(ctx, 255.0, DType::F32, "qmax")?;
    let lo_c = binary(ctx, BinaryOp::Max, initial, zero, "zero_point_low")?;
    let zp_c = binary(ctx, BinaryOp::Min, lo_c, hi, "zero_point_clamped")?;
    let zpi = unary(ctx, UnaryOp::Round, zp_c, "zero_point_rounded")?;
    let scaled = binary(ctx, BinaryOp::Div, xf, y_scale, "scaled")?;
    let y = requantize(ctx, scaled, Some(zpi), DType::U8, 0)?;
    let scale_out = emit_named(ctx, Op::Cast { to: xdt }, &[y_scale], 1)?;
    let zp_out = emit_named(ctx, Op::Cast { to: DType::U8 }, &[zpi], 2)?;
    Ok(vec![y, scale_out, zp_out])
}

/// `f64(v) - f64(zp)` (zp optional, numpy-broadcast or already shaped by the caller).
fn centered_f64(ctx: &mut NodeCtx<'_>, v: ValueRef, zp: Option<ValueRef>, what: &str) -> Result<ValueRef> {
    if !ctx.ty(v).dtype.is_int() {
        return Err(ctx.err(format!("{what} must be an integer tensor, got {}", ctx.ty(v))));
    }
    let vf = cast(ctx, v, DType::F64, &format!("{what}_f64"))?;
    let Some(zp) = zp else {
        return Ok(vf);
    };
    let zf = cast(ctx, zp, DType::F64, &format!("{what}_zero_point_f64"))?;
    binary(ctx, BinaryOp::Sub, vf, zf, &format!("{what}_centered"))
}

/// A per-output-channel weight zero point `[M]` viewed as `[M, 1, 1, 1]`; a scalar as is.
fn per_channel(ctx: &mut NodeCtx<'_>, v: ValueRef, what: &str) -> Result<ValueRef> {
    let s = ctx.shape(v);
    if s.len() == 1 && s[0] > 1 {
        return reshape(ctx, v, vec![s[0], 1, 1, 1], what);
    }
    Ok(v)
}

/// A 2-D Conv of `x` and `w` (f64) with the node's conv attributes, optional bias.
fn conv_f64(ctx: &mut NodeCtx<'_>, x: ValueRef, w: ValueRef, b: Option<ValueRef>) -> Result<ValueRef> {
    let op = crate::ops::conv::conv_op(ctx, x, w)?;
    let mut ins = vec![x, w];
    ins.extend(b);
    ctx.emit_tmp(op, &ins, "conv")
}

pub fn matmul_integer(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    let (azp, bzp) = (opt(ctx, 2), opt(ctx, 3));
    let af = centered_f64(ctx, a, azp, "a")?;
    let bf = centered_f64(ctx, b, bzp, "b")?;
    let c = ctx.emit_tmp(Op::MatMul, &[af, bf], "product")?;
    Ok(vec![emit_named(ctx, Op::Cast { to: DType::I32 }, &[c], 0)?])
}

pub fn conv_integer(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, w) = (ctx.input(0)?, ctx.input(1)?);
    let xzp = opt(ctx, 2);
    let wzp = match opt(ctx, 3) {
        Some(z) => Some(per_channel(ctx, z, "w_zero_point")?),
        None => None,
    };
    let xf = centered_f64(ctx, x, xzp, "x")?;
    let wf = centered_f64(ctx, w, wzp, "w")?;
    let c = conv_f64(ctx, xf, wf, None)?;
    Ok(vec![emit_named(ctx, Op::Cast { to: DType::I32 }, &[c], 0)?])
}

/// `acc * (sa * sb / sy) + y_zp`, rounded and saturated to `y_zp`'s dtype (or `fallback`).
fn qlinear_output(
    ctx: &mut NodeCtx<'_>,
    acc: ValueRef,
    sa: ValueRef,
    sb: ValueRef,
    sy: ValueRef,
    yzp: Option<ValueRef>,
    fallback: DType,
) -> Result<Vec<ValueRef>> {
    let ab = binary(ctx, BinaryOp::Mul, sa, sb, "scale_product")?;
    let m = binary(ctx, BinaryOp::Div, ab, sy, "multiplier")?;
    let m64 = cast(ctx, m, DType::F64, "multiplier_f64")?;
    let scaled = binary(ctx, BinaryOp::Mul, acc, m64, "rescaled")?;
    let dt = yzp.map_or(fallback, |z| ctx.ty(z).dtype);
    Ok(vec![requantize(ctx, scaled, yzp, dt, 0)?])
}

pub fn qlinear_matmul(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (a, sa, b, sb, sy) = (ctx.input(0)?, ctx.input(1)?, ctx.input(3)?, ctx.input(4)?, ctx.input(6)?);
    let (azp, bzp, yzp) = (opt(ctx, 2), opt(ctx, 5), opt(ctx, 7));
    let af = centered_f64(ctx, a, azp, "a")?;
    let bf = centered_f64(ctx, b, bzp, "b")?;
    let c = ctx.emit_tmp(Op::MatMul, &[af, bf], "product")?;
    let fallback = ctx.ty(a).dtype;
    qlinear_output(ctx, c, sa, sb, sy, yzp, fallback)
}

pub fn qlinear_conv(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, sx, w, sw, sy) = (ctx.input(0)?, ctx.input(1)?, ctx.input(3)?, ctx.input(4)?, ctx.input(6)?);
    let (xzp, yzp) = (opt(ctx, 2), opt(ctx, 7));
    let wzp = match opt(ctx, 5) {
        Some(z) => Some(per_channel(ctx, z, "w_zero_point")?),
        None => None,
    };
    let xf = centered_f64(ctx, x, xzp, "x")?;
    let wf = centered_f64(ctx, w, wzp, "w")?;
    let bias = match opt(ctx, 8) {
        Some(b) => Some(cast(ctx, b, DType::F64, "bias_f64")?),
        None => None,
    };
    let c = conv_f64(ctx, xf, wf, bias)?;
    // A per-channel w_scale [M] scales output channel m: view it as [1, M, 1, 1].
    let ws = ctx.shape(sw);
    let sw = if product(&ws) > 1 { reshape(ctx, sw, vec![1, product(&ws), 1, 1], "w_scale_channels")? } else { sw };
    let fallback = ctx.ty(x).dtype;
    let y_dt = yzp.map_or(fallback, |z| ctx.ty(z).dtype);
    if !matches!(y_dt, DType::I8 | DType::U8) {
        return Err(ctx.err(format!("output dtype {} is unsupported (int8 or uint8)", y_dt.name())));
    }
    qlinear_output(ctx, c, sx, sw, sy, yzp, fallback)
}
