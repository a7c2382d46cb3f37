//! RNN, GRU and LSTM with a static sequence length, unrolled into IR ops. Per direction
//! (forward, reverse, or both for `bidirectional`): the input projection of every step is one
//! MatMul `X @ W^T + Wb` (`[S, B, G*H]`); each step adds `H_{t-1} @ R^T + Rb`, splits the G gates
//! and applies the ONNX cell equations (gate orders: GRU z r h, LSTM i o f c; LSTM peepholes P
//! = [Pi, Po, Pf]; GRU `linear_before_reset`). Y stacks every step's hidden state
//! (`[S, D, B, H]`, or `[B, S, D, H]` with `layout` = 1); Y_h (and LSTM's Y_c) are the last
//! states (`[D, B, H]`, or `[B, D, H]`).
//!
//! Supported activations: Sigmoid, Tanh, Relu (the defaults are Tanh for RNN, Sigmoid/Tanh for
//! GRU and Sigmoid/Tanh/Tanh for LSTM). `clip`, LSTM `input_forget` = 1 and `sequence_lens`
//! that differ from the sequence length are refused.

use crate::context::NodeCtx;
use crate::error::Result;
use crate::ops::decomp::{binary, const_f64, reshape, transpose, unary};
use kiln_ir::{BinaryOp, DType, Op, UnaryOp, ValueRef};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rnn,
    Gru,
    Lstm,
}

impl Kind {
    fn gates(self) -> usize {
        match self {
            Kind::Rnn => 1,
            Kind::Gru => 3,
            Kind::Lstm => 4,
        }
    }
    fn default_activations(self) -> &'static [&'static str] {
        match self {
            Kind::Rnn => &["Tanh"],
            Kind::Gru => &["Sigmoid", "Tanh"],
            Kind::Lstm => &["Sigmoid", "Tanh", "Tanh"],
        }
    }
}

pub fn rnn(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    recurrent(ctx, Kind::Rnn)
}
pub fn gru(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    recurrent(ctx, Kind::Gru)
}
pub fn lstm(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    recurrent(ctx, Kind::Lstm)
}

/// Everything one direction's unrolled loop needs.
struct Dir {
    /// `[S, B, G*H]`: `X @ W^T + Wb` (+ Rb where it sits outside the reset gate).
    xw: ValueRef,
    /// `R^T` `[H, G*H]` and `Rb` `[G*H]`.
    rt: ValueRef,
    rb: ValueRef,
    h0: ValueRef,
    c0: ValueRef,
    /// LSTM peepholes `[H]` each (i, o, f), when given.
    peep: Option<[ValueRef; 3]>,
    acts: Vec<UnaryOp>,
}

fn pick(ctx: &mut NodeCtx<'_>, x: ValueRef, axis: usize, at: usize, len: usize, name: &str) -> Result<ValueRef> {
    let (s, e) = (at as i64, (at + len) as i64);
    ctx.emit_tmp(Op::Slice { axes: vec![axis], starts: vec![s], ends: vec![e], steps: vec![1] }, &[x], name)
}

fn activation(ctx: &NodeCtx<'_>, name: &str) -> Result<UnaryOp> {
    match name {
        "Sigmoid" => Ok(UnaryOp::Sigmoid),
        "Tanh" => Ok(UnaryOp::Tanh),
        "Relu" => Ok(UnaryOp::Relu),
        a => Err(ctx.err(format!("activation '{a}' is unsupported (Sigmoid, Tanh, Relu)"))),
    }
}

fn recurrent(ctx: &mut NodeCtx<'_>, kind: Kind) -> Result<Vec<ValueRef>> {
    let (x, w, r) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
    let dt = ctx.ty(x).dtype;
    if !dt.is_float() {
        return Err(ctx.err(format!("X must be a float tensor, got {}", ctx.ty(x))));
    }
    let h = ctx.attr_int_opt("hidden_size")?.ok_or_else(|| ctx.err("attribute 'hidden_size' is required"))?;
    let h = usize::try_from(h)
        .ok()
        .filter(|h| *h > 0)
        .ok_or_else(|| ctx.err(format!("hidden_size {h} must be positive")))?;
    if ctx.attr("clip").is_some() {
        return Err(ctx.err("attribute 'clip' is unsupported"));
    }
    if kind == Kind::Lstm && ctx.attr_bool("input_forget", false)? {
        return Err(ctx.err("input_forget = 1 is unsupported"));
    }
    let layout = ctx.opset >= 14 && ctx.attr_bool("layout", false)?;
    let x = if layout { transpose(ctx, x, vec![1, 0, 2], "x_seq_major")? } else { x };
    let xs = ctx.shape(x);
    let [seq, batch, input] = xs[..] else {
        return Err(ctx.err(format!("X must have rank 3, got {xs:?}")));
    };
    if seq == 0 {
        return Err(ctx.err("an empty sequence is unsupported"));
    }
    let dirs: &[bool] = match ctx.attr_string("direction", "forward")?.as_str() {
        "forward" => &[false],
        "reverse" => &[true],
        "bidirectional" => &[false, true],
        d => return Err(ctx.err(format!("direction '{d}' is not forward, reverse or bidirectional"))),
    };
    let nd = dirs.len();
    let g = kind.gates();
    if ctx.shape(w) != [nd, g * h, input] || ctx.shape(r) != [nd, g * h, h] {
        return Err(ctx.err(format!(
            "W {:?} / R {:?} must be [{nd}, {}, {input}] / [{nd}, {}, {h}]",
            ctx.shape(w),
            ctx.shape(r),
            g * h,
            g * h
        )));
    }
    if let Some(lens) = crate::ops::decomp::const_input(ctx, 4, "sequence_lens")? {
        if lens.to_f64_vec().iter().any(|l| *l != seq as f64) {
            return Err(ctx.err(format!("sequence_lens other than the sequence length {seq} are unsupported")));
        }
    }
    let names: Option<Vec<String>> =
        ctx.attr("activations").map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect());
    let per_dir = kind.default_activations().len();
    let names: Vec<String> = match names {
        Some(n) if n.len() == per_dir * nd => n,
        Some(n) => return Err(ctx.err(format!("activations {n:?} must list {} functions", per_dir * nd))),
        None => kind.default_activations().iter().cycle().take(per_dir * nd).map(|s| s.to_string()).collect(),
    };
    if ctx.attr("activation_alpha").is_some() || ctx.attr("activation_beta").is_some() {
        return Err(ctx.err("activation_alpha / activation_beta are unsupported"));
    }
    let lbr = kind == Kind::Gru && ctx.attr_bool("linear_before_reset", false)?;

    let mut ys = Vec::with_capacity(nd);
    let mut hs = Vec::with_capacity(nd);
    let mut cs = Vec::with_capacity(nd);
    for (d, &reverse) in dirs.iter().enumerate() {
        let acts = names[d * per_dir..(d + 1) * per_dir].iter().map(|n| activation(ctx, n)).collect::<Result<_>>()?;
        let dir = prepare(ctx, kind, d, (x, w, r), [batch, h], dt, acts)?;
        let (y, hl, cl) = unroll(ctx, kind, d, &dir, [seq, batch, h], reverse, lbr)?;
        ys.push(y);
        hs.push(hl);
        cs.push(cl);
    }
    let cat = |ctx: &mut NodeCtx<'_>, v: Vec<ValueRef>, axis: usize, name: &str| -> Result<ValueRef> {
        if v.len() == 1 {
            return Ok(v[0]);
        }
        ctx.emit_tmp(Op::Concat { axis }, &v, name)
    };
    let y = cat(ctx, ys, 1, "y_dirs")?; // [S, D, B, H]
    let yh = cat(ctx, hs, 0, "y_h_dirs")?; // [D, B, H]
    let yc = cat(ctx, cs, 0, "y_c_dirs")?;
    let mut outs = if layout {
        vec![
            transpose(ctx, y, vec![2, 0, 1, 3], "y_batch_major")?,
            transpose(ctx, yh, vec![1, 0, 2], "y_h_batch_major")?,
            transpose(ctx, yc, vec![1, 0, 2], "y_c_batch_major")?,
        ]
    } else {
        vec![y, yh, yc]
    };
    if kind != Kind::Lstm {
        outs.pop();
    }
    outs.truncate(ctx.node.output.len());
    Ok(outs)
}

/// Slice direction `d`'s weights and precompute the input projection.
fn prepare(
    ctx: &mut NodeCtx<'_>,
    kind: Kind,
    d: usize,
    (x, w, r): (ValueRef, ValueRef, ValueRef),
    [batch, h]: [usize; 2],
    dt: DType,
    acts: Vec<UnaryOp>,
) -> Result<Dir> {
    let gh = kind.gates() * h;
    let wd = pick(ctx, w, 0, d, 1, &format!("w{d}"))?;
    let wd = reshape(ctx, wd, vec![gh, ctx.shape(w)[2]], &format!("w{d}_2d"))?;
    let wt = transpose(ctx, wd, vec![1, 0], &format!("w{d}_t"))?;
    let rd = pick(ctx, r, 0, d, 1, &format!("r{d}"))?;
    let rd = reshape(ctx, rd, vec![gh, h], &format!("r{d}_2d"))?;
    let rt = transpose(ctx, rd, vec![1, 0], &format!("r{d}_t"))?;
    let (wb, rb) = match ctx.opt_input(3) {
        Some(b) => {
            let bd = pick(ctx, b, 0, d, 1, &format!("b{d}"))?;
            let bd = reshape(ctx, bd, vec![2 * gh], &format!("b{d}_1d"))?;
            (pick(ctx, bd, 0, 0, gh, &format!("wb{d}"))?, pick(ctx, bd, 0, gh, gh, &format!("rb{d}"))?)
        }
        None => {
            let z = const_f64(ctx, &[gh], vec![0.0; gh], dt, &format!("zero_bias{d}"))?;
            (z, z)
        }
    };
    let proj = ctx.emit_tmp(Op::MatMul, &[x, wt], &format!("xw{d}"))?;
    let xw = binary(ctx, BinaryOp::Add, proj, wb, &format!("xw{d}_biased"))?;
    let state = |ctx: &mut NodeCtx<'_>, i: usize, what: &str| -> Result<ValueRef> {
        match ctx.opt_input(i) {
            Some(s) => {
                let sd = pick(ctx, s, 0, d, 1, &format!("{what}{d}"))?;
                reshape(ctx, sd, vec![batch, h], &format!("{what}{d}_2d"))
            }
            None => const_f64(ctx, &[batch, h], vec![0.0; batch * h], dt, &format!("{what}{d}_zero")),
        }
    };
    let h0 = state(ctx, 5, "initial_h")?;
    let c0 = if kind == Kind::Lstm { state(ctx, 6, "initial_c")? } else { h0 };
    let peep = match (kind, ctx.opt_input(7)) {
        (Kind::Lstm, Some(p)) => {
            let pd = pick(ctx, p, 0, d, 1, &format!("p{d}"))?;
            let pd = reshape(ctx, pd, vec![3 * h], &format!("p{d}_1d"))?;
            let mut parts = [pd; 3];
            for (k, part) in parts.iter_mut().enumerate() {
                *part = pick(ctx, pd, 0, k * h, h, &format!("p{d}_{k}"))?;
            }
            Some(parts)
        }
        _ => None,
    };
    Ok(Dir { xw, rt, rb, h0, c0, peep, acts })
}

/// Unroll one direction: returns Y `[S, 1, B, H]`, the last H and C as `[1, B, H]`.
fn unroll(
    ctx: &mut NodeCtx<'_>,
    kind: Kind,
    d: usize,
    dir: &Dir,
    [seq, batch, h]: [usize; 3],
    reverse: bool,
    lbr: bool,
) -> Result<(ValueRef, ValueRef, ValueRef)> {
    let g = kind.gates();
    let (mut hv, mut cv) = (dir.h0, dir.c0);
    let mut steps = vec![hv; seq];
    // GRU without linear_before_reset: the candidate's recurrence `(r * H) @ Rh^T + Rbh`.
    let gru_h = if kind == Kind::Gru && !lbr {
        Some((
            pick(ctx, dir.rt, 1, 2 * h, h, &format!("d{d}_rh_t"))?,
            pick(ctx, dir.rb, 0, 2 * h, h, &format!("d{d}_rbh"))?,
        ))
    } else {
        None
    };
    let order: Vec<usize> = if reverse { (0..seq).rev().collect() } else { (0..seq).collect() };
    for t in order {
        let n = |s: &str| format!("d{d}_t{t}_{s}");
        let xt = pick(ctx, dir.xw, 0, t, 1, &n("x"))?;
        let xt = reshape(ctx, xt, vec![batch, g * h], &n("x2d"))?;
        let hr = ctx.emit_tmp(Op::MatMul, &[hv, dir.rt], &n("hr"))?;
        let hr = binary(ctx, BinaryOp::Add, hr, dir.rb, &n("hr_biased"))?;
        let sizes = vec![h; g];
        let xg = ctx.emit(
            Op::Split { axis: 1, sizes: sizes.clone() },
            &[xt],
            &(0..g).map(|k| n(&format!("xg{k}"))).collect::<Vec<_>>(),
        )?;
        let hg =
            ctx.emit(Op::Split { axis: 1, sizes }, &[hr], &(0..g).map(|k| n(&format!("hg{k}"))).collect::<Vec<_>>())?;
        let f = dir.acts[0];
        match kind {
            Kind::Rnn => {
                let s = binary(ctx, BinaryOp::Add, xg[0], hg[0], &n("pre"))?;
                hv = unary(ctx, f, s, &n("h"))?;
            }
            Kind::Gru => {
                let gact = dir.acts[1];
                let zs = binary(ctx, BinaryOp::Add, xg[0], hg[0], &n("z_pre"))?;
                let z = unary(ctx, f, zs, &n("z"))?;
                let rs = binary(ctx, BinaryOp::Add, xg[1], hg[1], &n("r_pre"))?;
                let r = unary(ctx, f, rs, &n("r"))?;
                let rec = match gru_h {
                    None => binary(ctx, BinaryOp::Mul, r, hg[2], &n("r_hr"))?,
                    Some((rht, rbh)) => {
                        let rh = binary(ctx, BinaryOp::Mul, r, hv, &n("r_h"))?;
                        let m = ctx.emit_tmp(Op::MatMul, &[rh, rht], &n("rh_r"))?;
                        binary(ctx, BinaryOp::Add, m, rbh, &n("rh_r_biased"))?
                    }
                };
                let hs = binary(ctx, BinaryOp::Add, xg[2], rec, &n("h_pre"))?;
                let cand = unary(ctx, gact, hs, &n("h_cand"))?;
                // H = h~ + z * (H_prev - h~)
                let diff = binary(ctx, BinaryOp::Sub, hv, cand, &n("h_diff"))?;
                let zd = binary(ctx, BinaryOp::Mul, z, diff, &n("z_diff"))?;
                hv = binary(ctx, BinaryOp::Add, cand, zd, &n("h"))?;
            }
            Kind::Lstm => {
                let (gact, hact) = (dir.acts[1], dir.acts[2]);
                let pre = |ctx: &mut NodeCtx<'_>, k: usize, peep: Option<(ValueRef, ValueRef)>, s: &str| {
                    let a = binary(ctx, BinaryOp::Add, xg[k], hg[k], &n(&format!("{s}_pre")))?;
                    match peep {
                        Some((p, c)) => {
                            let pc = binary(ctx, BinaryOp::Mul, p, c, &n(&format!("{s}_peep")))?;
                            binary(ctx, BinaryOp::Add, a, pc, &n(&format!("{s}_pre_peep")))
                        }
                        None => Ok(a),
                    }
                };
                let pi = dir.peep.map(|p| (p[0], cv));
                let pf = dir.peep.map(|p| (p[2], cv));
                let i_pre = pre(ctx, 0, pi, "i")?;
                let f_pre = pre(ctx, 2, pf, "f")?;
                let c_pre = pre(ctx, 3, None, "c")?;
                let i = unary(ctx, f, i_pre, &n("i"))?;
                let fg = unary(ctx, f, f_pre, &n("f"))?;
                let cand = unary(ctx, gact, c_pre, &n("c_cand"))?;
                let keep = binary(ctx, BinaryOp::Mul, fg, cv, &n("c_keep"))?;
                let add = binary(ctx, BinaryOp::Mul, i, cand, &n("c_add"))?;
                cv = binary(ctx, BinaryOp::Add, keep, add, &n("c"))?;
                let po = dir.peep.map(|p| (p[1], cv));
                let o_pre = pre(ctx, 1, po, "o")?;
                let o = unary(ctx, f, o_pre, &n("o"))?;
                let hc = unary(ctx, hact, cv, &n("c_act"))?;
                hv = binary(ctx, BinaryOp::Mul, o, hc, &n("h"))?;
            }
        }
        steps[t] = reshape(ctx, hv, vec![1, 1, batch, h], &n("y"))?;
    }
    let y = if seq == 1 { steps[0] } else { ctx.emit_tmp(Op::Concat { axis: 0 }, &steps, &format!("y{d}"))? };
    let hl = reshape(ctx, hv, vec![1, batch, h], &format!("y_h{d}"))?;
    let cl = reshape(ctx, cv, vec![1, batch, h], &format!("y_c{d}"))?;
    Ok((y, hl, cl))
}
