//! Constant (value, value_float(s), value_int(s)) and ConstantOfShape (constant shape operand):
//! both become IR constants. EyeLike (a static shape) becomes a constant too.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::tensor_proto::tensor_from_proto;
use kiln_ir::{Op, Tensor, ValueRef};

pub fn constant(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let set: Vec<&str> = ctx.node.attribute.iter().map(|a| a.name()).collect();
    if set.len() != 1 {
        return Err(ctx.err(format!("expects exactly one value attribute, got {set:?}")));
    }
    let t = match set[0] {
        "value" => match ctx.attr_tensor("value")? {
            Some(t) => tensor_from_proto(t, None).map_err(|e| ctx.err(e))?,
            None => return Err(ctx.err("attribute 'value' holds no tensor")),
        },
        "value_float" => Tensor::from_f32(&[], vec![ctx.attr_float("value_float", 0.0)?])?,
        "value_int" => Tensor::from_i64(&[], vec![ctx.attr_int("value_int", 0)?])?,
        "value_floats" => {
            let v = ctx.attr_floats("value_floats")?.unwrap_or_default();
            Tensor::from_f32(&[v.len()], v)?
        }
        "value_ints" => {
            let v = ctx.attr_ints("value_ints")?.unwrap_or_default();
            Tensor::from_i64(&[v.len()], v)?
        }
        other => return Err(ctx.err(format!("attribute '{other}' is unsupported (sparse and string constants)"))),
    };
    Ok(vec![ctx.add_constant(ctx.out_name(0), t)])
}

/// Largest tensor ConstantOfShape may create (elements).
const MAX_ELEMENTS: usize = 1 << 31;

/// `ConstantOfShape(shape)`: a tensor of `shape` filled with `value` (default float 0).
pub fn constant_of_shape(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let Some(dims) = ctx.const_ints_input(0, "shape")? else {
        return Err(ctx.err("input 0 (shape) is required"));
    };
    let mut shape = Vec::with_capacity(dims.len());
    for d in &dims {
        match usize::try_from(*d) {
            Ok(d) => shape.push(d),
            Err(_) => return Err(ctx.err(format!("shape {dims:?} has a negative dim"))),
        }
    }
    let fill = match ctx.attr_tensor("value")? {
        Some(t) => tensor_from_proto(t, None).map_err(|e| ctx.err(e))?,
        None => Tensor::from_f32(&[1], vec![0.0])?,
    };
    if fill.len() != 1 {
        return Err(ctx.err(format!("attribute 'value' must hold one element, it holds {}", fill.len())));
    }
    // Refuse absurd sizes before allocating (the shape comes from the model file).
    let n = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .filter(|n| *n <= MAX_ELEMENTS)
        .ok_or_else(|| ctx.err(format!("shape {dims:?} is too large (over {MAX_ELEMENTS} elements)")))?;
    let t = kiln_ir::for_each_dtype!(&fill, a => Tensor::from_vec(&shape, vec![a.iter().copied().next().unwrap_or_default(); n]));
    let t = t.map_err(|e| ctx.err(e))?;
    Ok(vec![ctx.add_constant(ctx.out_name(0), t)])
}

/// `EyeLike(x)` (opset 9): a constant of x's (static, 2-D) shape with ones on diagonal `k` and
/// zeros elsewhere, in the `dtype` attribute's type (x's when absent).
pub fn eye_like(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let [rows, cols] = shape[..] else {
        return Err(ctx.err(format!("input must be 2-D, got shape {shape:?}")));
    };
    let k = ctx.attr_int("k", 0)?;
    let dtype = match ctx.attr_int_opt("dtype")? {
        Some(code) => crate::tensor_proto::dtype_from_onnx(code as i32, "dtype").map_err(|e| ctx.err(e))?,
        None => ctx.ty(x).dtype,
    };
    let data: Vec<f64> = (0..rows * cols).map(|i| f64::from((i % cols) as i64 - (i / cols) as i64 == k)).collect();
    let eye = ctx.add_constant(ctx.tmp_name("eye_f64"), Tensor::from_f64(&shape, data)?);
    Ok(vec![ctx.emit_out(Op::Cast { to: dtype }, &[eye])?])
}
