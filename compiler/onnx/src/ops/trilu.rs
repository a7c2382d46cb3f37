//! Trilu (opset 14): keep the upper (`upper` = 1, `j - i >= k`) or lower (`j - i <= k`)
//! triangle of the last two dims, zero elsewhere: `Where(mask, x, 0)` with a constant bool mask
//! `[N, M]`; `k` (optional input, default 0) must be constant.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{const_bool, scalar};
use kiln_ir::{Op, ValueRef};

pub fn trilu(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let ty = ctx.ty(x);
    if ty.rank() < 2 {
        return Err(ctx.err(format!("input must have rank >= 2, got {ty}")));
    }
    let k = match ctx.const_ints_input(1, "k")? {
        None => 0,
        Some(v) if v.len() == 1 => v[0],
        Some(v) => return Err(ctx.err(format!("k must be a scalar, got {v:?}"))),
    };
    let upper = ctx.attr_bool("upper", true)?;
    let (n, m) = (ty.shape[ty.rank() - 2], ty.shape[ty.rank() - 1]);
    let mask: Vec<bool> = (0..n * m)
        .map(|p| {
            let d = (p % m) as i64 - (p / m) as i64;
            if upper {
                d >= k
            } else {
                d <= k
            }
        })
        .collect();
    let mask = const_bool(ctx, &[n, m], mask, "mask")?;
    let zero = scalar(ctx, 0.0, ty.dtype, "zero")?;
    Ok(vec![ctx.emit_out(Op::Where, &[mask, x, zero])?])
}
