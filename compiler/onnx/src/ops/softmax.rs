//! Softmax. Opset >= 13: along `axis` (default -1). Opset < 13: the input is coerced to 2-D at
//! `axis` (default 1) and softmax runs over the flattened tail, i.e.
//! `Reshape [prod(d[..axis]), prod(d[axis..])] -> Softmax(axis=1) -> Reshape back`
//! (no reshapes when `axis` is the last dim, where both definitions agree).

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::product;
use kiln_ir::{Op, ValueRef};

pub fn softmax(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let rank = shape.len();
    if ctx.opset >= 13 {
        let axis = ctx.axis(ctx.attr_int("axis", -1)?, rank, "axis")?;
        return Ok(vec![ctx.emit_out(Op::Softmax { axis }, &[x])?]);
    }
    let raw = ctx.attr_int("axis", 1)?;
    // Opset < 13 allows axis in [-r, r-1]; a rank-0 input has nothing to normalize over.
    let axis = ctx.axis(raw, rank, "axis")?;
    if axis + 1 == rank {
        return Ok(vec![ctx.emit_out(Op::Softmax { axis }, &[x])?]);
    }
    let flat = vec![product(&shape[..axis]), product(&shape[axis..])];
    let name = ctx.tmp_name("flat");
    let x2 = ctx.reshape(x, flat, name)?;
    let y2 = ctx.emit_tmp(Op::Softmax { axis: 1 }, &[x2], "softmax2d")?;
    Ok(vec![ctx.emit_out(Op::Reshape { shape }, &[y2])?])
}
