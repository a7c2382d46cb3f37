//! ScatterElements (and the deprecated Scatter, opset 9-10, which is ScatterElements without
//! reduction) with `axis` (default 0); ScatterND. `reduction` (opset >= 16: none/add/mul,
//! >= 18: max/min) defaults to none.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::op::ScatterReduction;
use kiln_ir::{Op, ValueRef};

fn reduction(ctx: &NodeCtx<'_>) -> Result<ScatterReduction> {
    let r = ctx.attr_string("reduction", "none")?;
    ScatterReduction::from_name(&r).ok_or_else(|| ctx.err(format!("unknown reduction '{r}'")))
}

pub fn scatter_elements(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (data, idx, upd) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let axis = ctx.axis(ctx.attr_int("axis", 0)?, ctx.rank(data), "axis")?;
    let reduction = reduction(ctx)?;
    Ok(vec![ctx.emit_out(Op::ScatterElements { axis, reduction }, &[data, idx, upd])?])
}

pub fn scatter_nd(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (data, idx, upd) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let reduction = reduction(ctx)?;
    Ok(vec![ctx.emit_out(Op::ScatterND { reduction }, &[data, idx, upd])?])
}
