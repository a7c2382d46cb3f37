//! BatchNormalization, inference form: inputs X, scale, B, mean, var. `spatial` (opset < 9)
//! must be 1 and `training_mode` (opset 14+) must be 0; the running-statistics outputs are not
//! produced (the driver refuses a model using them).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn batch_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    if ctx.opset < 9 && ctx.attr_int("spatial", 1)? != 1 {
        return Err(ctx.err("spatial = 0 is unsupported"));
    }
    if ctx.attr_int("training_mode", 0)? != 0 {
        return Err(ctx.err("training_mode = 1 is unsupported (inference only)"));
    }
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let ins = [ctx.input(0)?, ctx.input(1)?, ctx.input(2)?, ctx.input(3)?, ctx.input(4)?];
    Ok(vec![ctx.emit_out(Op::BatchNorm { epsilon }, &ins)?])
}
