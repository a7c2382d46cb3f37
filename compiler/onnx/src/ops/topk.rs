//! TopK: `k` from the attribute (opset < 10) or the constant `K` input (a 1-element tensor,
//! opset >= 10); `axis` (default -1); `largest` and `sorted` (opset >= 11, default 1). Outputs
//! values and i64 indices.

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Op, ValueRef};

pub fn topk(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let shape = ctx.shape(x);
    let axis = ctx.axis(ctx.attr_int("axis", -1)?, shape.len(), "axis")?;
    let k = if ctx.opset >= 10 {
        match ctx.const_ints_input(1, "K")?.as_deref() {
            Some([k]) => *k,
            Some(v) => return Err(ctx.err(format!("K must hold one value, got {v:?}"))),
            None => return Err(ctx.err("input 1 (K) is required but missing")),
        }
    } else {
        ctx.attr_int_opt("k")?.ok_or_else(|| ctx.err("attribute 'k' is required"))?
    };
    if k < 0 || k as usize > shape[axis] {
        return Err(ctx.err(format!("K = {k} is out of range for axis {axis} of extent {}", shape[axis])));
    }
    let largest = ctx.attr_bool("largest", true)?;
    let sorted = ctx.attr_bool("sorted", true)?;
    let names = vec![ctx.out_name(0), ctx.out_name(1)];
    ctx.emit(Op::TopK { k: k as usize, axis, largest, sorted }, &[x], &names)
}
