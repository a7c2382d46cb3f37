//! ReduceSum / ReduceMean. Axes come from the `axes` attribute before ReduceSum-13 and
//! ReduceMean-18, from the optional `axes` input after (which must be constant). `keepdims`
//! defaults to 1; empty axes reduce everything unless `noop_with_empty_axes` = 1, which makes
//! the op an identity.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ReduceOp, ValueRef};

pub fn reduce_sum(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    reduce(ctx, ReduceOp::Sum, 13)
}

pub fn reduce_mean(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    reduce(ctx, ReduceOp::Mean, 18)
}

/// `axes_input_from`: the opset where `axes` moved from attribute to input.
fn reduce(ctx: &mut NodeCtx<'_>, op: ReduceOp, axes_input_from: i64) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let rank = ctx.rank(x);
    let axes = if ctx.opset >= axes_input_from { ctx.const_ints_input(1, "axes")? } else { ctx.attr_ints("axes")? }
        .unwrap_or_default();
    let keep_dims = ctx.attr_bool("keepdims", true)?;
    let mut axes = if axes.is_empty() {
        if ctx.attr_bool("noop_with_empty_axes", false)? {
            return Ok(vec![x]);
        }
        (0..rank).collect()
    } else {
        ctx.axes(&axes, rank, "axes")?
    };
    axes.sort_unstable();
    Ok(vec![ctx.emit_out(Op::Reduce { op, axes, keep_dims }, &[x])?])
}
