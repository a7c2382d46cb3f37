//! Where the tiled product's right operand comes from, and how one block of it is packed into
//! the `[strip][k][NR]` panel the micro-tile reads ([`super::gemm_tiled`]):
//! - a row-major matrix `[K, N]`: two vector copies per depth step;
//! - its transpose `[N, K]`: one scalar per element, reading along K;
//! - the im2col matrix of an NCHW convolution input, `B[(c, ky, kx), (oy, ox)] =
//!   x[c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw]` (zero in the padding), gathered straight into
//!   the panel so the im2col matrix is never written to memory.

use super::gemm_tiled::{at, by_fullness, prefix, strip_base, strip_cols, vload, vstore, Block, Product, Tiles};
use crate::emit::{Kernel, Mem};
use kiln_ir::DType;

/// The right operand of a tiled product.
pub enum BSource {
    /// `[K, N]` (`[N, K]` when `trans`), possibly with a leading batch dim.
    Matrix { mem: Mem, trans: bool },
    /// The im2col view of a convolution input.
    Im2Col(Im2Col),
    /// A constant B packed at compile time by [`pack_constant`] (1-D).
    Packed { mem: Mem },
}

/// f32 elements of a constant `[K, N]` B packed by [`pack_constant`] for `lanes`-wide vectors.
pub fn packed_len(lanes: usize, k: usize, n: usize) -> usize {
    let t = Tiles::new(lanes, k);
    k.div_ceil(t.kc) * n.div_ceil(t.nr) * t.kc * t.nr
}

/// Pack a constant B (`[K, N]` row-major, or `[N, K]` when `trans`) into the panel layout the
/// micro-tile reads, for the whole matrix at once: per depth block of `KC`, per strip of `NR`
/// columns, per depth step `NR` values (zero past N and past the last block's depth). An
/// ahead-of-time compiler's advantage: the weights are laid out once, at compile time, and a
/// run reads them in place instead of packing them again in every workgroup.
pub fn pack_constant(lanes: usize, b: &[f32], k: usize, n: usize, trans: bool) -> Vec<f32> {
    let t = Tiles::new(lanes, k);
    let ns = n.div_ceil(t.nr);
    let mut out = vec![0.0f32; packed_len(lanes, k, n)];
    for (blk, pc) in (0..k).step_by(t.kc).enumerate() {
        let kc = t.kc.min(k - pc);
        for s in 0..ns {
            let base = blk * ns * t.kc * t.nr + s * t.kc * t.nr;
            for kk in 0..kc {
                for l in 0..t.nr {
                    let j = s * t.nr + l;
                    if j < n {
                        let kidx = pc + kk;
                        out[base + kk * t.nr + l] = if trans { b[j * k + kidx] } else { b[kidx * n + j] };
                    }
                }
            }
        }
    }
    out
}

/// An NCHW convolution input `x: [images, groups*cg, H, W]` seen as the `[cg*kh*kw, OH*OW]`
/// matrix of one (image, group) per batch index `image * groups + group`.
pub struct Im2Col {
    pub x: Mem,
    pub groups: usize,
    pub cg: usize,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top and left padding.
    pub pads: [usize; 2],
    pub dilations: [usize; 2],
    pub out_w: usize,
}

/// Pack B's strips `[jc, jce)` x depth `[pc, pc+kc)` of batch `blk.bi` into `bp`, zero past N.
pub(super) fn pack(kn: &mut Kernel, p: &Product, t: &Tiles, bp: &Mem, blk: &Block, jce: &str) {
    let s = kn.b.for_(&blk.jc, jce);
    let base = strip_base(kn, t, &s, blk);
    let j0 = kn.b.affine(&s, t.nr as i64, 0);
    match &p.b {
        BSource::Matrix { mem, trans } => {
            let pre = prefix(kn, mem, 2, p.batch, &blk.bi);
            let src = Src { mem, pre: &pre, base: &base, j0: &j0 };
            if *trans {
                pack_transposed(kn, p, t, bp, blk, &src);
            } else {
                by_fullness(kn, t, p.n, &j0, &mut |kn, masked| pack_rows(kn, p, t, bp, blk, &src, masked));
            }
        }
        BSource::Im2Col(ic) => pack_im2col(kn, p, ic, t, bp, blk, &base, &j0),
        BSource::Packed { .. } => unreachable!("a B packed at compile time is not packed again"),
    }
    kn.b.end_for();
}

/// A matrix source for one strip: the matrix, its batch prefix, the strip's panel offset and
/// first column.
struct Src<'a> {
    mem: &'a Mem,
    pre: &'a Option<String>,
    base: &'a str,
    j0: &'a str,
}

/// Packing from row-major B `[K, N]`: two vector copies per depth step.
fn pack_rows(kn: &mut Kernel, p: &Product, t: &Tiles, bp: &Mem, blk: &Block, src: &Src, masked: bool) {
    let cols = strip_cols(kn, t, p.n, src.j0, masked);
    let zero = kn.b.idx(0);
    let kk = kn.b.for_(&zero, &blk.kc);
    let row = kn.b.iadd(&blk.pc, &kk);
    let off = kn.b.affine(&kk, t.nr as i64, 0);
    let off = kn.b.iadd(src.base, &off);
    for (v, (col, mask)) in cols.iter().enumerate() {
        let x = vload(kn, t, src.mem, &at(src.pre, &[row.clone(), col.clone()]), mask.as_ref());
        let o = kn.b.affine(&off, 1, (v * t.w) as i64);
        vstore(kn, t, &x, bp, &[o], None);
    }
    kn.b.end_for();
}

/// Packing from B^T `[N, K]`: one scalar per element, reading along K.
fn pack_transposed(kn: &mut Kernel, p: &Product, t: &Tiles, bp: &Mem, blk: &Block, src: &Src) {
    let zero = kn.b.idx(0);
    let nr = kn.b.idx(t.nr as i64);
    let l = kn.b.for_(&zero, &nr);
    let j = kn.b.iadd(src.j0, &l);
    let nn = kn.b.idx(p.n as i64);
    let valid = kn.b.icmp("slt", &j, &nn);
    let jl = kn.b.iclamp(&j, 0, p.n as i64 - 1);
    let z = kn.b.cst(DType::F32, 0.0);
    let kk = kn.b.for_(&zero, &blk.kc);
    let kidx = kn.b.iadd(&blk.pc, &kk);
    let x = kn.b.load(src.mem, &at(src.pre, &[jl, kidx]));
    let x = kn.b.select(&valid, &x, &z, DType::F32);
    let off = kn.b.affine(&kk, t.nr as i64, 0);
    let off = kn.b.iadd(src.base, &off);
    let off = kn.b.iadd(&off, &l);
    kn.b.store(&x, bp, &[off]);
    kn.b.end_for();
    kn.b.end_for();
}

/// Packing from the im2col view, `W` columns at a time: per strip each column's output pixel
/// `(oy, ox)` as vectors (its window origin, its offset in the image, whether it is inside N),
/// then per depth step its (channel, tap): one masked `vector.gather` per `W` columns from the
/// flattened input, the mask being the window's bounds test (zero in the padding and past N).
#[allow(clippy::too_many_arguments)]
fn pack_im2col(kn: &mut Kernel, p: &Product, ic: &Im2Col, t: &Tiles, bp: &Mem, blk: &Block, base: &str, j0: &str) {
    let (h, w) = (ic.x.shape[2], ic.x.shape[3]);
    let [kh, kw] = ic.kernel;
    let taps = kh * kw;
    let len: usize = ic.x.shape.iter().product();
    // 32-bit element offsets when the input allows (the common case: one vgatherdps per vector).
    let it = if len < i32::MAX as usize { "i32" } else { "i64" };
    let v = IdxVec::new(t.w, it);
    let flat = kn.flat(&ic.x);
    let (image, cbase) = if ic.groups == 1 {
        (blk.bi.clone(), kn.b.idx(0))
    } else {
        let g = kn.b.idx(ic.groups as i64);
        let image = kn.b.op(format!("arith.divui {}, {g} : index", blk.bi));
        let group = kn.b.op(format!("arith.remui {}, {g} : index", blk.bi));
        (image, kn.b.affine(&group, ic.cg as i64, 0))
    };
    let plane0 = kn.b.affine(&image, ic.x.shape[1] as i64, 0);
    let plane0 = kn.b.iadd(&plane0, &cbase);
    // Per W columns: window origin (y0, x0), its offset y0*W + x0, and whether inside N.
    let iota = v.lanes(kn, 1);
    let (n_v, ow_v) = (v.splat_const(kn, p.n as i64), v.splat_const(kn, ic.out_w as i64));
    let (sh, sw) = (v.splat_const(kn, ic.strides[0] as i64), v.splat_const(kn, ic.strides[1] as i64));
    let (pt, pl) = (v.splat_const(kn, ic.pads[0] as i64), v.splat_const(kn, ic.pads[1] as i64));
    let wv = v.splat_const(kn, w as i64);
    let cols: Vec<[String; 4]> = (0..t.nv)
        .map(|c| {
            let j = kn.b.affine(j0, 1, (c * t.w) as i64);
            let jv = v.splat(kn, &j);
            let pix = v.bin(kn, "addi", &jv, &iota);
            let valid = v.cmp(kn, "slt", &pix, &n_v);
            let oy = v.bin(kn, "divui", &pix, &ow_v);
            let ox = v.bin(kn, "remui", &pix, &ow_v);
            let y0 = v.bin(kn, "muli", &oy, &sh);
            let y0 = v.bin(kn, "subi", &y0, &pt);
            let x0 = v.bin(kn, "muli", &ox, &sw);
            let x0 = v.bin(kn, "subi", &x0, &pl);
            let off = v.bin(kn, "muli", &y0, &wv);
            let off = v.bin(kn, "addi", &off, &x0);
            [y0, x0, off, valid]
        })
        .collect();
    let zero = kn.b.idx(0);
    let zf = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
    let kk = kn.b.for_(&zero, &blk.kc);
    let kidx = kn.b.iadd(&blk.pc, &kk);
    let (tv, kwv) = (kn.b.idx(taps as i64), kn.b.idx(kw as i64));
    let c = kn.b.op(format!("arith.divui {kidx}, {tv} : index"));
    let tap = kn.b.op(format!("arith.remui {kidx}, {tv} : index"));
    let ky = kn.b.op(format!("arith.divui {tap}, {kwv} : index"));
    let kx = kn.b.op(format!("arith.remui {tap}, {kwv} : index"));
    let dy = kn.b.affine(&ky, ic.dilations[0] as i64, 0);
    let dx = kn.b.affine(&kx, ic.dilations[1] as i64, 0);
    let plane = kn.b.iadd(&plane0, &c);
    let plane = kn.b.affine(&plane, (h * w) as i64, 0);
    // Inside the image: -dy <= y0 < H - dy and -dx <= x0 < W - dx.
    let bounds: Vec<String> = [(&dy, h), (&dx, w)]
        .into_iter()
        .flat_map(|(d, extent)| [kn.b.affine(d, -1, 0), kn.b.affine(d, -1, extent as i64)])
        .collect();
    let [ylo, yhi, xlo, xhi] = [0, 1, 2, 3].map(|i| v.splat(kn, &bounds[i]));
    let d = kn.b.affine(&dy, w as i64, 0);
    let d = kn.b.iadd(&d, &dx);
    let d = v.splat(kn, &d);
    let off = kn.b.affine(&kk, t.nr as i64, 0);
    let off = kn.b.iadd(base, &off);
    for (ci, [y0, x0, o0, valid]) in cols.iter().enumerate() {
        let m1 = v.cmp(kn, "sge", y0, &ylo);
        let m2 = v.cmp(kn, "slt", y0, &yhi);
        let m3 = v.cmp(kn, "sge", x0, &xlo);
        let m4 = v.cmp(kn, "slt", x0, &xhi);
        let mask = [m2, m3, m4].iter().fold(kn.b.op(format!("arith.andi {m1}, {valid} : {}", t.mty)), |a, m| {
            kn.b.op(format!("arith.andi {a}, {m} : {}", t.mty))
        });
        let idx = v.bin(kn, "addi", o0, &d);
        let g = kn.b.op(format!(
            "vector.gather {}[{plane}][{idx}], {mask}, {zf} : {}, {}, {}, {} into {}",
            flat.name,
            flat.memref_ty(),
            v.ity,
            t.mty,
            t.vty,
            t.vty
        ));
        let o = kn.b.affine(&off, 1, (ci * t.w) as i64);
        vstore(kn, t, &g, bp, &[o], None);
    }
    kn.b.end_for();
}

/// Integer vectors of a gather's (or scatter's) offset type.
pub(super) struct IdxVec {
    pub ity: String,
    it: &'static str,
    w: usize,
}

impl IdxVec {
    /// `w` lanes of `it` (`i32` or `i64`).
    pub fn new(w: usize, it: &'static str) -> IdxVec {
        IdxVec { ity: format!("vector<{w}x{it}>"), it, w }
    }

    /// The constant `[0, step, 2*step, ..]`: lane `i` holds `i * step`.
    pub fn lanes(&self, kn: &mut Kernel, step: usize) -> String {
        let v: Vec<String> = (0..self.w).map(|i| (i * step).to_string()).collect();
        kn.b.typed_const(&format!("dense<[{}]>", v.join(", ")), &self.ity)
    }

    pub fn splat_const(&self, kn: &mut Kernel, x: i64) -> String {
        kn.b.typed_const(&format!("dense<{x}>"), &self.ity)
    }

    /// An `index` value cast to the element type and broadcast.
    pub fn splat(&self, kn: &mut Kernel, x: &str) -> String {
        let s = kn.b.op(format!("arith.index_cast {x} : index to {}", self.it));
        kn.b.op(format!("vector.broadcast {s} : {} to {}", self.it, self.ity))
    }

    pub fn bin(&self, kn: &mut Kernel, op: &str, a: &str, b: &str) -> String {
        kn.b.op(format!("arith.{op} {a}, {b} : {}", self.ity))
    }

    pub fn cmp(&self, kn: &mut Kernel, pred: &str, a: &str, b: &str) -> String {
        kn.b.op(format!("arith.cmpi {pred}, {a}, {b} : {}", self.ity))
    }
}

/// f32 elements of a constant `[M, K]` A packed by [`pack_constant_a`].
pub fn packed_a_len(lanes: usize, m: usize, k: usize) -> usize {
    let t = Tiles::new(lanes, k);
    m.div_ceil(t.mr) * k * t.mr
}

/// Pack a constant A (`[M, K]` row-major, or `[K, M]` when `trans`) as row-tile micro-panels:
/// per depth block of `KC`, per `MR`-row tile, per depth step, the tile's `MR` values (zero
/// past M). The micro-tile's broadcasts then read one contiguous stream instead of `MR` rows a
/// leading dimension apart (which alias in the L1 cache when that is a multiple of 4 KiB, as
/// convolution weights often are), and the row tiles of one depth block follow each other, so
/// a workgroup walks its share of A front to back (the hardware prefetcher's best case).
///
/// With `whole_depth` the depth is one block (`KC = K`), as the direct convolution reads it.
pub fn pack_constant_a(lanes: usize, a: &[f32], m: usize, k: usize, trans: bool, whole_depth: bool) -> Vec<f32> {
    let mut t = Tiles::new(lanes, k);
    if whole_depth {
        t.kc = k.max(1);
    }
    let m_pad = m.div_ceil(t.mr) * t.mr;
    let mut out = vec![0.0f32; packed_a_len(lanes, m, k)];
    for (blk, pc) in (0..k).step_by(t.kc).enumerate() {
        let kc = t.kc.min(k - pc);
        for i in 0..m {
            let base = blk * t.kc * m_pad + (i / t.mr) * kc * t.mr + i % t.mr;
            for kk in 0..kc {
                let kidx = pc + kk;
                out[base + kk * t.mr] = if trans { a[kidx * m + i] } else { a[i * k + kidx] };
            }
        }
    }
    out
}
