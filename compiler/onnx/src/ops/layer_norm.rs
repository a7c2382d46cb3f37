//! LayerNormalization (opset 17): inputs X, Scale[, B]; `axis` default -1, `epsilon` default
//! 1e-5. The Mean and InvStdDev outputs are not produced (the driver refuses a model using them).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn layer_norm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, scale) = (ctx.input(0)?, ctx.input(1)?);
    let axis = ctx.axis(ctx.attr_int("axis", -1)?, ctx.rank(x), "axis")?;
    let epsilon = ctx.attr_float("epsilon", 1e-5)?;
    let mut ins = vec![x, scale];
    ins.extend(ctx.opt_input(2));
    Ok(vec![ctx.emit_out(Op::LayerNorm { axis, epsilon }, &ins)?])
}
