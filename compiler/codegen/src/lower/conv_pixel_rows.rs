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
//! twice), so no row is masked. Workgroups split the images (four or more), else the
//! (channel strip, pixel tile) units in strip-major order, so each reads about its share of the
//! weights ([`Units`]; a fused epilogue follows the same units).
//!
//! A deep product runs in depth blocks of [`DEPTH_BLOCK`] steps: per group of [`GROUP_TILES`]
//! pixel tiles, every block passes over all of the group's tiles while the block's weights are
//! in cache, the partial sums waiting in stack scratch, and each tile prefetches its share of the
//! next block's weights ([`Prefetch`]), which in a whole model come from memory.

use super::conv_direct::{DirectConv, Strip, LINE_F32};
use super::gemm_pack::IdxVec;
use super::gemm_tiled::{by_fullness, strip_cols, Region, Tiled, Tiles, Units};
use crate::emit::{Kernel, Mem};
use kiln_ir::DType;

/// Partition the images when there are at least this many.
const MIN_IMAGES_TO_SPLIT: usize = 4;
/// Depth steps `(channel, tap)` of one block: a strip's weights for one block (256 x 64 f32 with
/// 16 lanes, 64 KiB) stay in cache while every pixel tile of a group runs over them.
const DEPTH_BLOCK: usize = 256;
/// Pixel tiles per group, whose partial sums wait in stack scratch between depth blocks
/// (16 x 6 x 64 f32, 24 KiB).
const GROUP_TILES: usize = 16;
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
/// view `[M, OH*OW]` and the units written (channel strips as rows, pixel tiles as columns).
pub fn emit(kn: &mut Kernel, d: &DirectConv) -> Tiled {
    let (images, c, h, w) = (d.x.shape[0], d.x.shape[1], d.x.shape[2], d.x.shape[3]);
    let [oh, ow] = d.out_hw;
    let p = oh * ow;
    let k = d.taps.depth(c);
    let mut t = Tiles::new(kn.f32_lanes, k);
    t.kc = k;
    let (pt, ns) = (p.div_ceil(t.mr), d.m.div_ceil(t.nr));
    let per = c / d.taps.groups;
    let cb = (DEPTH_BLOCK / d.taps.taps.len()).clamp(1, per);
    let blocks = per.div_ceil(cb);
    let zero = kn.b.idx(0);
    let all_u = kn.b.idx((ns * pt) as i64);
    let ([b0, b1], [u0, u1]) = if images >= MIN_IMAGES_TO_SPLIT {
        let (b0, b1) = kn.partition(images);
        ([b0, b1], [zero.clone(), all_u])
    } else {
        let all_b = kn.b.idx(images as i64);
        let (u0, u1) = kn.partition(ns * pt);
        ([zero.clone(), all_b], [u0, u1])
    };
    let units = Units { u0, u1, tiles: pt, rows: t.nr, cols: t.mr, r_end: d.m, c_end: p };
    // Partial sums of a group's tiles between depth blocks: [tile][MR][NR] on the stack.
    let scratch = (blocks > 1).then(|| {
        let size = GROUP_TILES * t.mr * t.nr;
        let sc = Mem { name: kn.b.fresh(), dtype: DType::F32, shape: vec![size] };
        kn.scratch_bytes += (size * 4) as u64;
        kn.b.line(format!("{} = memref.alloca() {{alignment = 64 : i64}} : {}", sc.name, sc.memref_ty()));
        sc
    });

    let (xf, of) = (kn.flat(&d.x), kn.flat(&d.o));
    let bi = kn.b.for_(&b0, &b1);
    let x_img = kn.b.affine(&bi, (c * h * w) as i64, 0);
    let o_img = kn.b.affine(&bi, (d.m * p) as i64, 0);
    let (s0, s1) = units.strips(kn);
    let s = kn.b.for_(&s0, &s1);
    let (t0, t1) = units.tiles_of(kn, &s);
    let j0 = kn.b.affine(&s, t.nr as i64, 0);
    let panel = kn.b.affine(&s, (k * t.nr) as i64, 0);
    let geo = Geo { c, h, w, ow, p };
    let strip = Strip { x: &xf, o: &of, x_img: &x_img, o_img: &o_img, j0: &j0 };
    by_fullness(kn, &t, d.m, &j0, &mut |kn, masked| {
        let tile = |kn: &mut Kernel, ti: &str, chans: [&str; 2], from: Acc, to: Acc, prefetch: Option<Prefetch>| {
            let p0 = kn.b.affine(ti, t.mr as i64, 0);
            let at = Tile { chans, from, to, masked, prefetch };
            micro_tile(kn, d, &t, &geo, (&strip, &panel), &p0, &at);
        };
        let (c_lo, c_hi) = (kn.b.idx(0), kn.b.idx(per as i64));
        let Some(sc) = &scratch else {
            let ti = kn.b.for_(&t0, &t1);
            tile(kn, &ti, [&c_lo, &c_hi], Acc::Bias, Acc::Output, None);
            kn.b.end_for();
            return;
        };
        // Groups of GROUP_TILES tiles; per group every depth block runs over all its tiles while
        // the block's weights stay in cache.
        // Each tile of a group prefetches its share of the next block's weights (the next
        // strip's first block after the last): `lines` cache lines per channel.
        let lines = (d.taps.taps.len() * t.nr).div_ceil(GROUP_TILES.min(pt) * LINE_F32);
        let step = kn.b.idx(GROUP_TILES as i64);
        let g = kn.b.for_step(&t0, &t1, &step);
        let g_end = kn.b.affine(&g, 1, GROUP_TILES as i64);
        let g_end = kn.b.imin(&g_end, &t1);
        let blk = |kn: &mut Kernel, chans: [&str; 2], first: bool, last: bool| {
            let ti = kn.b.for_(&g, &g_end);
            let slot = kn.b.isub(&ti, &g);
            let from = if first { Acc::Bias } else { Acc::Scratch(sc, &slot) };
            let to = if last { Acc::Output } else { Acc::Scratch(sc, &slot) };
            tile(kn, &ti, chans, from, to, Some(Prefetch { slot: &slot, cb, lines }));
            kn.b.end_for();
        };
        let c1 = kn.b.idx(cb as i64);
        blk(kn, [&c_lo, &c1], true, false);
        if blocks > 2 {
            let (one, nb) = (kn.b.idx(1), kn.b.idx(blocks as i64 - 1));
            let bl = kn.b.for_(&one, &nb);
            let a = kn.b.affine(&bl, cb as i64, 0);
            let b = kn.b.affine(&bl, cb as i64, cb as i64);
            blk(kn, [&a, &b], false, false);
            kn.b.end_for();
        }
        let last = kn.b.idx(((blocks - 1) * cb) as i64);
        blk(kn, [&last, &c_hi], false, true);
        kn.b.end_for();
    });
    kn.b.end_for();
    kn.b.end_for();
    let (r0, r1, c0, c1) = (zero.clone(), zero.clone(), zero.clone(), zero);
    Tiled { o: d.o.clone(), region: Region { b0, b1, r0, r1, c0, c1, units: Some(units) } }
}

/// Where a tile's accumulators start from or go to: the bias (or zero) / the output (scattered),
/// or slot `slot` of the group's scratch.
enum Acc<'a> {
    Bias,
    Output,
    Scratch(&'a Mem, &'a str),
}

/// One micro-tile's job: input channels `[chans[0], chans[1])` of every block.
struct Tile<'a> {
    chans: [&'a str; 2],
    from: Acc<'a>,
    to: Acc<'a>,
    masked: bool,
    prefetch: Option<Prefetch<'a>>,
}

/// The next block's weights, fetched while this block runs: tile `slot` of its group, at channel
/// `j` of its `cb`-channel block, prefetches `lines` lines from line `(slot * cb + j) * lines` of
/// the block that follows. Weights that come from memory (a model's are larger than the caches)
/// then arrive while the group's tiles compute instead of stalling the block's first tile.
struct Prefetch<'a> {
    slot: &'a str,
    cb: usize,
    lines: usize,
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
/// start from `at.from`, run over `at.chans` with the taps unrolled, leave the sums at `at.to`.
fn micro_tile(kn: &mut Kernel, d: &DirectConv, t: &Tiles, g: &Geo, (s, panel): (&Strip, &str), p0: &str, at: &Tile) {
    let nv = if at.masked { (d.m % t.nr).div_ceil(t.w) } else { t.nv };
    let mut cols = strip_cols(kn, t, d.m, s.j0, at.masked);
    cols.truncate(nv);
    let [dh, dw] = d.dilations;
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
    // Scratch element of row r, vector v: (slot * MR + r) * NR + v * W.
    let scratch_at = |kn: &mut Kernel, slot: &str, r: usize, v: usize| {
        kn.b.affine(slot, (t.mr * t.nr) as i64, (r * t.nr + v * t.w) as i64)
    };
    let mut carried = Vec::new();
    match &at.from {
        Acc::Scratch(sc, slot) => {
            for r in 0..t.mr {
                for v in 0..nv {
                    let i = scratch_at(kn, slot, r, v);
                    carried.push((super::gemm_tiled::vload(kn, t, sc, &[i], None), t.vty.clone()));
                }
            }
        }
        _ => {
            let zv = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
            let inits: Vec<String> = cols
                .iter()
                .map(|(col, mask)| match &d.bias {
                    Some(b) => super::gemm_tiled::vload(kn, t, b, std::slice::from_ref(col), mask.as_ref()),
                    None => zv.clone(),
                })
                .collect();
            for _ in 0..t.mr {
                carried.extend(inits.iter().map(|v| (v.clone(), t.vty.clone())));
            }
        }
    }
    let l = kn.b.for_iter(at.chans[0], at.chans[1], &carried);
    let xo = kn.b.affine(&l.iv, (chan_stride * plane) as i64, 0);
    let nt = d.taps.taps.len();
    // Panel row of depth step (c, t): panel + (c * taps + t) * NR.
    let row0 = kn.b.affine(&l.iv, (nt * t.nr) as i64, 0);
    let row0 = kn.b.iadd(panel, &row0);
    let rows_x: Vec<String> = qs.iter().map(|q| kn.b.iadd(q, &xo)).collect();
    if let Some(pf) = &at.prefetch {
        // Line (slot * cb + (c - c_lo)) * lines of the block at panel + c_hi * taps * NR.
        let next = kn.b.affine(at.chans[1], (nt * t.nr) as i64, 0);
        let next = kn.b.iadd(panel, &next);
        let chunk = (pf.lines * LINE_F32) as i64;
        let me = kn.b.affine(pf.slot, pf.cb as i64 * chunk, 0);
        let j = kn.b.isub(&l.iv, at.chans[0]);
        let j = kn.b.affine(&j, chunk, 0);
        let o = kn.b.iadd(&next, &me);
        let o = kn.b.iadd(&o, &j);
        for line in 0..pf.lines {
            let o = kn.b.affine(&o, 1, (line * LINE_F32) as i64);
            kn.b.line(format!("memref.prefetch {}[{o}], read, locality<3>, data : {}", d.a.name, d.a.memref_ty()));
        }
    }
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
    if let Acc::Scratch(sc, slot) = &at.to {
        for r in 0..t.mr {
            for v in 0..nv {
                let i = scratch_at(kn, slot, r, v);
                super::gemm_tiled::vstore(kn, t, &res[nv * r + v], sc, &[i], None);
            }
        }
        return;
    }
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
