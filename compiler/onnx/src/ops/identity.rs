//! Identity and Dropout (inference): output 0 aliases input 0; no IR op is added. Dropout is the
//! identity when it is not training or its ratio is 0 (ONNX's reference returns `x` and an all-true
//! mask then); its mask output is that all-true constant. Training with a ratio above 0 (random
//! output) is refused.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Tensor, ValueRef};

pub fn identity(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    Ok(vec![ctx.input(0)?])
}

pub fn dropout(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    if ctx.opset >= 12 {
        if let Some(t) = ctx.opt_input(2) {
            if training(ctx, t, 2, "training_mode")? {
                // Training: the identity only with ratio 0 (ratio defaults to 0.5).
                let zero = match ctx.opt_input(1) {
                    Some(r) => !training(ctx, r, 1, "ratio")?,
                    None => false,
                };
                if !zero {
                    return Err(ctx.err("training_mode = true with a ratio above 0 is unsupported (random output)"));
                }
            }
        }
    }
    let mut outs = vec![x];
    if !ctx.out_name(1).is_empty() {
        let shape = ctx.shape(x);
        let n = shape.iter().product();
        let mask = Tensor::from_bool(&shape, vec![true; n]).map_err(|e| ctx.err(e))?;
        outs.push(ctx.add_constant(ctx.out_name(1), mask));
    }
    Ok(outs)
}

/// Whether constant operand `i` (`what`) is nonzero; asks for it as a constant when it is not one
/// (it decides whether the output is random, like a shape operand decides a shape).
fn training(ctx: &NodeCtx<'_>, v: ValueRef, i: usize, what: &str) -> Result<bool> {
    let name = ctx.node.input.get(i).map(String::as_str).unwrap_or("");
    match ctx.constant(v) {
        Some(t) => Ok(t.to_f64_vec().iter().any(|x| *x != 0.0)),
        None => Err(ctx.err(format!("{what} (input {i} '{name}') needs a constant operand (kiln compiles inference)"))),
    }
}
