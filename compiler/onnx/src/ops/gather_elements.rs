//! GatherElements (`axis`, default 0, negative counts from the end) and GatherND
//! (`batch_dims`, opset >= 12, default 0).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn gather_elements(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (data, idx) = (ctx.input(0)?, ctx.input(1)?);
    let axis = ctx.axis(ctx.attr_int("axis", 0)?, ctx.rank(data), "axis")?;
    Ok(vec![ctx.emit_out(Op::GatherElements { axis }, &[data, idx])?])
}

pub fn gather_nd(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (data, idx) = (ctx.input(0)?, ctx.input(1)?);
    let b = ctx.attr_int("batch_dims", 0)?;
    if b < 0 {
        return Err(ctx.err(format!("batch_dims must be >= 0, got {b}")));
    }
    Ok(vec![ctx.emit_out(Op::GatherND { batch_dims: b as usize }, &[data, idx])?])
}
