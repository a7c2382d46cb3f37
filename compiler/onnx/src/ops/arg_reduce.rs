//! ArgMax / ArgMin: `axis` (default 0, negative counts from the end), `keepdims` (default 1),
//! `select_last_index` (opset >= 12, default 0).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::op::ArgOp;
use kiln_ir::{Op, ValueRef};

fn arg(ctx: &mut NodeCtx<'_>, op: ArgOp) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let axis = ctx.axis(ctx.attr_int("axis", 0)?, ctx.rank(x), "axis")?;
    let keep_dims = ctx.attr_bool("keepdims", true)?;
    let select_last_index = ctx.attr_bool("select_last_index", false)?;
    Ok(vec![ctx.emit_out(Op::ArgReduce { op, axis, keep_dims, select_last_index }, &[x])?])
}

pub fn arg_max(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    arg(ctx, ArgOp::Max)
}

pub fn arg_min(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    arg(ctx, ArgOp::Min)
}
