//! Attention (opset 23), following the ONNX reference step by step:
//! 3-D Q/K/V `[B, S, H*D]` (with `q_num_heads` / `kv_num_heads`) become `[B, H, S, D]`;
//! `past_key` / `past_value` are concatenated in front of K / V along the sequence (these are
//! the `present_*` outputs); KV heads are repeated (interleaved) for grouped-query attention;
//! `qk = Q @ K^T * scale` (default `1/sqrt(D)`), `softcap * tanh(qk / softcap)` when
//! `softcap > 0`; the bias is the mask (bool -> 0 / -inf; padded with -inf / false to the
//! total sequence length) plus, with `is_causal`, -inf above the diagonal shifted by the past
//! length; then Softmax over the keys and `@ V`. Output 3 (`qk_matmul_output`) follows
//! `qk_matmul_output_mode` 0-3. `nonpad_kv_seqlen` (opset 24) is refused.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, const_f64, reshape, scalar, transpose, unary};
use kiln_ir::{BinaryOp, DType, Op, UnaryOp, ValueRef};

/// `[B, S, H*D]` -> `[B, H, S, D]` (4-D inputs pass through).
fn to_heads(ctx: &mut NodeCtx<'_>, x: ValueRef, heads: Option<i64>, what: &str) -> Result<ValueRef> {
    let s = ctx.shape(x);
    match s.len() {
        4 => Ok(x),
        3 => {
            let h = heads.ok_or_else(|| ctx.err(format!("3-D {what} needs the num_heads attributes")))?;
            let h = usize::try_from(h)
                .ok()
                .filter(|h| *h > 0 && s[2] % h == 0)
                .ok_or_else(|| ctx.err(format!("{what} hidden size {} is not a multiple of {h} heads", s[2])))?;
            let v = reshape(ctx, x, vec![s[0], s[1], h, s[2] / h], &format!("{what}_split"))?;
            transpose(ctx, v, vec![0, 2, 1, 3], &format!("{what}_heads"))
        }
        _ => Err(ctx.err(format!("{what} must have rank 3 or 4, got {s:?}"))),
    }
}

pub fn attention(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (q0, k0, v0) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let dt = ctx.ty(q0).dtype;
    if !dt.is_float() {
        return Err(ctx.err(format!("Q must be a float tensor, got {}", ctx.ty(q0))));
    }
    if ctx.opt_input(6).is_some() {
        return Err(ctx.err("nonpad_kv_seqlen is unsupported"));
    }
    let three_d = ctx.rank(q0) == 3;
    let q = to_heads(ctx, q0, ctx.attr_int_opt("q_num_heads")?, "Q")?;
    let kv_heads = ctx.attr_int_opt("kv_num_heads")?;
    let k = to_heads(ctx, k0, kv_heads, "K")?;
    let v = to_heads(ctx, v0, kv_heads, "V")?;
    let k = match ctx.opt_input(4) {
        Some(p) => ctx.emit_tmp(Op::Concat { axis: 2 }, &[p, k], "present_key")?,
        None => k,
    };
    let v = match ctx.opt_input(5) {
        Some(p) => ctx.emit_tmp(Op::Concat { axis: 2 }, &[p, v], "present_value")?,
        None => v,
    };
    let past = ctx.opt_input(4).map_or(0, |p| ctx.shape(p)[2]);
    let (qs, ks, vs) = (ctx.shape(q), ctx.shape(k), ctx.shape(v));
    let (hq, hk, sq, total) = (qs[1], ks[1], qs[2], ks[2]);
    if hk == 0 || hq % hk != 0 || vs[1] != hk {
        return Err(ctx.err(format!("{hq} query heads cannot share {hk} key and {} value heads", vs[1])));
    }
    let (k_rep, v_rep) = (repeat_heads(ctx, k, hq / hk, "key")?, repeat_heads(ctx, v, hq / hk, "value")?);

    let head = qs[3] as f64;
    let scale = match ctx.attr("scale") {
        Some(_) => ctx.attr_float("scale", 1.0)? as f64,
        None => 1.0 / head.sqrt(),
    };
    let kt = transpose(ctx, k_rep, vec![0, 1, 3, 2], "key_t")?;
    let raw = ctx.emit_tmp(Op::MatMul, &[q, kt], "qk_raw")?;
    let sc = scalar(ctx, scale, dt, "scale")?;
    let mut qk = binary(ctx, BinaryOp::Mul, raw, sc, "qk")?;
    let softcap = ctx.attr_float("softcap", 0.0)? as f64;
    if softcap > 0.0 {
        let c = scalar(ctx, softcap, dt, "softcap")?;
        let d = binary(ctx, BinaryOp::Div, qk, c, "qk_over_cap")?;
        let t = unary(ctx, UnaryOp::Tanh, d, "qk_tanh")?;
        qk = binary(ctx, BinaryOp::Mul, t, c, "qk_capped")?;
    }
    let bias = attn_bias(ctx, dt, sq, total, past)?;
    let biased = match bias {
        Some(b) => binary(ctx, BinaryOp::Add, qk, b, "qk_biased")?,
        None => qk,
    };
    let probs = ctx.emit_tmp(Op::Softmax { axis: 3 }, &[biased], "probs")?;
    let mut y = ctx.emit_tmp(Op::MatMul, &[probs, v_rep], "context")?;
    if three_d {
        let t = transpose(ctx, y, vec![0, 2, 1, 3], "context_t")?;
        let s = ctx.shape(t);
        y = reshape(ctx, t, vec![s[0], s[1], s[2] * s[3]], "context_merged")?;
    }
    let qk_out = match ctx.attr_int("qk_matmul_output_mode", 0)? {
        0 | 1 => qk,
        2 => biased,
        3 => probs,
        m => return Err(ctx.err(format!("qk_matmul_output_mode {m} is not 0..=3"))),
    };
    let mut outs = vec![y, k, v, qk_out];
    outs.truncate(ctx.node.output.len());
    Ok(outs)
}

/// `[B, H, L, D]` with every head repeated `r` times in place (`h0, h0, h1, h1, ...`).
fn repeat_heads(ctx: &mut NodeCtx<'_>, x: ValueRef, r: usize, what: &str) -> Result<ValueRef> {
    if r == 1 {
        return Ok(x);
    }
    let s = ctx.shape(x);
    let v = reshape(ctx, x, vec![s[0], s[1], 1, s[2], s[3]], &format!("{what}_heads5"))?;
    let e = ctx.emit_tmp(Op::Expand { shape: vec![s[0], s[1], r, s[2], s[3]] }, &[v], &format!("{what}_repeated5"))?;
    reshape(ctx, e, vec![s[0], s[1] * r, s[2], s[3]], &format!("{what}_repeated"))
}

/// The additive bias `[.., Sq, total]`: the mask as floats (padded to `total` keys) plus the
/// causal mask; `None` when there is neither.
fn attn_bias(ctx: &mut NodeCtx<'_>, dt: DType, sq: usize, total: usize, past: usize) -> Result<Option<ValueRef>> {
    let mask = match ctx.opt_input(3) {
        None => None,
        Some(m) => {
            let mut ms = ctx.shape(m);
            let is_bool = ctx.ty(m).dtype == DType::Bool;
            let last = ms.last().copied().unwrap_or(0);
            if ms.is_empty() || last > total {
                return Err(ctx.err(format!("attn_mask {ms:?} does not fit {total} keys")));
            }
            let mut m = m;
            if last < total {
                let r = ms.len();
                ms[r - 1] = total - last;
                let n = ms.iter().product();
                let fill = if is_bool {
                    crate::ops::decomp::const_bool(ctx, &ms, vec![false; n], "mask_pad")?
                } else {
                    const_f64(ctx, &ms, vec![f64::NEG_INFINITY; n], dt, "mask_pad")?
                };
                m = ctx.emit_tmp(Op::Concat { axis: ms.len() - 1 }, &[m, fill], "mask_padded")?;
            }
            if is_bool {
                let zero = scalar(ctx, 0.0, dt, "zero")?;
                let ninf = scalar(ctx, f64::NEG_INFINITY, dt, "neg_inf")?;
                m = ctx.emit_tmp(Op::Where, &[m, zero, ninf], "mask_bias")?;
            }
            Some(m)
        }
    };
    if !ctx.attr_bool("is_causal", false)? {
        return Ok(mask);
    }
    let causal: Vec<f64> = (0..sq * total)
        .map(|p| if (p % total) as i64 - past as i64 > (p / total) as i64 { f64::NEG_INFINITY } else { 0.0 })
        .collect();
    let c = const_f64(ctx, &[sq, total], causal, dt, "causal")?;
    Ok(Some(match mask {
        Some(m) => binary(ctx, BinaryOp::Add, m, c, "mask_causal")?,
        None => c,
    }))
}
