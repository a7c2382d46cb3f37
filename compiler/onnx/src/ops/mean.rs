//! Mean (variadic, numpy broadcasting): `((x0 + x1) + ...) / n`; one input aliases it.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, require_float, scalar};
use kiln_ir::{BinaryOp, Op, ValueRef};

pub fn mean(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let xs = ctx.present_inputs();
    let Some((&first, rest)) = xs.split_first() else {
        return Err(ctx.err("Mean needs at least one input"));
    };
    let dt = require_float(ctx, first, "input 0")?;
    if rest.is_empty() {
        return Ok(vec![first]);
    }
    let mut acc = first;
    for (i, x) in rest.iter().enumerate() {
        acc = binary(ctx, BinaryOp::Add, acc, *x, &format!("sum{i}"))?;
    }
    let n = scalar(ctx, xs.len() as f64, dt, "count")?;
    Ok(vec![ctx.emit_out(Op::Binary(BinaryOp::Div), &[acc, n])?])
}
