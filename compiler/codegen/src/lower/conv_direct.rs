//! Direct convolution for unpadded stride-1 f32 Conv (conv-pad-input makes the padding an
//! explicit Pad): the tiled product `y[img] = w @ X(x[img]) + b`, where row `(c, ky, kx)` of the
//! patch matrix `X` is the input plane `c` shifted by the tap, read in place. No im2col matrix
//! is gathered, packed or written.
//!
//! The columns are the input-width positions `q = oy * W + ox` (`ox < W`, not `OW`): then
//! `X[(c, ky, kx), q] = x[c * H * W + q + ky * dh * W + kx * dw]`, contiguous along `q`, so every
//! B vector is one plain load. The `W - OW` columns per row past the output's width are computed
//! and dropped (a few % of the work on small images, against a gather per element). Columns
//! stop at `N' = (OH - 1) * W + OW`, the last one that holds an output pixel; then every column
//! reads inside its plane. The accumulator tile is stored with a masked `vector.scatter` to
//! pixel `p = oy * OW + ox` (a plain store when the kernel is one wide: then `q = p`), once per tile (the depth is not blocked: A arrives packed at
//! compile time as one block of `[M/MR][K][MR]` micro-panels).
//!
//! The depth runs channel by channel with the taps unrolled. Taps whose weights are zero for
//! every output channel are skipped ([`ConvTaps`]): channels may come in `groups` blocks of
//! `C / groups` that each have their own live taps. That is how conv-space-to-depth's strided
//! convolutions run: on the input's `s x s` phases as channel blocks, a stride-`s` `k x k`
//! convolution is a stride-1 `ceil(k/s)`-wide one whose taps past `k` in each phase are zero,
//! so skipping them leaves exactly the original `k*k` multiply-adds per channel.
//!
//! Workgroups split the images (four or more), else the column strips, else the row tiles;
//! none packs anything, so a split by rows costs no repeated work and runs four per thread.

use super::gemm_pack::IdxVec;
use super::gemm_tiled::{for_row_tiles, vload, vstore, Region, Tiled, Tiles};
use crate::emit::{Kernel, Mem};
use kiln_ir::DType;

/// Partition the images when there are at least this many.
const MIN_IMAGES_TO_SPLIT: usize = 4;
/// Partition column strips when there are at least this many, else row tiles.
const MIN_STRIPS_TO_SPLIT: usize = 8;
/// Channels ahead that the tile prefetches its input rows.
const PREFETCH_CHANNELS: usize = 2;
/// f32 per cache line.
pub(super) const LINE_F32: usize = 16;

/// An unpadded stride-1 convolution: `x [images, C, H, W]`, weights `a` (`[M, C*kH*kW]`, or 1-D
/// when packed at compile time with the depth `(c, tap)` of [`ConvTaps::gather`]), output `o`
/// viewed `[M, OH*OW]` (`[images, M, OH*OW]` for several images) of an `out_hw` image.
pub struct DirectConv {
    pub x: Mem,
    pub a: Mem,
    pub a_packed: bool,
    pub o: Mem,
    pub out_hw: [usize; 2],
    pub bias: Option<Mem>,
    pub m: usize,
    pub dilations: [usize; 2],
    pub taps: ConvTaps,
    /// Pixels as the tile's rows, channels along the vectors ([`super::conv_pixel_rows`]; `a`
    /// then holds its weight panels).
    pub pixel_rows: bool,
}

/// The taps a direct convolution computes: the input's `C` channels form `groups` blocks of
/// `C / groups`, and every channel `c` of a block runs the block's taps `(block, ky, kx)`.
/// Channel `c` of block `g` is input channel `g * C/groups + c` (blocks one after another, as
/// SpaceToDepth orders them), or `c * groups + g` when `interleaved` (as Im2Col rows do).
/// The depth of the product is `(c, t)` over `c < C / groups` and the tap list `t`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTaps {
    pub groups: usize,
    pub interleaved: bool,
    pub taps: Vec<[usize; 3]>,
}

impl ConvTaps {
    /// Every tap of a `kh x kw` kernel, one block: depth `(c, ky, kx)` as the weights lie.
    pub fn dense(kh: usize, kw: usize) -> ConvTaps {
        ConvTaps {
            groups: 1,
            interleaved: false,
            taps: (0..kh).flat_map(|y| (0..kw).map(move |x| [0, y, x])).collect(),
        }
    }

    /// Input channel of channel `ci` of block `g`, of `c` in all.
    pub fn channel(&self, c: usize, g: usize, ci: usize) -> usize {
        if self.interleaved {
            ci * self.groups + g
        } else {
            g * (c / self.groups) + ci
        }
    }

    /// Channels between consecutive channels of a block, and between blocks, of `c` in all.
    pub fn strides(&self, c: usize) -> (usize, usize) {
        if self.interleaved {
            (self.groups, 1)
        } else {
            (1, c / self.groups)
        }
    }

    /// The fewest taps that cover every nonzero weight of `w [M, C, kH, kW]` (row-major), over
    /// the block counts dividing `C` among 1, 4 and 9 (the phases of stride 2 and 3), blocks
    /// one after another or interleaved. Exact: a tap is left out only when its weight is zero
    /// for every output and input channel it covers.
    pub fn of_weights(w: &[f32], shape: [usize; 4]) -> ConvTaps {
        let [m, c, kh, kw] = shape;
        let live = |ci: usize, y: usize, x: usize| (0..m).any(|o| w[((o * c + ci) * kh + y) * kw + x] != 0.0);
        let mut best = ConvTaps::dense(kh, kw);
        for (groups, interleaved) in [(4, false), (4, true), (9, false), (9, true)] {
            if c % groups != 0 || c < groups {
                continue;
            }
            let per = c / groups;
            let mut cand = ConvTaps { groups, interleaved, taps: Vec::new() };
            for g in 0..groups {
                for y in 0..kh {
                    for x in 0..kw {
                        if (0..per).any(|ci| live(cand.channel(c, g, ci), y, x)) {
                            cand.taps.push([g, y, x]);
                        }
                    }
                }
            }
            if cand.depth(c) < best.depth(c) {
                best = cand;
            }
        }
        best
    }

    /// Depth of the product for `c` input channels: `(c / groups) * taps`.
    pub fn depth(&self, c: usize) -> usize {
        c / self.groups * self.taps.len()
    }

    /// The weights `w [M, C, kH, kW]` as the `[M, depth]` matrix of columns `(c, t)`.
    pub fn gather(&self, w: &[f32], [m, c, kh, kw]: [usize; 4]) -> Vec<f32> {
        let per = c / self.groups;
        let mut out = Vec::with_capacity(m * self.depth(c));
        for o in 0..m {
            for ci in 0..per {
                for &[g, y, x] in &self.taps {
                    out.push(w[((o * c + self.channel(c, g, ci)) * kh + y) * kw + x]);
                }
            }
        }
        out
    }
}

/// Whether a Conv with output shape `out` runs directly: f32, one group, every stride 1, no
/// padding, a nonempty output.
pub fn applies(dt: DType, strides: &[usize], pads: &[usize], group: usize, out: &[usize]) -> bool {
    dt == DType::F32
        && group == 1
        && strides.iter().all(|s| *s == 1)
        && pads.iter().all(|p| *p == 0)
        && out.len() == 4
        && out.iter().all(|d| *d > 0)
}

/// The geometry every part of the kernel reads.
struct Geo {
    c: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    /// Depth: channels per block times taps.
    k: usize,
    /// Columns `N' = (OH - 1) * W + OW`.
    np: usize,
}

/// Emit this workgroup's share; returns the output view and the rectangle it wrote (pixels as
/// columns), for a fused epilogue.
pub fn emit(kn: &mut Kernel, d: &DirectConv) -> Tiled {
    if d.pixel_rows {
        return super::conv_pixel_rows::emit(kn, d);
    }
    let (images, c, h, w) = (d.x.shape[0], d.x.shape[1], d.x.shape[2], d.x.shape[3]);
    let [oh, ow] = d.out_hw;
    let k = d.taps.depth(c);
    let g = Geo { c, h, w, oh, ow, k, np: (oh - 1) * w + ow };
    let mut t = Tiles::new(kn.f32_lanes, k);
    t.kc = k;
    let (mt, ns) = (d.m.div_ceil(t.mr), g.np.div_ceil(t.nr));
    let zero = kn.b.idx(0);
    let ([b0, b1], [t0, t1], [s0, s1]) = if images >= MIN_IMAGES_TO_SPLIT {
        let (b0, b1) = kn.partition(images);
        ([b0, b1], [zero.clone(), kn.b.idx(mt as i64)], [zero.clone(), kn.b.idx(ns as i64)])
    } else {
        let all_b = kn.b.idx(images as i64);
        if ns >= MIN_STRIPS_TO_SPLIT || mt == 1 {
            let (s0, s1) = kn.partition(ns);
            ([zero.clone(), all_b], [zero.clone(), kn.b.idx(mt as i64)], [s0, s1])
        } else {
            let (t0, t1) = kn.partition(mt);
            ([zero.clone(), all_b], [t0, t1], [zero.clone(), kn.b.idx(ns as i64)])
        }
    };
    let region = region(kn, d, &t, &g, [&b0, &b1, &t0, &t1, &s0, &s1]);

    let (xf, of) = (kn.flat(&d.x), kn.flat(&d.o));
    let bi = kn.b.for_(&b0, &b1);
    let x_img = kn.b.affine(&bi, (c * h * w) as i64, 0);
    let o_img = kn.b.affine(&bi, (d.m * oh * ow) as i64, 0);
    let s = kn.b.for_(&s0, &s1);
    let j0 = kn.b.affine(&s, t.nr as i64, 0);
    let full = kn.b.affine(&j0, 1, t.nr as i64);
    let npv = kn.b.idx(g.np as i64);
    let full = kn.b.icmp("sle", &full, &npv);
    let strip = Strip { x: &xf, o: &of, x_img: &x_img, o_img: &o_img, j0: &j0 };
    if g.np.is_multiple_of(t.nr) {
        row_tiles(kn, d, &t, &g, &strip, (&t0, &t1), false);
    } else {
        kn.b.if_(&full);
        row_tiles(kn, d, &t, &g, &strip, (&t0, &t1), false);
        kn.b.else_();
        row_tiles(kn, d, &t, &g, &strip, (&t0, &t1), true);
        kn.b.end_if();
    }
    kn.b.end_for();
    kn.b.end_for();
    Tiled { o: d.o.clone(), region }
}

/// The output rectangle: images `[b0, b1)`, rows `[t0*MR, min(t1*MR, M))`, and the pixels of
/// columns `[s0*NR, min(s1*NR, N'))`: column `q` is pixel `(q / W) * OW + min(q % W, OW)`.
fn region(kn: &mut Kernel, d: &DirectConv, t: &Tiles, g: &Geo, [b0, b1, t0, t1, s0, s1]: [&String; 6]) -> Region {
    let m = kn.b.idx(d.m as i64);
    let r0 = kn.b.affine(t0, t.mr as i64, 0);
    let r1a = kn.b.affine(t1, t.mr as i64, 0);
    let r1 = kn.b.imin(&r1a, &m);
    let np = kn.b.idx(g.np as i64);
    let pixel = |kn: &mut Kernel, s: &str| {
        let q = kn.b.affine(s, t.nr as i64, 0);
        let q = kn.b.imin(&q, &np);
        let wv = kn.b.idx(g.w as i64);
        let oy = kn.b.op(format!("arith.divui {q}, {wv} : index"));
        let ox = kn.b.op(format!("arith.remui {q}, {wv} : index"));
        let owv = kn.b.idx(g.ow as i64);
        let ox = kn.b.imin(&ox, &owv);
        let p = kn.b.affine(&oy, g.ow as i64, 0);
        kn.b.iadd(&p, &ox)
    };
    let c0 = pixel(kn, s0);
    let c1 = pixel(kn, s1);
    Region { b0: b0.clone(), b1: b1.clone(), r0, r1, c0, c1, units: None }
}

/// One strip's operands: the flat input and output, this image's offsets into them, the
/// strip's first column (here) or output channel (`conv_pixel_rows`).
pub(super) struct Strip<'a> {
    pub x: &'a Mem,
    pub o: &'a Mem,
    pub x_img: &'a str,
    pub o_img: &'a str,
    pub j0: &'a str,
}

/// Per vector of the strip: the pixel each column lands on, and whether it holds one (`q < N'`
/// and `q % W < OW`).
fn columns(kn: &mut Kernel, t: &Tiles, g: &Geo, j0: &str, nv: usize) -> Vec<(String, String)> {
    let v = IdxVec::new(t.w, "i32");
    let iota = v.lanes(kn, 1);
    let (npv, wv, owv) =
        (v.splat_const(kn, g.np as i64), v.splat_const(kn, g.w as i64), v.splat_const(kn, g.ow as i64));
    (0..nv)
        .map(|i| {
            let col = kn.b.affine(j0, 1, (i * t.w) as i64);
            let cv = v.splat(kn, &col);
            let q = v.bin(kn, "addi", &cv, &iota);
            let oy = v.bin(kn, "divui", &q, &wv);
            let ox = v.bin(kn, "remui", &q, &wv);
            let in_n = v.cmp(kn, "slt", &q, &npv);
            let in_w = v.cmp(kn, "slt", &ox, &owv);
            let valid = kn.b.op(format!("arith.andi {in_n}, {in_w} : {}", t.mty));
            let p = v.bin(kn, "muli", &oy, &owv);
            let p = v.bin(kn, "addi", &p, &ox);
            (p, valid)
        })
        .collect()
}

/// Every row tile of `[t0, t1)` against this strip (full tiles, then the `M % MR`-row one).
fn row_tiles(kn: &mut Kernel, d: &DirectConv, t: &Tiles, g: &Geo, s: &Strip, (t0, t1): (&str, &str), masked: bool) {
    // The last, partial strip computes only the vectors that hold columns.
    let nv = if masked { (g.np % t.nr).div_ceil(t.w) } else { t.nv };
    let cols = columns(kn, t, g, s.j0, nv);
    for_row_tiles(kn, t, d.m, (t0, t1), &mut |kn, i0, rows| micro_tile(kn, d, t, g, s, &cols, i0, rows, masked));
}

/// The `mr x NR` accumulator tile at rows `i0..`: start from the bias (or zero), run channel by
/// channel over the taps (unrolled), scatter to the output pixels.
#[allow(clippy::too_many_arguments)]
fn micro_tile(
    kn: &mut Kernel,
    d: &DirectConv,
    t: &Tiles,
    g: &Geo,
    s: &Strip,
    cols: &[(String, String)],
    i0: &str,
    mr: usize,
    masked: bool,
) {
    let nv = cols.len();
    let [dh, dw] = d.dilations;
    let per = g.c / d.taps.groups;
    let (chan_stride, block_stride) = d.taps.strides(g.c);
    let plane = g.h * g.w;
    let rows: Vec<String> = (0..mr).map(|r| kn.b.affine(i0, 1, r as i64)).collect();
    let zv = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
    let mut inits = Vec::new();
    for row in &rows {
        let init = match &d.bias {
            Some(b) => {
                let x = kn.b.load(b, std::slice::from_ref(row));
                kn.b.op(format!("vector.broadcast {x} : f32 to {}", t.vty))
            }
            None => zv.clone(),
        };
        inits.extend((0..nv).map(|_| (init.clone(), t.vty.clone())));
    }
    prefetch_output(kn, t, g, s, &rows);
    let zero = kn.b.idx(0);
    let channels = kn.b.idx(per as i64);
    let l = kn.b.for_iter(&zero, &channels, &inits);
    // Channel `c` of block 0 starts at x_img + c*chan_stride*H*W (+ the strip); tap (block, ky,
    // kx) at block*block_stride*H*W + ky*dh*W + kx*dw from there.
    let xo = kn.b.affine(&l.iv, (chan_stride * plane) as i64, 0);
    let xo = kn.b.iadd(&xo, s.x_img);
    let xo = kn.b.iadd(&xo, s.j0);
    let row_off = |tap: &[usize; 3]| tap[0] * block_stride * plane + tap[1] * dh * g.w;
    // Prefetch each tap row PREFETCH_CHANNELS channels ahead (reads nothing past the input).
    let mut row_offs: Vec<usize> = d.taps.taps.iter().map(row_off).collect();
    row_offs.dedup();
    for ro in row_offs {
        for v in 0..nv {
            let o = kn.b.affine(&xo, 1, (ro + PREFETCH_CHANNELS * chan_stride * plane + v * t.w) as i64);
            kn.b.line(format!("memref.prefetch {}[{o}], read, locality<3>, data : {}", s.x.name, s.x.memref_ty()));
        }
    }
    let nt = d.taps.taps.len();
    // Packed A: tile `i0 / MR` starts at `i0 * K`; depth step `c * taps + t` at `(c*taps + t) * MR`.
    let a_row0 = if d.a_packed {
        let tile0 = kn.b.affine(i0, g.k as i64, 0);
        let step = kn.b.affine(&l.iv, (nt * t.mr) as i64, 0);
        Some(kn.b.iadd(&tile0, &step))
    } else {
        None
    };
    let kk0 = kn.b.affine(&l.iv, nt as i64, 0);
    let mut accs: Vec<String> = l.accs.clone();
    for (ti, tap) in d.taps.taps.iter().enumerate() {
        let tap_off = row_off(tap) + tap[2] * dw;
        let bv: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(v, (_, valid))| {
                let o = kn.b.affine(&xo, 1, (tap_off + v * t.w) as i64);
                // A full strip reads inside the input for every lane (columns stop at N'); only
                // the last one masks its columns past N'.
                vload(kn, t, s.x, &[o], masked.then_some(valid))
            })
            .collect();
        let mut next = Vec::with_capacity(accs.len());
        for (r, row) in rows.iter().enumerate() {
            let a = match &a_row0 {
                Some(base) => {
                    let off = kn.b.affine(base, 1, (ti * t.mr + r) as i64);
                    kn.b.load(&d.a, &[off])
                }
                None => {
                    let kk = kn.b.affine(&kk0, 1, ti as i64);
                    kn.b.load(&d.a, &[row.clone(), kk])
                }
            };
            let ab = kn.b.op(format!("vector.broadcast {a} : f32 to {}", t.vty));
            for (v, b) in bv.iter().enumerate() {
                let acc = &accs[nv * r + v];
                next.push(kn.b.op(format!("vector.fma {ab}, {b}, {acc} : {}", t.vty)));
            }
        }
        accs = next;
    }
    let res = kn.b.end_for_iter(l, &accs);
    let plane = kn.b.idx((g.oh * g.ow) as i64);
    let bases: Vec<String> = rows
        .iter()
        .map(|row| {
            let base = kn.b.imul(row, &plane);
            kn.b.iadd(&base, s.o_img)
        })
        .collect();
    for (vi, (p, valid)) in cols.iter().enumerate() {
        let res: Vec<&String> = (0..rows.len()).map(|r| &res[nv * r + vi]).collect();
        let q0 = kn.b.affine(s.j0, 1, (vi * t.w) as i64);
        if g.w == g.ow {
            // No dropped columns (a kernel one wide): column q is pixel q, a plain store.
            for (v, base) in res.iter().zip(&bases) {
                let at = kn.b.iadd(base, &q0);
                vstore(kn, t, v, s.o, &[at], masked.then_some(valid));
            }
            continue;
        }
        if g.w < t.w {
            scatter(kn, t, s.o, &res, &bases, p, valid);
            continue;
        }
        // A vector inside one input row holds a prefix of valid columns, contiguous pixels from
        // that of its first column: a masked plain store. Only one spanning a row end scatters.
        let wv = kn.b.idx(g.w as i64);
        let ox0 = kn.b.op(format!("arith.remui {q0}, {wv} : index"));
        let last = kn.b.idx((g.w - t.w) as i64);
        let in_row = kn.b.icmp("ule", &ox0, &last);
        kn.b.if_(&in_row);
        let oy0 = kn.b.op(format!("arith.divui {q0}, {wv} : index"));
        let p0 = kn.b.affine(&oy0, g.ow as i64, 0);
        let p0 = kn.b.iadd(&p0, &ox0);
        for (v, base) in res.iter().zip(&bases) {
            let at = kn.b.iadd(base, &p0);
            vstore(kn, t, v, s.o, &[at], Some(valid));
        }
        kn.b.else_();
        scatter(kn, t, s.o, &res, &bases, p, valid);
        kn.b.end_if();
    }
}

/// Prefetch for writing the output lines this tile stores at its end: the pixels from the
/// strip's first column on, one line per 16 pixels, on every row. In a whole model the output
/// slot was last written long ago (its lines are in no cache); fetched now they arrive while the
/// tile computes instead of stalling its stores.
fn prefetch_output(kn: &mut Kernel, t: &Tiles, g: &Geo, s: &Strip, rows: &[String]) {
    let wv = kn.b.idx(g.w as i64);
    let oy = kn.b.op(format!("arith.divui {}, {wv} : index", s.j0));
    let ox = kn.b.op(format!("arith.remui {}, {wv} : index", s.j0));
    let owv = kn.b.idx(g.ow as i64);
    let ox = kn.b.imin(&ox, &owv);
    let p0 = kn.b.affine(&oy, g.ow as i64, 0);
    let p0 = kn.b.iadd(&p0, &ox);
    let plane = g.oh * g.ow;
    let last = kn.b.idx(plane as i64 - 1);
    let lines = t.nr.div_ceil(LINE_F32) + 1;
    let offs: Vec<String> = (0..lines)
        .map(|i| {
            let p = kn.b.affine(&p0, 1, (i * LINE_F32) as i64);
            kn.b.imin(&p, &last)
        })
        .collect();
    for row in rows {
        let base = kn.b.affine(row, plane as i64, 0);
        let base = kn.b.iadd(&base, s.o_img);
        for o in &offs {
            let at = kn.b.iadd(&base, o);
            kn.b.line(format!("memref.prefetch {}[{at}], write, locality<3>, data : {}", s.o.name, s.o.memref_ty()));
        }
    }
}

/// `vector.scatter` of each row's vector `vs[r]` to pixels `p` (under `valid`) from `bases[r]`.
fn scatter(kn: &mut Kernel, t: &Tiles, o: &Mem, vs: &[&String], bases: &[String], p: &str, valid: &str) {
    let v = IdxVec::new(t.w, "i32");
    for (val, base) in vs.iter().zip(bases) {
        kn.b.line(format!(
            "vector.scatter {}[{base}][{p}], {valid}, {val} : {}, {}, {}, {}",
            o.name,
            o.memref_ty(),
            v.ity,
            t.mty,
            t.vty
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::ConvTaps;

    #[test]
    fn taps_are_dense_without_zero_weights() {
        let w: Vec<f32> = (0..2 * 8 * 9).map(|i| 1.0 + i as f32).collect();
        assert_eq!(ConvTaps::of_weights(&w, [2, 8, 3, 3]), ConvTaps::dense(3, 3));
    }

    /// A 3x3/2 kernel on its four phases (2x2 phase kernel, zero past the original taps): 4, 2,
    /// 2 and 1 live taps per phase block, 9 in all, and the gathered columns are the original
    /// weights in (channel, tap) order.
    #[test]
    fn phase_blocks_keep_only_live_taps() {
        let (m, c) = (3, 2);
        let orig: Vec<f32> = (0..m * c * 9).map(|i| 1.0 + i as f32).collect();
        let mut w = vec![0.0f32; m * 4 * c * 4];
        for o in 0..m {
            for ci in 0..c {
                for ky in 0..3 {
                    for kx in 0..3 {
                        let ch = ((ky % 2) * 2 + kx % 2) * c + ci;
                        w[((o * 4 * c + ch) * 2 + ky / 2) * 2 + kx / 2] = orig[((o * c + ci) * 3 + ky) * 3 + kx];
                    }
                }
            }
        }
        let t = ConvTaps::of_weights(&w, [m, 4 * c, 2, 2]);
        assert_eq!((t.groups, t.interleaved), (4, false));
        let want: Vec<[usize; 3]> =
            vec![[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 1, 0], [2, 0, 0], [2, 0, 1], [3, 0, 0]];
        assert_eq!(t.taps, want);
        assert_eq!(t.depth(4 * c), c * 9);
        let cols = t.gather(&w, [m, 4 * c, 2, 2]);
        // Every original weight appears once per output channel.
        for o in 0..m {
            let mut got: Vec<f32> = cols[o * c * 9..(o + 1) * c * 9].to_vec();
            let mut exp: Vec<f32> = orig[o * c * 9..(o + 1) * c * 9].to_vec();
            got.sort_by(f32::total_cmp);
            exp.sort_by(f32::total_cmp);
            assert_eq!(got, exp);
        }
        // The same kernel with each channel's phases side by side (Im2Col's rows): found as
        // interleaved blocks with the same taps.
        let mut wi = vec![0.0f32; w.len()];
        for o in 0..m {
            for ch in 0..4 * c {
                let (g, ci) = (ch / c, ch % c);
                for t in 0..4 {
                    wi[(o * 4 * c + ci * 4 + g) * 4 + t] = w[(o * 4 * c + ch) * 4 + t];
                }
            }
        }
        let ti = ConvTaps::of_weights(&wi, [m, 4 * c, 2, 2]);
        assert_eq!((ti.groups, ti.interleaved, &ti.taps), (4, true, &t.taps));
        assert_eq!(ti.gather(&wi, [m, 4 * c, 2, 2]), cols);
    }
}
