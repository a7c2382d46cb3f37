//! Gather(data, indices) along `axis` (default 0, negative counts from the end).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn gather(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (data, idx) = (ctx.input(0)?, ctx.input(1)?);
    let axis = ctx.axis(ctx.attr_int("axis", 0)?, ctx.rank(data), "axis")?;
    Ok(vec![ctx.emit_out(Op::Gather { axis }, &[data, idx])?])
}
