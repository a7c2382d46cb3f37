//! Gemm: `alpha * op(A) @ op(B) + beta * C`; C is required before opset 11, optional after, and
//! broadcast to [M, N] (unidirectionally).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn gemm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    let c = if ctx.opset < 11 { Some(ctx.input(2)?) } else { ctx.opt_input(2) };
    let op = Op::Gemm {
        alpha: ctx.attr_float("alpha", 1.0)?,
        beta: ctx.attr_float("beta", 1.0)?,
        trans_a: ctx.attr_bool("transA", false)?,
        trans_b: ctx.attr_bool("transB", false)?,
    };
    let mut ins = vec![a, b];
    ins.extend(c);
    Ok(vec![ctx.emit_out(op, &ins)?])
}
