//! Identity and Dropout (inference): output 0 aliases input 0; no IR op is added. Dropout's
//! mask output is not produced (the driver refuses a model that uses it), and a constant
//! `training_mode` = true is refused.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::ValueRef;

pub fn identity(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    Ok(vec![ctx.input(0)?])
}

pub fn dropout(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    if ctx.opset >= 12 {
        if let Some(v) = ctx.opt_input(2) {
            match ctx.constant(v) {
                Some(t) if t.to_f64_vec().iter().all(|x| *x == 0.0) => {}
                Some(_) => return Err(ctx.err("training_mode = true is unsupported (inference only)")),
                None => return Err(ctx.err("training_mode must be a constant (inference only)")),
            }
        }
    }
    Ok(vec![ctx.input(0)?])
}
