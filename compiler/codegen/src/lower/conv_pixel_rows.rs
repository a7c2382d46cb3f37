//! The direct convolution with the product's roles swapped: output pixels as the tile's rows,
//! output channels along the vectors. `y[m, p] = sum_(c, t) w[m, (c, t)] * x[c, q(p) + off(t)]`
//! where `q(p) = (p / OW) * W + p % OW` is pixel `p`'s place in the input plane. A tile of `MR`
//! pixels x `NR` channels broadcasts one input value per pixel (read in place, at any address)
//! and loads the weights as vectors from panels packed at compile time
//! ([`pack_whole_depth`]: `[channel strip][depth][NR]`), then scatters each channel vector to
//! its pixel (stride `OH*OW`).
//!
//! [`super::conv_direct`]'s orientation runs the columns over the input's width and drops the
//! `W - OW` columns past each output row and the lanes past `N'`; on small images that is a
//! large share (a 7x7 output: 49 pixels in 64 lanes, 77%), while here only the `MR`-rounding of
//! the pixel count is lost (49 in 54, 91%) against the cost of the scatters, which a deep
//! enough product amortizes. [`better`] chooses per convolution.
//!
//! The last tile's rows past the last pixel repeat the last pixel (the same value stored
//! twice), so no row is masked. Workgroups split the images (four or more), else the channel
//! strips (eight or more), else the pixel tiles.

use super::conv_direct::{DirectConv, Strip};
use super::gemm_pack::IdxVec;
use super::gemm_tiled::{by_fullness, strip_cols, Region, Tiled, Tiles};
use crate::emit::Kernel;

/// Partition the images when there are at least this many.
const MIN_IMAGES_TO_SPLIT: usize = 4;
/// Partition channel strips when there are at least this many, else pixel tiles.
const MIN_STRIPS_TO_SPLIT: usize = 8;
/// Estimated cycles of one 16-lane scatter, against one vector FMA per cycle: the scatters of
/// a tile cost about this many depth steps.
const SCATTER_STEPS: f64 = 20.0;

/// Whether pixel rows beat the columns-over-width orientation for this convolution: output
/// `[oh, ow]` read from an input `w` wide, `m` output channels, depth `k`, `lanes` per vector.
/// Each is rated by the share of its lanes that compute output (pixels, channels), the pixel
/// rows also by the scatters' cost against the depth; they must win by 4%.
pub fn better(lanes: usize, m: usize, k: usize, [oh, ow]: [usize; 2], w: usize) -> bool {
    let t = Tiles::new(lanes, k);
    let p = oh * ow;
    let np = (oh - 1) * w + ow;
    let cols = p as f64 / (np.div_ceil(t.w) * t.w) as f64;
    let rows = p as f64 / (p.div_ceil(t.mr) * t.mr) as f64;
    let chans = m as f64 / (m.div_ceil(t.nr) * t.nr) as f64;
    let swapped = rows * chans / (1.0 + SCATTER_STEPS / k as f64);
    swapped > cols * 1.04
}

/// Weights `[M, K]` (rows = output channels, depth `(c, t)`) as `[strip][K][NR]` panels, zero
/// past `M`: one depth block, as this kernel reads them.
pub fn pack_whole_depth(lanes: usize, w: &[f32], m: usize, k: usize) -> Vec<f32> {
    let nr = Tiles::new(lanes, k).nr;
    let ns = m.div_ceil(nr);
    let mut out = vec![0.0f32; ns * k * nr];
    for s in 0..ns {
        for kk in 0..k {
            for l in 0..nr {
                let j = s * nr + l;
                if j < m {
                    out[(s * k + kk) * nr + l] = w[j * k + kk];
                }
            }
        }
    }
    out
}

/// f32 elements of [`pack_whole_depth`]'s panels.
pub fn packed_len(lanes: usize, m: usize, k: usize) -> usize {
    let nr = Tiles::new(lanes, k).nr;
    m.div_ceil(nr) * k * nr
}

/// Emit this workgroup's share (`d.a` holds [`pack_whole_depth`]'s panels); returns the output
/// view `[M, OH*OW]` and the rectangle written (channels as rows, pixels as columns).
pub fn emit(kn: &mut Kernel, d: &DirectConv) -> Tiled {
    let (images, c, h, w) = (d.x.shape[0], d.x.shape[1], d.x.shape[2], d.x.shape[3]);
    let [oh, ow] = d.out_hw;
    let p = oh * ow;
    let k = d.taps.depth(c);
    let mut t = Tiles::new(kn.f32_lanes, k);
    t.kc = k;
    let (pt, ns) = (p.div_ceil(t.mr), d.m.div_ceil(t.nr));
    let zero = kn.b.idx(0);
    let (all_t, all_s) = (kn.b.idx(pt as i64), kn.b.idx(ns as i64));
    let ([b0, b1], [t0, t1], [s0, s1]) = if images >= MIN_IMAGES_TO_SPLIT {
        let (b0, b1) = kn.partition(images);
        ([b0, b1], [zero.clone(), all_t], [zero.clone(), all_s])
    } else {
        let all_b = kn.b.idx(images as i64);
        if ns >= MIN_STRIPS_TO_SPLIT || pt == 1 {
            let (s0, s1) = kn.partition(ns);
            ([zero.clone(), all_b], [zero.clone(), all_t], [s0, s1])
        } else {
            let (t0, t1) = kn.partition(pt);
            ([zero.clone(), all_b], [t0, t1], [zero.clone(), all_s])
        }
    };
    let (mv, pv) = (kn.b.idx(d.m as i64), kn.b.idx(p as i64));
    let span = |kn: &mut Kernel, a: &str, b: &str, unit: usize, end: &str| {
        let lo = kn.b.affine(a, unit as i64, 0);
        let hi = kn.b.affine(b, unit as i64, 0);
        (kn.b.imin(&lo, end), kn.b.imin(&hi, end))
    };
    let (r0, r1) = span(kn, &s0, &s1, t.nr, &mv);
    let (c0, c1) = span(kn, &t0, &t1, t.mr, &pv);
    let region = Region { b0: b0.clone(), b1: b1.clone(), r0, r1, c0, c1 };

    let (xf, of) = (kn.flat(&d.x), kn.flat(&d.o));
    let bi = kn.b.for_(&b0, &b1);
    let x_img = kn.b.affine(&bi, (c * h * w) as i64, 0);
    let o_img = kn.b.affine(&bi, (d.m * p) as i64, 0);
    let s = kn.b.for_(&s0, &s1);
    let j0 = kn.b.affine(&s, t.nr as i64, 0);
    let panel = kn.b.affine(&s, (k * t.nr) as i64, 0);
    let geo = Geo { c, h, w, ow, p };
    let strip = Strip { x: &xf, o: &of, x_img: &x_img, o_img: &o_img, j0: &j0 };
    by_fullness(kn, &t, d.m, &j0, &mut |kn, masked| {
        let ti = kn.b.for_(&t0, &t1);
        let p0 = kn.b.affine(&ti, t.mr as i64, 0);
        micro_tile(kn, d, &t, &geo, (&strip, &panel), &p0, masked);
        kn.b.end_for();
    });
    kn.b.end_for();
    kn.b.end_for();
    Tiled { o: d.o.clone(), region }
}

/// The geometry the tile reads: input channels, plane `h x w`, output width, pixels.
struct Geo {
    c: usize,
    h: usize,
    w: usize,
    ow: usize,
    p: usize,
}

/// The `MR` pixels from `p0` (clamped to the last) x the strip's channels (weights at `panel`):
/// start from the bias (or zero), run channel by channel over the taps (unrolled), scatter each
/// channel vector.
fn micro_tile(kn: &mut Kernel, d: &DirectConv, t: &Tiles, g: &Geo, (s, panel): (&Strip, &str), p0: &str, masked: bool) {
    let nv = if masked { (d.m % t.nr).div_ceil(t.w) } else { t.nv };
    let mut cols = strip_cols(kn, t, d.m, s.j0, masked);
    cols.truncate(nv);
    let [dh, dw] = d.dilations;
    let per = g.c / d.taps.groups;
    let (chan_stride, block_stride) = d.taps.strides(g.c);
    let plane = g.h * g.w;
    // Pixel of each row (past the last: the last) and where it sits in the input plane.
    let last = kn.b.idx(g.p as i64 - 1);
    let owv = kn.b.idx(g.ow as i64);
    let (mut pix, mut qs) = (Vec::new(), Vec::new());
    for r in 0..t.mr {
        let pr = kn.b.affine(p0, 1, r as i64);
        let pr = kn.b.imin(&pr, &last);
        let oy = kn.b.op(format!("arith.divui {pr}, {owv} : index"));
        let ox = kn.b.op(format!("arith.remui {pr}, {owv} : index"));
        let q = kn.b.affine(&oy, g.w as i64, 0);
        let q = kn.b.iadd(&q, &ox);
        qs.push(kn.b.iadd(&q, s.x_img));
        pix.push(pr);
    }
    let zv = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
    let inits: Vec<String> = cols
        .iter()
        .map(|(col, mask)| match &d.bias {
            Some(b) => super::gemm_tiled::vload(kn, t, b, std::slice::from_ref(col), mask.as_ref()),
            None => zv.clone(),
        })
        .collect();
    let mut carried = Vec::new();
    for _ in 0..t.mr {
        carried.extend(inits.iter().map(|v| (v.clone(), t.vty.clone())));
    }
    let (zero, channels) = (kn.b.idx(0), kn.b.idx(per as i64));
    let l = kn.b.for_iter(&zero, &channels, &carried);
    let xo = kn.b.affine(&l.iv, (chan_stride * plane) as i64, 0);
    let nt = d.taps.taps.len();
    // Panel row of depth step (c, t): panel + (c * taps + t) * NR.
    let row0 = kn.b.affine(&l.iv, (nt * t.nr) as i64, 0);
    let row0 = kn.b.iadd(panel, &row0);
    let rows_x: Vec<String> = qs.iter().map(|q| kn.b.iadd(q, &xo)).collect();
    let mut accs: Vec<String> = l.accs.clone();
    for (ti, tap) in d.taps.taps.iter().enumerate() {
        let tap_off = tap[0] * block_stride * plane + tap[1] * dh * g.w + tap[2] * dw;
        let bv: Vec<String> = (0..nv)
            .map(|v| {
                let o = kn.b.affine(&row0, 1, (ti * t.nr + v * t.w) as i64);
                super::gemm_tiled::vload(kn, t, &d.a, &[o], None)
            })
            .collect();
        let mut next = Vec::with_capacity(accs.len());
        for (r, rx) in rows_x.iter().enumerate() {
            let at = kn.b.affine(rx, 1, tap_off as i64);
            let a = kn.b.load(s.x, &[at]);
            let ab = kn.b.op(format!("vector.broadcast {a} : f32 to {}", t.vty));
            for (v, b) in bv.iter().enumerate() {
                next.push(kn.b.op(format!("vector.fma {ab}, {b}, {} : {}", accs[nv * r + v], t.vty)));
            }
        }
        accs = next;
    }
    let res = kn.b.end_for_iter(l, &accs);
    // Channel `j0 + v*W + lane` of pixel `p` lies at o_img + (j0 + v*W + lane) * P + p.
    let iv = IdxVec::new(t.w, "i32");
    let offs = iv.lanes(kn, g.p);
    let all = kn.b.typed_const("dense<true>", &t.mty);
    for (v, (col, mask)) in cols.iter().enumerate() {
        let ch0 = kn.b.affine(col, g.p as i64, 0);
        let ch0 = kn.b.iadd(&ch0, s.o_img);
        let mask = mask.clone().unwrap_or_else(|| all.clone());
        for (r, pr) in pix.iter().enumerate() {
            let base = kn.b.iadd(&ch0, pr);
            kn.b.line(format!(
                "vector.scatter {}[{base}][{offs}], {mask}, {} : {}, {}, {}, {}",
                s.o.name,
                res[nv * r + v],
                s.o.memref_ty(),
                iv.ity,
                t.mty,
                t.vty
            ));
        }
    }
}
