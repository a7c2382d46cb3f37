//! Attention (`softmax(mask(scale * q @ kt)) @ v`, fused by the fuse-attention pass), f32,
//! flash-attention style: the `[S, T]` scores never reach memory. Workgroups split the
//! (batch, block of `R` query rows) pairs. Per block, the keys go by in blocks of `TB`:
//! - the block's scores `q[rows] @ kt[:, keys]`, as `R x TB` vector accumulators over D
//!   (broadcast q, vector loads of the kt row), into a stack buffer of `R x TB` floats;
//! - per row, the scale and the mask, the block max, `e = exp(s - m)` and its sum, with the
//!   running max `m` and sum `l` carried across key blocks (online softmax: the earlier sum and
//!   output rows are rescaled by `exp(m_old - m_new)`); the loops over the block's keys carry
//!   `reassoc` flags, so LLVM vectorizes them with the polynomial `exp`;
//! - `out[rows] = out[rows] * exp(m_old - m_new) + e @ v[keys]`, in groups of output vectors
//!   held in registers over the block's keys;
//!
//! and at the end `out[rows] /= l`. A row whose scores are all `-inf` so far keeps `m = -inf`
//! and uses 0 in its exponents (no `-inf - -inf`); masked entirely, it ends 0/0 = NaN, as the
//! unfused softmax does.

use super::gemm_tiled::{vload, vstore, Tiles};
use crate::emit::{Kernel, Mem};
use crate::error::{CodegenError, Result};
use kiln_ir::{AttentionMask, DType};

/// Query rows per block.
const R: usize = 4;

/// The kernel's views and sizes.
struct Ctx {
    q: Mem,
    kt: Mem,
    v: Mem,
    o: Mem,
    mask: Option<Mem>,
    kind: AttentionMask,
    scale: f32,
    lead: Vec<usize>,
    d: usize,
    t: usize,
    dv: usize,
    /// Key vectors per key block (TB = KV * W) and output vectors per PV group.
    kv: usize,
    g: usize,
    sbuf: Mem,
}

pub fn lower(scale: f32, kind: AttentionMask, k: &mut Kernel) -> Result<()> {
    let q = k.param(0);
    if q.dtype != DType::F32 {
        return Err(CodegenError::new(format!("Attention: codegen supports f32 only, got {}", q.dtype)));
    }
    let r = q.rank();
    let lead = q.shape[..r - 2].to_vec();
    let bsz: usize = lead.iter().product();
    let (s, d, t) = (q.shape[r - 2], q.shape[r - 1], k.param(1).shape[r - 1]);
    let out = if kind == AttentionMask::None { 3 } else { 4 };
    let dv = k.param(out).shape[r - 1];
    let q = k.view(0, vec![bsz, s, d]);
    let kt = k.view(1, vec![bsz, d, t]);
    let v = k.view(2, vec![bsz, t, dv]);
    let o = k.view(out, vec![bsz, s, dv]);
    let mask = (kind != AttentionMask::None).then(|| {
        let ms = k.param(3).shape;
        let padded: Vec<usize> = std::iter::repeat_n(1, r - ms.len()).chain(ms).collect();
        k.view(3, padded)
    });
    let w = k.f32_lanes;
    let (kv, g) = if w >= 16 { (4, 4) } else { (2, 2) };
    let sbuf = Mem { name: k.b.fresh(), dtype: DType::F32, shape: vec![R, kv * w] };
    k.b.line(format!("{} = memref.alloca() {{alignment = 64 : i64}} : {}", sbuf.name, sbuf.memref_ty()));
    let cx = Ctx { q, kt, v, o, mask, kind, scale, lead, d, t, dv, kv, g, sbuf };

    let nblk = s.div_ceil(R);
    let (lo, hi) = k.partition(bsz * nblk);
    let f = k.b.for_(&lo, &hi);
    let nb = k.b.idx(nblk as i64);
    let b = k.b.op(format!("arith.divui {f}, {nb} : index"));
    let blk = k.b.op(format!("arith.remui {f}, {nb} : index"));
    let i0 = k.b.affine(&blk, R as i64, 0);
    let rem = s % R;
    if rem == 0 {
        block(k, &cx, &b, &i0, R);
    } else {
        let last = k.b.idx(nblk as i64 - 1);
        let is_last = k.b.icmp("eq", &blk, &last);
        k.b.if_(&is_last);
        block(k, &cx, &b, &i0, rem);
        k.b.else_();
        block(k, &cx, &b, &i0, R);
        k.b.end_if();
    }
    k.b.end_for();
    Ok(())
}

/// Query rows `[i0, i0 + nr)` of batch `b`.
fn block(k: &mut Kernel, cx: &Ctx, b: &str, i0: &str, nr: usize) {
    let t = Tiles::new(k.f32_lanes, 1);
    let rows: Vec<String> = (0..nr).map(|r| k.b.affine(i0, 1, r as i64)).collect();
    let ocols = out_cols(k, cx, &t);
    let zv = k.b.typed_const("dense<0.000000e+00>", &t.vty);
    for row in &rows {
        for (col, m) in &ocols {
            vstore(k, &t, &zv, &cx.o, &[b.to_string(), row.clone(), col.clone()], m.as_ref());
        }
    }
    let mask_pre = mask_prefix(k, cx, b);
    let ninf = k.b.cst_f32(f32::NEG_INFINITY);
    let fzero = k.b.cst_f32(0.0);
    let inits: Vec<(String, String)> =
        (0..nr).map(|_| (ninf.clone(), "f32".into())).chain((0..nr).map(|_| (fzero.clone(), "f32".into()))).collect();
    let tb = cx.kv * t.w;
    let zero = k.b.idx(0);
    let nkb = k.b.idx(cx.t.div_ceil(tb) as i64);
    let l = k.b.for_iter(&zero, &nkb, &inits);
    let t0 = k.b.affine(&l.iv, tb as i64, 0);
    let tt = k.b.idx(cx.t as i64);
    let left = k.b.isub(&tt, &t0);
    let tbv = k.b.idx(tb as i64);
    let tn = k.b.imin(&left, &tbv);
    if cx.t.is_multiple_of(tb) {
        scores(k, cx, &t, b, &rows, &t0, false);
    } else {
        let end = k.b.affine(&t0, 1, tb as i64);
        let full = k.b.icmp("sle", &end, &tt);
        k.b.if_(&full);
        scores(k, cx, &t, b, &rows, &t0, false);
        k.b.else_();
        scores(k, cx, &t, b, &rows, &t0, true);
        k.b.end_if();
    }
    let mut next_m = Vec::new();
    let mut next_l = Vec::new();
    let mut alphas = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let (m_old, l_old) = (l.accs[r].clone(), l.accs[nr + r].clone());
        let (m_new, m_use, sum) = softmax_block(k, cx, &mask_pre, r, row, &t0, &tn, &m_old);
        let diff = k.b.op(format!("arith.subf {m_old}, {m_use} : f32"));
        let alpha = k.b.exp(&diff, DType::F32);
        let ls = k.b.op(format!("arith.mulf {l_old}, {alpha} : f32"));
        next_l.push(k.b.op(format!("arith.addf {ls}, {sum} : f32")));
        next_m.push(m_new);
        alphas.push(alpha);
    }
    accumulate_pv(k, cx, &t, b, &rows, &t0, &tn, &alphas, &ocols);
    let yields: Vec<String> = next_m.into_iter().chain(next_l).collect();
    let res = k.b.end_for_iter(l, &yields);
    let one = k.b.cst_f32(1.0);
    for (r, row) in rows.iter().enumerate() {
        let inv = k.b.op(format!("arith.divf {one}, {} : f32", res[nr + r]));
        let invv = k.b.op(format!("vector.broadcast {inv} : f32 to {}", t.vty));
        for (col, m) in &ocols {
            let idx = [b.to_string(), row.clone(), col.clone()];
            let x = vload(k, &t, &cx.o, &idx, m.as_ref());
            let y = k.b.op(format!("arith.mulf {x}, {invv} : {}", t.vty));
            vstore(k, &t, &y, &cx.o, &idx, m.as_ref());
        }
    }
}

/// The output row's vectors: (column, mask for the last one when Dv is not a multiple of W).
fn out_cols(k: &mut Kernel, cx: &Ctx, t: &Tiles) -> Vec<(String, Option<String>)> {
    (0..cx.dv.div_ceil(t.w))
        .map(|c| {
            let col = k.b.idx((c * t.w) as i64);
            let left = cx.dv - c * t.w;
            let mask = (left < t.w).then(|| {
                let n = k.b.idx(left as i64);
                k.b.op(format!("vector.create_mask {n} : {}", t.mty))
            });
            (col, mask)
        })
        .collect()
}

/// The mask's index prefix for batch `b`: per leading dim, that dim's index of `b` (0 where the
/// mask broadcasts).
fn mask_prefix(k: &mut Kernel, cx: &Ctx, b: &str) -> Vec<String> {
    let Some(m) = &cx.mask else { return Vec::new() };
    let mut idx = vec![String::new(); cx.lead.len()];
    let mut rest = b.to_string();
    for dim in (0..cx.lead.len()).rev() {
        let e = k.b.idx(cx.lead[dim] as i64);
        idx[dim] = if m.shape[dim] == 1 { k.b.idx(0) } else { k.b.op(format!("arith.remui {rest}, {e} : index")) };
        rest = k.b.op(format!("arith.divui {rest}, {e} : index"));
    }
    idx
}

/// Scores of the key block at `t0` for `rows` into the stack buffer (keys past T masked to 0,
/// never read).
fn scores(k: &mut Kernel, cx: &Ctx, t: &Tiles, b: &str, rows: &[String], t0: &str, masked: bool) {
    let cols: Vec<(String, Option<String>)> = (0..cx.kv)
        .map(|j| {
            let col = k.b.affine(t0, 1, (j * t.w) as i64);
            if !masked {
                return (col, None);
            }
            let tt = k.b.idx(cx.t as i64);
            let left = k.b.isub(&tt, &col);
            let cnt = k.b.iclamp(&left, 0, t.w as i64);
            let mask = k.b.op(format!("vector.create_mask {cnt} : {}", t.mty));
            (k.b.imin(&col, &tt), Some(mask))
        })
        .collect();
    let zv = k.b.typed_const("dense<0.000000e+00>", &t.vty);
    let inits: Vec<(String, String)> = (0..rows.len() * cx.kv).map(|_| (zv.clone(), t.vty.clone())).collect();
    let zero = k.b.idx(0);
    let dd = k.b.idx(cx.d as i64);
    let l = k.b.for_iter(&zero, &dd, &inits);
    let kvs: Vec<String> = cols
        .iter()
        .map(|(col, m)| vload(k, t, &cx.kt, &[b.to_string(), l.iv.clone(), col.clone()], m.as_ref()))
        .collect();
    let mut next = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let qv = k.b.load(&cx.q, &[b.to_string(), row.clone(), l.iv.clone()]);
        let qb = k.b.op(format!("vector.broadcast {qv} : f32 to {}", t.vty));
        for (j, kvj) in kvs.iter().enumerate() {
            let acc = &l.accs[r * cx.kv + j];
            next.push(k.b.op(format!("vector.fma {qb}, {kvj}, {acc} : {}", t.vty)));
        }
    }
    let res = k.b.end_for_iter(l, &next);
    for r in 0..rows.len() {
        let rv = k.b.idx(r as i64);
        for j in 0..cx.kv {
            let c = k.b.idx((j * t.w) as i64);
            vstore(k, t, &res[r * cx.kv + j], &cx.sbuf, &[rv.clone(), c], None);
        }
    }
}

/// Row `r` of the block: scale and mask the `tn` scores, take the block max into the running
/// max, overwrite the scores with `exp(s - m)` and sum them. Returns (new max, the max used in
/// the exponents, sum).
#[allow(clippy::too_many_arguments)]
fn softmax_block(
    k: &mut Kernel,
    cx: &Ctx,
    mask_pre: &[String],
    r: usize,
    row: &str,
    t0: &str,
    tn: &str,
    m_old: &str,
) -> (String, String, String) {
    let rv = k.b.idx(r as i64);
    let zero = k.b.idx(0);
    let ninf = k.b.cst_f32(f32::NEG_INFINITY);
    let l = k.b.for_iter(&zero, tn, &[(ninf.clone(), "f32".into())]);
    let x = k.b.load(&cx.sbuf, &[rv.clone(), l.iv.clone()]);
    let sc = k.b.cst_f32(cx.scale);
    let mut x = k.b.op(format!("arith.mulf {x}, {sc} : f32"));
    if let Some(m) = &cx.mask {
        let key = k.b.iadd(t0, &l.iv);
        let srow = if m.shape[m.rank() - 2] == 1 { k.b.idx(0) } else { row.to_string() };
        let idx: Vec<String> = mask_pre.iter().cloned().chain([srow, key]).collect();
        let mv = k.b.load(m, &idx);
        x = match cx.kind {
            AttentionMask::Where { fill } => {
                let fv = k.b.cst_f32(fill);
                k.b.select(&mv, &x, &fv, DType::F32)
            }
            _ => k.b.op(format!("arith.addf {x}, {mv} : f32")),
        };
    }
    k.b.store(&x, &cx.sbuf, &[rv.clone(), l.iv.clone()]);
    let mx = k.b.op(format!("arith.maximumf {}, {x} fastmath<nnan,reassoc> : f32", l.accs[0]));
    let bmax = k.b.end_for_iter(l, &[mx]).remove(0);
    let m_new = k.b.op(format!("arith.maximumf {m_old}, {bmax} : f32"));
    let is_ninf = k.b.op(format!("arith.cmpf oeq, {m_new}, {ninf} : f32"));
    let fz = k.b.cst_f32(0.0);
    let m_use = k.b.select(&is_ninf, &fz, &m_new, DType::F32);
    let l = k.b.for_iter(&zero, tn, &[(fz, "f32".into())]);
    let x = k.b.load(&cx.sbuf, &[rv.clone(), l.iv.clone()]);
    let dx = k.b.op(format!("arith.subf {x}, {m_use} : f32"));
    let e = k.b.exp(&dx, DType::F32);
    k.b.store(&e, &cx.sbuf, &[rv, l.iv.clone()]);
    let s = k.b.op(format!("arith.addf {}, {e} fastmath<reassoc> : f32", l.accs[0]));
    let sum = k.b.end_for_iter(l, &[s]).remove(0);
    (m_new, m_use, sum)
}

/// `out[rows] = out[rows] * alpha + e[rows, :tn] @ v[t0 .. t0 + tn]`, `G` output vectors of
/// every row in registers at a time.
#[allow(clippy::too_many_arguments)]
fn accumulate_pv(
    k: &mut Kernel,
    cx: &Ctx,
    t: &Tiles,
    b: &str,
    rows: &[String],
    t0: &str,
    tn: &str,
    alphas: &[String],
    ocols: &[(String, Option<String>)],
) {
    let av: Vec<String> = alphas.iter().map(|a| k.b.op(format!("vector.broadcast {a} : f32 to {}", t.vty))).collect();
    for group in ocols.chunks(cx.g) {
        let mut inits = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            for (col, m) in group {
                let x = vload(k, t, &cx.o, &[b.to_string(), row.clone(), col.clone()], m.as_ref());
                inits.push((k.b.op(format!("arith.mulf {x}, {} : {}", av[r], t.vty)), t.vty.clone()));
            }
        }
        let zero = k.b.idx(0);
        let l = k.b.for_iter(&zero, tn, &inits);
        let key = k.b.iadd(t0, &l.iv);
        let vs: Vec<String> = group
            .iter()
            .map(|(col, m)| vload(k, t, &cx.v, &[b.to_string(), key.clone(), col.clone()], m.as_ref()))
            .collect();
        let mut next = Vec::new();
        for r in 0..rows.len() {
            let rv = k.b.idx(r as i64);
            let p = k.b.load(&cx.sbuf, &[rv, l.iv.clone()]);
            let pb = k.b.op(format!("vector.broadcast {p} : f32 to {}", t.vty));
            for (c, vc) in vs.iter().enumerate() {
                let acc = &l.accs[r * group.len() + c];
                next.push(k.b.op(format!("vector.fma {pb}, {vc}, {acc} : {}", t.vty)));
            }
        }
        let res = k.b.end_for_iter(l, &next);
        for (r, row) in rows.iter().enumerate() {
            for (c, (col, m)) in group.iter().enumerate() {
                vstore(k, t, &res[r * group.len() + c], &cx.o, &[b.to_string(), row.clone(), col.clone()], m.as_ref());
            }
        }
    }
}
