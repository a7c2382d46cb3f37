//! Where(cond, x, y) with numpy broadcasting of all three.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn where_(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (c, x, y) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    Ok(vec![ctx.emit_out(Op::Where, &[c, x, y])?])
}
