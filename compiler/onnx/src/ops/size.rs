//! Size: the input's element count as a constant i64 scalar (shapes are static).

use crate::context::NodeCtx;
use crate::error::Result;
use kiln_ir::{Tensor, ValueRef};

pub fn size(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let n = ctx.shape(x).iter().product::<usize>() as i64;
    let t = Tensor::from_i64(&[], vec![n]).map_err(|e| ctx.err(e))?;
    Ok(vec![ctx.add_constant(ctx.out_name(0), t)])
}
