//! Cast(to): the `to` attribute is an ONNX dtype code; a cast to the input's own dtype aliases it.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::tensor_proto::dtype_from_onnx;
use kiln_ir::{Op, ValueRef};

pub fn cast(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let Some(to) = ctx.attr_int_opt("to")? else {
        return Err(ctx.err("attribute 'to' is required"));
    };
    let to = dtype_from_onnx(to as i32, &ctx.out_name(0)).map_err(|e| ctx.err(e))?;
    if ctx.ty(x).dtype == to {
        return Ok(vec![x]);
    }
    Ok(vec![ctx.emit_out(Op::Cast { to }, &[x])?])
}
