//! MatMul (numpy matmul semantics, all opsets).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn matmul(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (a, b) = (ctx.input(0)?, ctx.input(1)?);
    Ok(vec![ctx.emit_out(Op::MatMul, &[a, b])?])
}
