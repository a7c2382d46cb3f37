//! CumSum and CumProd (opset 26): the `axis` input (a constant scalar or 1-element tensor, negative counts from the
//! end) and the `exclusive` / `reverse` attributes (default 0).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn cumsum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (axis, exclusive, reverse) = scan_attrs(ctx)?;
    Ok(vec![ctx.emit_out(Op::CumSum { axis, exclusive, reverse }, &[ctx.input(0)?])?])
}

pub fn cumprod(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (axis, exclusive, reverse) = scan_attrs(ctx)?;
    Ok(vec![ctx.emit_out(Op::CumProd { axis, exclusive, reverse }, &[ctx.input(0)?])?])
}

/// `(axis, exclusive, reverse)` of a CumSum / CumProd node.
fn scan_attrs(ctx: &NodeCtx<'_>) -> Result<(usize, bool, bool)> {
    let x = ctx.input(0)?;
    let axis = match ctx.const_ints_input(1, "axis")?.as_deref() {
        Some([a]) => *a,
        Some(v) => return Err(ctx.err(format!("axis must hold one value, got {v:?}"))),
        None => return Err(ctx.err("input 1 (axis) is required but missing")),
    };
    let axis = ctx.axis(axis, ctx.rank(x), "axis")?;
    let exclusive = ctx.attr_bool("exclusive", false)?;
    let reverse = ctx.attr_bool("reverse", false)?;
    Ok((axis, exclusive, reverse))
}
