//! Range (opset 11) with constant `start`, `limit`, `delta` (its output length depends on their
//! values): a constant of `max(ceil((limit - start) / delta), 0)` elements `start + i * delta`,
//! computed in i64 for integer dtypes and f64 for floats, then cast to the operands' dtype.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::const_input;
use kiln_ir::{Op, Tensor, ValueRef};

/// Longest Range kiln materializes as a constant.
const MAX_LEN: usize = 1 << 26;

pub fn range(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let mut ops = Vec::with_capacity(3);
    for (i, what) in ["start", "limit", "delta"].iter().enumerate() {
        let t = const_input(ctx, i, what)?.ok_or_else(|| ctx.err(format!("input {i} ({what}) is required")))?;
        if t.len() != 1 {
            return Err(ctx.err(format!("{what} must be a scalar, got shape {:?}", t.shape())));
        }
        ops.push(t);
    }
    let dtype = ops[0].dtype();
    if ops.iter().any(|t| t.dtype() != dtype) || dtype == kiln_ir::DType::Bool {
        return Err(ctx.err("start, limit and delta must have one numeric dtype"));
    }
    let t = if dtype.is_int() {
        let v: Vec<i64> =
            ops.iter().map(|t| t.to_i64_vec().map(|v| v[0])).collect::<Result<_, _>>().map_err(|e| ctx.err(e))?;
        let (start, limit, delta) = (v[0], v[1], v[2]);
        if delta == 0 {
            return Err(ctx.err("delta must not be 0"));
        }
        let span = limit as i128 - start as i128;
        let d = delta as i128;
        let n = (span.div_euclid(d) + i128::from(span.rem_euclid(d) != 0)).max(0);
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_LEN)
            .ok_or_else(|| ctx.err(format!("Range of {n} elements is too long")))?;
        Tensor::from_i64(&[n], (0..n as i64).map(|i| start.wrapping_add(i.wrapping_mul(delta))).collect())
    } else {
        let v: Vec<f64> = ops.iter().map(|t| t.to_f64_vec()[0]).collect();
        let (start, limit, delta) = (v[0], v[1], v[2]);
        let n = ((limit - start) / delta).ceil().max(0.0);
        if !n.is_finite() || n > MAX_LEN as f64 {
            return Err(ctx.err(format!("Range({start}, {limit}, {delta}) has no finite length kiln can hold")));
        }
        let n = n as usize;
        Tensor::from_f64(&[n], (0..n).map(|i| start + i as f64 * delta).collect())
    }
    .map_err(|e| ctx.err(e))?;
    if t.dtype() == dtype {
        return Ok(vec![ctx.add_constant(ctx.out_name(0), t)]);
    }
    let v = ctx.add_constant(ctx.tmp_name("values"), t);
    Ok(vec![ctx.emit_out(Op::Cast { to: dtype }, &[v])?])
}
