//! 1-D Conv / MaxPool / AveragePool (x `[N, C, L]`): x is viewed as `[N, C, 1, L]` (and a
//! Conv weight `[M, C/g, k]` as `[M, C/g, 1, k]`), the 2-D op runs with a unit window over the
//! added dim, and the result is viewed back as `[N, C', L']`. Attributes are the 1-D ones
//! (`kernel_shape [k]`, `strides [s]`, `dilations [d]`, `pads [begin, end]`, `auto_pad`,
//! pooling's `ceil_mode`), mapped onto the 2-D window.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::reshape;
use crate::ops::window::{ceil_mode_extra, Window};
use kiln_ir::{Op, ValueRef};

/// A 1-value list attribute (default `default`), at least `min`.
fn one(ctx: &NodeCtx<'_>, name: &str, default: usize, min: i64) -> Result<usize> {
    match ctx.attr_ints(name)? {
        None => Ok(default),
        Some(v) if v.len() == 1 && v[0] >= min => Ok(v[0] as usize),
        Some(v) => Err(ctx.err(format!("attribute '{name}' = {v:?} must be 1 value >= {min} (1-D)"))),
    }
}

/// The 2-D window equivalent to a 1-D window of `kernel` over `len` elements.
fn window_1d(ctx: &NodeCtx<'_>, kernel: usize, len: usize, has_dilations: bool) -> Result<Window> {
    let s = one(ctx, "strides", 1, 1)?;
    let d = if has_dilations { one(ctx, "dilations", 1, 1)? } else { 1 };
    let auto_pad = ctx.attr_string("auto_pad", "NOTSET")?;
    let (begin, end) = match auto_pad.as_str() {
        "NOTSET" => match ctx.attr_ints("pads")? {
            None => (0, 0),
            Some(p) if p.len() == 2 && p.iter().all(|v| *v >= 0) => (p[0] as usize, p[1] as usize),
            Some(p) => return Err(ctx.err(format!("attribute 'pads' = {p:?} must be 2 values >= 0 (1-D)"))),
        },
        "VALID" => (0, 0),
        "SAME_UPPER" | "SAME_LOWER" => {
            let out = len.div_ceil(s);
            let span = (kernel - 1) * d + 1;
            let total = (out.saturating_sub(1) * s + span).saturating_sub(len);
            let small = total / 2;
            if auto_pad == "SAME_UPPER" {
                (small, total - small)
            } else {
                (total - small, small)
            }
        }
        other => return Err(ctx.err(format!("auto_pad '{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER"))),
    };
    Ok(Window { kernel: vec![1, kernel], strides: vec![1, s], dilations: vec![1, d], pads: vec![0, begin, 0, end] })
}

/// `[N, C, L]` of a rank-3 input.
fn ncl(ctx: &NodeCtx<'_>, x: ValueRef) -> Result<[usize; 3]> {
    match ctx.shape(x)[..] {
        [n, c, l] => Ok([n, c, l]),
        ref s => Err(ctx.err(format!("a 1-D op needs a rank-3 input (N, C, L), got {s:?}"))),
    }
}

/// Run `op` on x viewed as `[N, C, 1, L]` and view the result as rank 3.
fn run_2d(ctx: &mut NodeCtx<'_>, op: Op, x: ValueRef, rest: &[ValueRef]) -> Result<Vec<ValueRef>> {
    let [n, c, l] = ncl(ctx, x)?;
    let x4 = reshape(ctx, x, vec![n, c, 1, l], "nc1l")?;
    let mut ins = vec![x4];
    ins.extend_from_slice(rest);
    let y4 = ctx.emit_tmp(op, &ins, "2d")?;
    let s = ctx.shape(y4);
    Ok(vec![ctx.emit_out(Op::Reshape { shape: vec![s[0], s[1], s[3]] }, &[y4])?])
}

pub fn conv(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let (x, w) = (ctx.input(0)?, ctx.input(1)?);
    let [_, _, l] = ncl(ctx, x)?;
    let ws = ctx.shape(w);
    let [m, cg, k] = ws[..] else {
        return Err(ctx.err(format!("a 1-D Conv weight must have rank 3, got {ws:?}")));
    };
    if k == 0 || ctx.attr_ints("kernel_shape")?.is_some_and(|ks| ks != [k as i64]) {
        return Err(ctx.err(format!("kernel_shape does not match the weight's [{k}]")));
    }
    let win = window_1d(ctx, k, l, true)?;
    let group = ctx.attr_int("group", 1)?;
    let group = usize::try_from(group)
        .ok()
        .filter(|g| *g > 0)
        .ok_or_else(|| ctx.err(format!("group {group} must be positive")))?;
    let w4 = reshape(ctx, w, vec![m, cg, 1, k], "weight_2d")?;
    let mut rest = vec![w4];
    rest.extend(ctx.opt_input(2));
    let op = Op::Conv { strides: win.strides, pads: win.pads, dilations: win.dilations, group };
    run_2d(ctx, op, x, &rest)
}

/// Window of a 1-D pool and the extra end padding ceil_mode needs (already added to the window).
fn pool_window(ctx: &NodeCtx<'_>, x: ValueRef, has_dilations: bool) -> Result<(Window, usize)> {
    let [_, _, l] = ncl(ctx, x)?;
    let k = match ctx.attr_ints("kernel_shape")? {
        Some(k) if k.len() == 1 && k[0] >= 1 => k[0] as usize,
        other => return Err(ctx.err(format!("kernel_shape {other:?} must be 1 positive value (1-D)"))),
    };
    let mut win = window_1d(ctx, k, l, has_dilations)?;
    if ctx.opset >= 10 && ctx.attr_bool("ceil_mode", false)? {
        if ctx.attr_string("auto_pad", "NOTSET")? != "NOTSET" {
            return Err(ctx.err("ceil_mode = 1 with auto_pad other than NOTSET is unsupported"));
        }
        let extra = ceil_mode_extra(ctx, &win, &[1, l])?;
        win.pads[3] += extra[1];
        return Ok((win, extra[1]));
    }
    Ok((win, 0))
}

pub fn max_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    if ctx.attr_int("storage_order", 0)? != 0 {
        return Err(ctx.err("storage_order = 1 is unsupported"));
    }
    let (w, _) = pool_window(ctx, x, ctx.opset >= 10)?;
    let op = Op::MaxPool { kernel: w.kernel, strides: w.strides, pads: w.pads, dilations: w.dilations };
    run_2d(ctx, op, x, &[])
}

pub fn average_pool(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let x = ctx.input(0)?;
    let (w, extra) = pool_window(ctx, x, ctx.opset >= 19)?;
    if w.dilations != [1, 1] {
        return Err(ctx.err(format!("dilations {:?} are unsupported for AveragePool", &w.dilations[1..])));
    }
    let count_include_pad = ctx.attr_bool("count_include_pad", false)?;
    if count_include_pad && extra != 0 {
        return Err(ctx.err("ceil_mode = 1 with count_include_pad = 1 is unsupported where it changes the output size"));
    }
    let op = Op::AvgPool { kernel: w.kernel, strides: w.strides, pads: w.pads, count_include_pad };
    run_2d(ctx, op, x, &[])
}
