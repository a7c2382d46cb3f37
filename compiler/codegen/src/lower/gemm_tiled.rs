//! Register-tiled f32 matrix product shared by MatMul, Gemm and Conv:
//! `O[b][M,N] = op(A[b]) @ B[b] (+ bias)` over 2-D views, optionally batched, written with the
//! MLIR `vector` dialect. Where B comes from (a matrix, its transpose, or the never-materialized
//! im2col matrix of a convolution) is [`super::gemm_pack`]'s business.
//!
//! Blocking (BLIS-like, sized for the target's vector width `W`):
//! - the workgroup grid partitions the batch when it is large, else the `N / NR` column strips
//!   (or the `M / MR` row tiles when there are few strips, or when B is packed at compile time
//!   and no larger than A), so each workgroup owns whole matrices or a rectangle of each;
//! - per block of `NC` columns and `KC` depth, the workgroup packs its slice of B into a
//!   zero-padded `[strip][k][NR]` panel (contiguous vector loads, no cache-set conflicts);
//! - an `MR x NR` accumulator tile (MR rows x NV vectors: 6x16 on AVX2, 6x64 on AVX-512) runs over the `KC` block with
//!   `vector.broadcast` of A elements, `vector.load` of the packed B row and `vector.fma`, then is
//!   stored once. Tiles start from the bias (or zero) on the first K block and from the output on
//!   later ones. The last row tile has `M % MR` rows (static); the last strip masks its columns
//!   past N.

use super::gemm_pack::{self, BSource};
use crate::emit::{Kernel, Mem};
use kiln_ir::DType;

/// The product to compute: `o[M,N] = op(a) @ b (+ bias)`, per batch index when `batch > 1`.
///
/// `a` is `[M,K]` (`[K,M]` with `trans_a`), `o` is `[M,N]`; either may carry a leading batch
/// dim (`o`'s is `batch`, `a`'s is `batch`, 1, or a divisor of `batch` read modulo).
pub struct Product {
    pub a: Mem,
    pub b: BSource,
    pub o: Mem,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub trans_a: bool,
    /// `a` is a constant packed at compile time by `gemm_pack::pack_constant_a` (1-D).
    pub a_packed: bool,
    /// Elements between consecutive batches' panels of a packed `a` (one packed matrix per
    /// batch); 0 when every batch reads the same matrix.
    pub a_batch_stride: usize,
    pub batch: usize,
    pub bias: Option<Bias>,
}

impl Product {
    /// An unbatched product of two matrices, no bias.
    #[allow(clippy::too_many_arguments)]
    pub fn matrices(a: Mem, b: Mem, o: Mem, m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> Self {
        let b = BSource::Matrix { mem: b, trans: trans_b };
        Product { a, b, o, m, n, k, trans_a, a_packed: false, a_batch_stride: 0, batch: 1, bias: None }
    }
}

/// A bias added to every output element: `mem[i]` along rows or `mem[j]` along columns
/// (`mem` may carry a leading batch dim like `a`).
pub struct Bias {
    pub mem: Mem,
    pub per_row: bool,
}

/// The output rectangle one workgroup wrote: batches `[b0, b1)` (both 0 and 1 when unbatched),
/// rows `[r0, r1)`, columns `[c0, c1)`; or, with `units`, the rows and columns of those units.
pub struct Region {
    pub b0: String,
    pub b1: String,
    pub r0: String,
    pub r1: String,
    pub c0: String,
    pub c1: String,
    pub units: Option<Units>,
}

/// A share that is no rectangle: units `[u0, u1)` of a strip-major grid with `tiles` units per
/// strip; unit `u` is rows `[s*rows, min((s+1)*rows, r_end))` x columns
/// `[t*cols, min((t+1)*cols, c_end))` with `s = u / tiles`, `t = u % tiles`.
pub struct Units {
    pub u0: String,
    pub u1: String,
    pub tiles: usize,
    pub rows: usize,
    pub cols: usize,
    pub r_end: usize,
    pub c_end: usize,
}

impl Units {
    /// The strips the units touch: `[u0 / tiles, ceil(u1 / tiles))`.
    pub fn strips(&self, kn: &mut Kernel) -> (String, String) {
        let tiles = kn.b.idx(self.tiles as i64);
        let s0 = kn.b.op(format!("arith.divui {}, {tiles} : index", self.u0));
        let u1p = kn.b.affine(&self.u1, 1, self.tiles as i64 - 1);
        let s1 = kn.b.op(format!("arith.divui {u1p}, {tiles} : index"));
        (s0, s1)
    }

    /// The tiles of strip `s` among the units: `[max(u0, s*tiles), min(u1, (s+1)*tiles)) - s*tiles`.
    pub fn tiles_of(&self, kn: &mut Kernel, s: &str) -> (String, String) {
        let base = kn.b.affine(s, self.tiles as i64, 0);
        let lo = kn.b.op(format!("arith.maxsi {}, {base} : index", self.u0));
        let end = kn.b.affine(&base, 1, self.tiles as i64);
        let hi = kn.b.imin(&self.u1, &end);
        (kn.b.isub(&lo, &base), kn.b.isub(&hi, &base))
    }
}

/// A tiled product's output as the kernel viewed it, and the rectangle this workgroup wrote.
pub struct Tiled {
    pub o: Mem,
    pub region: Region,
}

/// Depth of one packed block of B.
const KC: usize = 256;
/// Columns of one packed block of B (rounded to whole strips).
const NC: usize = 256;
/// Depth steps ahead that the micro-tile prefetches packed B.
const PREFETCH_STEPS: usize = 8;
/// Depth steps ahead that the micro-tile prefetches packed constant A (~2 KiB).
const PREFETCH_A_STEPS: usize = 96;
/// Partition column strips when there are at least this many, else row tiles.
const MIN_STRIPS_TO_SPLIT: usize = 8;
/// Partition the batch when it has at least this many matrices.
const MIN_BATCH_TO_SPLIT: usize = 4;

/// Whether the tiled kernel handles this product (otherwise the scalar loop nest does).
pub fn applies(dt: DType, m: usize, n: usize, k: usize) -> bool {
    dt == DType::F32 && m >= 1 && n >= 2 && k >= 1
}

/// Tile sizes for one product.
pub(super) struct Tiles {
    pub w: usize,
    /// Vectors per strip row (NR = NV * W).
    pub nv: usize,
    pub nr: usize,
    pub mr: usize,
    pub kc: usize,
    /// Strips per packed block.
    pub ncs: usize,
    pub vty: String,
    pub mty: String,
}

impl Tiles {
    pub(super) fn new(lanes: usize, k: usize) -> Tiles {
        let w = lanes;
        // MR x NV accumulators + NV B vectors + 1 broadcast fit the register file: 6x2 of the 16
        // AVX2 registers, 6x4 of the 32 AVX-512 ones. Measured single-thread against
        // onnxruntime, interleaved run by run, on ResNet's conv layers and 128x768x768 / 512^3:
        // 6x4 was 1.11x its time (geomean), 8x3 1.15x, 12x2 1.17x; 6 rows also waste less of
        // M = 64..2048 than 12 do, and 4 vectors cover a 7x7 image's 49 pixels in one strip.
        let (mr, nv) = if w >= 16 { (6, 4) } else { (6, 2) };
        let nr = nv * w;
        Tiles {
            w,
            nv,
            nr,
            mr,
            kc: k.min(KC),
            ncs: (NC / nr).max(1),
            vty: format!("vector<{w}xf32>"),
            mty: format!("vector<{w}xi1>"),
        }
    }
}

/// Per-block loop values: block start strip, depth start and length, the batch index, and
/// where strip `s` of this block starts in the panel: `panel0 + (s - origin) * KC * NR`.
pub(super) struct Block {
    pub jc: String,
    pub pc: String,
    pub kc: String,
    pub bi: String,
    pub panel0: String,
    pub origin: String,
    /// B read in place: its row length N (depth step `l` at `panel0 + l * N`, strip `s` at
    /// column `s * NR`); `None` for a packed panel.
    pub row_stride: Option<usize>,
}

/// Batch index prefixes of the operands for one batch index (None: the operand has no batch dim).
struct Prefixes {
    a: Option<String>,
    o: Option<String>,
    bias: Option<String>,
}

/// The batch index to address `m` at, when `m` has a batch dim beyond its `base_rank`.
pub(super) fn prefix(kn: &mut Kernel, m: &Mem, base_rank: usize, batch: usize, bi: &str) -> Option<String> {
    if m.rank() == base_rank {
        return None;
    }
    let e = m.shape[0];
    Some(if e == 1 {
        kn.b.idx(0)
    } else if e == batch {
        bi.to_string()
    } else {
        let ev = kn.b.idx(e as i64);
        kn.b.op(format!("arith.remui {bi}, {ev} : index"))
    })
}

/// `idx` behind an optional batch prefix.
pub(super) fn at(pre: &Option<String>, idx: &[String]) -> Vec<String> {
    pre.iter().cloned().chain(idx.iter().cloned()).collect()
}

/// Emit the product for this workgroup's share; returns the rectangle it wrote.
pub fn emit(kn: &mut Kernel, p: &Product) -> Region {
    let t = Tiles::new(kn.f32_lanes, p.k);
    let in_place = matches!(p.b, BSource::Matrix { trans: false, .. }) && reads_b_in_place(p);
    let (mt, ns) = (p.m.div_ceil(t.mr), p.n.div_ceil(t.nr));
    let (zero, one) = (kn.b.idx(0), kn.b.idx(1));
    let (all_t, all_s) = (kn.b.idx(mt as i64), kn.b.idx(ns as i64));
    let ([b0, b1], [t0, t1], [s0, s1]) = if p.batch >= MIN_BATCH_TO_SPLIT {
        let (b0, b1) = kn.partition(p.batch);
        ([b0, b1], [zero.clone(), all_t], [zero.clone(), all_s])
    } else {
        let all_b = kn.b.idx(p.batch as i64);
        // With B packed at compile time (or read in place) a split by rows repeats no packing;
        // each workgroup then reads all of B instead of all of A, the cheaper one when B is no
        // larger (M >= N).
        let prepacked = in_place || matches!(p.b, BSource::Packed { .. });
        let rows_cheaper = prepacked && p.m >= p.n && mt >= MIN_STRIPS_TO_SPLIT;
        if (ns >= MIN_STRIPS_TO_SPLIT || mt == 1) && !rows_cheaper {
            let (s0, s1) = kn.partition(ns);
            ([zero.clone(), all_b], [zero.clone(), all_t], [s0, s1])
        } else {
            // Split by row tiles. Unless B was packed at compile time every workgroup packs all
            // of B: more workgroups than threads would repeat that (measured: ResNet-50's 7x7 and
            // 14x14 layers gain, while the column-split ones lose to the imbalance of one
            // workgroup per thread).
            kn.one_workgroup_per_thread = !prepacked;
            let (t0, t1) = kn.partition(mt);
            ([zero.clone(), all_b], [t0, t1], [zero.clone(), all_s])
        }
    };
    let mut region = region(kn, p, &t, [&t0, &t1, &s0, &s1]);
    (region.b0, region.b1) = (b0.clone(), b1.clone());
    let single_k = p.k <= t.kc;
    // B packed at compile time is read in place, and so is a plain B whose rows do not alias in
    // the cache ([`reads_b_in_place`]); otherwise each workgroup packs into scratch.
    let prepacked = match &p.b {
        BSource::Packed { mem } => Some(mem.clone()),
        BSource::Matrix { mem, .. } if in_place => Some(kn.flat(mem)),
        _ => None,
    };
    let bp = match &prepacked {
        Some(mem) => mem.clone(),
        None => {
            let size = t.ncs * t.kc * t.nr;
            let bp = Mem { name: kn.b.fresh(), dtype: DType::F32, shape: vec![size] };
            kn.scratch_bytes += (size * 4) as u64;
            // On the stack: no allocation per call (the runtime's workers get stacks sized for it).
            kn.b.line(format!("{} = memref.alloca() {{alignment = 64 : i64}} : {}", bp.name, bp.memref_ty()));
            bp
        }
    };

    let bi = if p.batch == 1 { zero.clone() } else { kn.b.for_step(&b0, &b1, &one) };
    let pre = Prefixes {
        a: prefix(kn, &p.a, 2, p.batch, &bi),
        o: prefix(kn, &p.o, 2, p.batch, &bi),
        bias: p.bias.as_ref().and_then(|b| prefix(kn, &b.mem, 1, p.batch, &bi)),
    };
    if !single_k {
        init_region(kn, p, &region, &pre);
    }
    let step = kn.b.idx(t.ncs as i64);
    let jc = kn.b.for_step(&s0, &s1, &step);
    let jc_end0 = kn.b.iadd(&jc, &step);
    let jce = kn.b.imin(&jc_end0, &s1);
    let (pc, kc) = if single_k {
        (zero.clone(), kn.b.idx(p.k as i64))
    } else {
        let (kmax, kcs) = (kn.b.idx(p.k as i64), kn.b.idx(t.kc as i64));
        let pc = kn.b.for_step(&zero, &kmax, &kcs);
        let left = kn.b.isub(&kmax, &pc);
        let kc = kn.b.imin(&left, &kcs);
        (pc, kc)
    };
    let (panel0, origin) = if in_place {
        (kn.b.affine(&pc, p.n as i64, 0), zero.clone())
    } else if prepacked.is_some() {
        (kn.b.affine(&pc, (ns * t.nr) as i64, 0), zero.clone())
    } else {
        (zero.clone(), jc.clone())
    };
    let row_stride = if in_place { Some(p.n) } else { None };
    let blk = Block { jc: jc.clone(), pc, kc, bi: bi.clone(), panel0, origin, row_stride };
    if prepacked.is_none() {
        gemm_pack::pack(kn, p, &t, &bp, &blk, &jce);
    }
    row_tiles(kn, p, &t, &bp, &blk, &pre, &jce, (&t0, &t1), !single_k);
    if !single_k {
        kn.b.end_for();
    }
    kn.b.end_for();
    if p.batch > 1 {
        kn.b.end_for();
    }
    region
}

/// Whether the micro-tile reads a plain `[K, N]` B where it lies instead of packing it: saves
/// every workgroup's copy of its columns (with few strips each packs all of B), unless B's rows
/// fall into few cache sets (a row length of many 64-byte lines times a large power of two, as
/// N = 768 or 3072 give) and evict each other.
fn reads_b_in_place(p: &Product) -> bool {
    let row_bytes = p.n * 4;
    let lines = row_bytes / 64;
    p.batch == 1 && (!row_bytes.is_multiple_of(64) || gcd(lines, 64) <= 4)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Rows `[t0*MR, min(t1*MR, M))` and columns `[s0*NR, min(s1*NR, N))`.
fn region(kn: &mut Kernel, p: &Product, t: &Tiles, [t0, t1, s0, s1]: [&String; 4]) -> Region {
    let (m, n) = (kn.b.idx(p.m as i64), kn.b.idx(p.n as i64));
    let r0 = kn.b.affine(t0, t.mr as i64, 0);
    let r1a = kn.b.affine(t1, t.mr as i64, 0);
    let r1 = kn.b.imin(&r1a, &m);
    let c0 = kn.b.affine(s0, t.nr as i64, 0);
    let c1a = kn.b.affine(s1, t.nr as i64, 0);
    let c1 = kn.b.imin(&c1a, &n);
    Region { b0: String::new(), b1: String::new(), r0, r1, c0, c1, units: None }
}

/// Set the workgroup's rectangle to the bias (or zero); the tiles then accumulate one K block
/// at a time.
fn init_region(kn: &mut Kernel, p: &Product, r: &Region, pre: &Prefixes) {
    let z = kn.b.cst(DType::F32, 0.0);
    let i = kn.b.for_(&r.r0, &r.r1);
    let j = kn.b.for_(&r.c0, &r.c1);
    let v = match &p.bias {
        Some(b) => kn.b.load(&b.mem, &at(&pre.bias, &[if b.per_row { i.clone() } else { j.clone() }])),
        None => z,
    };
    kn.b.store(&v, &p.o, &at(&pre.o, &[i, j]));
    kn.b.end_for();
    kn.b.end_for();
}

/// The mask of the `W` columns from `col` that lie inside N, and the column to address them
/// at: `col` clamped to N, so an all-false vector past the end never forms an out-of-bounds
/// address.
fn col_mask(kn: &mut Kernel, t: &Tiles, n: usize, col: &str) -> (String, String) {
    let nn = kn.b.idx(n as i64);
    let left = kn.b.isub(&nn, col);
    let cnt = kn.b.iclamp(&left, 0, t.w as i64);
    let mask = kn.b.op(format!("vector.create_mask {cnt} : {}", t.mty));
    (mask, kn.b.imin(col, &nn))
}

/// The `W`-column groups of a strip at `j0`: (column to address, mask when `masked`).
pub(super) fn strip_cols(
    kn: &mut Kernel,
    t: &Tiles,
    n: usize,
    j0: &str,
    masked: bool,
) -> Vec<(String, Option<String>)> {
    (0..t.nv)
        .map(|v| {
            let col = kn.b.affine(j0, 1, (v * t.w) as i64);
            if masked {
                let (mask, col) = col_mask(kn, t, n, &col);
                (col, Some(mask))
            } else {
                (col, None)
            }
        })
        .collect()
}

/// `vector.load` (or a zero-filled `vector.maskedload` under `mask`) of `W` f32 at `idx`.
pub(super) fn vload(kn: &mut Kernel, t: &Tiles, m: &Mem, idx: &[String], mask: Option<&String>) -> String {
    let ty = m.memref_ty();
    match mask {
        None => kn.b.op(format!("vector.load {}[{}] : {ty}, {}", m.name, idx.join(", "), t.vty)),
        Some(mk) => {
            let z = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
            kn.b.op(format!(
                "vector.maskedload {}[{}], {mk}, {z} : {ty}, {}, {} into {}",
                m.name,
                idx.join(", "),
                t.mty,
                t.vty,
                t.vty
            ))
        }
    }
}

/// `vector.store` (or `vector.maskedstore` under `mask`) of `v` at `idx`.
pub(super) fn vstore(kn: &mut Kernel, t: &Tiles, v: &str, m: &Mem, idx: &[String], mask: Option<&String>) {
    let ty = m.memref_ty();
    match mask {
        None => kn.b.line(format!("vector.store {v}, {}[{}] : {ty}, {}", m.name, idx.join(", "), t.vty)),
        Some(mk) => kn.b.line(format!(
            "vector.maskedstore {}[{}], {mk}, {v} : {ty}, {}, {}",
            m.name,
            idx.join(", "),
            t.mty,
            t.vty
        )),
    }
}

/// Offset of strip `s` of block `blk` in the packed panel.
pub(super) fn strip_base(kn: &mut Kernel, t: &Tiles, s: &str, blk: &Block) -> String {
    if blk.row_stride.is_some() {
        return blk.panel0.clone();
    }
    let rel = kn.b.isub(s, &blk.origin);
    let off = kn.b.affine(&rel, (t.kc * t.nr) as i64, 0);
    kn.b.iadd(&blk.panel0, &off)
}

/// Emit `body(masked)` for a strip starting at column `j0`: unmasked when N is a multiple of
/// NR, else behind an `scf.if` on whether the strip is full.
pub(super) fn by_fullness(kn: &mut Kernel, t: &Tiles, n: usize, j0: &str, body: &mut dyn FnMut(&mut Kernel, bool)) {
    if n.is_multiple_of(t.nr) {
        return body(kn, false);
    }
    let end = kn.b.affine(j0, 1, t.nr as i64);
    let nn = kn.b.idx(n as i64);
    let full = kn.b.icmp("sle", &end, &nn);
    kn.b.if_(&full);
    body(kn, false);
    kn.b.else_();
    body(kn, true);
    kn.b.end_if();
}

/// The full `MR`-row tiles of `[t0, t1)`, then the `M % MR`-row tile if this range holds it.
#[allow(clippy::too_many_arguments)]
fn row_tiles(
    kn: &mut Kernel,
    p: &Product,
    t: &Tiles,
    bp: &Mem,
    blk: &Block,
    pre: &Prefixes,
    jce: &str,
    (t0, t1): (&str, &str),
    accumulate: bool,
) {
    for_row_tiles(kn, t, p.m, (t0, t1), &mut |kn, i0, rows| strips(kn, p, t, bp, blk, pre, jce, i0, rows, accumulate));
}

/// `body(first row, row count)` for the full `MR`-row tiles of `[t0, t1)` (a loop), then for
/// the `M % MR`-row tile if this range holds it.
pub(super) fn for_row_tiles(
    kn: &mut Kernel,
    t: &Tiles,
    m: usize,
    (t0, t1): (&str, &str),
    body: &mut dyn FnMut(&mut Kernel, &str, usize),
) {
    let mt_full = m / t.mr;
    let full = kn.b.idx(mt_full as i64);
    let tf = kn.b.imin(t1, &full);
    let ti = kn.b.for_(t0, &tf);
    let i0 = kn.b.affine(&ti, t.mr as i64, 0);
    body(kn, &i0, t.mr);
    kn.b.end_for();
    let rem = m % t.mr;
    if rem > 0 {
        let has = kn.b.icmp("sgt", t1, &full);
        kn.b.if_(&has);
        let i0 = kn.b.idx((mt_full * t.mr) as i64);
        body(kn, &i0, rem);
        kn.b.end_if();
    }
}

/// One `mr`-row tile against every strip of the packed block.
#[allow(clippy::too_many_arguments)]
fn strips(
    kn: &mut Kernel,
    p: &Product,
    t: &Tiles,
    bp: &Mem,
    blk: &Block,
    pre: &Prefixes,
    jce: &str,
    i0: &str,
    mr: usize,
    acc: bool,
) {
    let s = kn.b.for_(&blk.jc, jce);
    let base = strip_base(kn, t, &s, blk);
    let j0 = kn.b.affine(&s, t.nr as i64, 0);
    let tile = Tile { base: &base, i0, j0: &j0, mr, accumulate: acc };
    by_fullness(kn, t, p.n, &j0, &mut |kn, masked| micro_tile(kn, p, t, bp, blk, pre, &tile, masked));
    kn.b.end_for();
}

/// Where one accumulator tile sits: packed strip offset, output row and column, row count, and
/// whether it starts from the output (a later K block).
struct Tile<'a> {
    base: &'a str,
    i0: &'a str,
    j0: &'a str,
    mr: usize,
    accumulate: bool,
}

/// The starting accumulators of a tile: the output so far, the bias, or zero.
fn tile_inits(
    kn: &mut Kernel,
    p: &Product,
    t: &Tiles,
    pre: &Prefixes,
    rows: &[String],
    cols: &[(String, Option<String>)],
    accumulate: bool,
) -> Vec<(String, String)> {
    let zv = kn.b.typed_const("dense<0.000000e+00>", &t.vty);
    let col_bias: Vec<String> = match &p.bias {
        Some(b) if !b.per_row && !accumulate => cols
            .iter()
            .map(|(c, m)| vload(kn, t, &b.mem, &at(&pre.bias, std::slice::from_ref(c)), m.as_ref()))
            .collect(),
        _ => Vec::new(),
    };
    let mut inits = Vec::new();
    for row in rows {
        let row_bias = match &p.bias {
            Some(b) if b.per_row && !accumulate => {
                let s = kn.b.load(&b.mem, &at(&pre.bias, std::slice::from_ref(row)));
                Some(kn.b.op(format!("vector.broadcast {s} : f32 to {}", t.vty)))
            }
            _ => None,
        };
        for (v, (col, mask)) in cols.iter().enumerate() {
            let init = if accumulate {
                vload(kn, t, &p.o, &at(&pre.o, &[row.clone(), col.clone()]), mask.as_ref())
            } else if let Some(rb) = &row_bias {
                rb.clone()
            } else if let Some(cb) = col_bias.get(v) {
                cb.clone()
            } else {
                zv.clone()
            };
            inits.push((init, t.vty.clone()));
        }
    }
    inits
}

/// The `mr x NR` accumulator tile at output `(i0, j0)`: start it, run over the block's depth,
/// store.
#[allow(clippy::too_many_arguments)]
fn micro_tile(
    kn: &mut Kernel,
    p: &Product,
    t: &Tiles,
    bp: &Mem,
    blk: &Block,
    pre: &Prefixes,
    tile: &Tile,
    masked: bool,
) {
    // The last, partial strip computes only the vectors that hold columns.
    let nv = if masked { (p.n % t.nr).div_ceil(t.w) } else { t.nv };
    let mut cols = strip_cols(kn, t, p.n, tile.j0, masked);
    cols.truncate(nv);
    let rows: Vec<String> = (0..tile.mr).map(|r| kn.b.affine(tile.i0, 1, r as i64)).collect();
    let inits = tile_inits(kn, p, t, pre, &rows, &cols, tile.accumulate);
    let zero = kn.b.idx(0);
    let l = kn.b.for_iter(&zero, &blk.kc, &inits);
    // Depth step `l` of the strip: packed, `NR` values at base + l * NR; in place, B's row
    // `pc + l` at base + l * N, its columns (masked past N) where `cols` says.
    let stride = blk.row_stride.unwrap_or(t.nr);
    let off = kn.b.affine(&l.iv, stride as i64, 0);
    let off = kn.b.iadd(tile.base, &off);
    let at_col = |kn: &mut Kernel, v: usize, ahead: usize| match blk.row_stride {
        None => kn.b.affine(&off, 1, (ahead * t.nr + v * t.w) as i64),
        Some(n) => {
            let o = kn.b.affine(&off, 1, (ahead * n) as i64);
            kn.b.iadd(&o, &cols[v].0)
        }
    };
    let bv: Vec<String> = (0..nv)
        .map(|v| {
            let o = at_col(kn, v, 0);
            let mask = if blk.row_stride.is_some() { cols[v].1.as_ref() } else { None };
            vload(kn, t, bp, &[o], mask)
        })
        .collect();
    // Software prefetch of the B row PREFETCH_STEPS depth steps ahead, one line per vector
    // (measured 4-5% on 512^3 and a 28x28 conv; the hardware prefetcher alone falls behind the
    // FMAs). A prefetch past the panel's end reads nothing and cannot fault.
    for v in 0..nv {
        let o = at_col(kn, v, PREFETCH_STEPS);
        kn.b.line(format!("memref.prefetch {}[{o}], read, locality<3>, data : {}", bp.name, bp.memref_ty()));
    }
    let kidx = kn.b.iadd(&blk.pc, &l.iv);
    // Packed A: depth block `pc` starts at `pc * M_pad`, tile `i0 / MR` at `i0 * kc` within it,
    // depth step `l` at `l * MR` within that.
    let a_step = p.a_packed.then(|| {
        let m_pad = p.m.div_ceil(t.mr) * t.mr;
        let blk0 = kn.b.affine(&blk.pc, m_pad as i64, 0);
        let tile0 = kn.b.imul(tile.i0, &blk.kc);
        let step = kn.b.affine(&l.iv, t.mr as i64, 0);
        let off = kn.b.iadd(&blk0, &tile0);
        let off = kn.b.iadd(&off, &step);
        if p.a_batch_stride == 0 {
            return off;
        }
        let batch0 = kn.b.affine(&blk.bi, p.a_batch_stride as i64, 0);
        kn.b.iadd(&off, &batch0)
    });
    // Constant A streams from memory (a model's weights outgrow the caches) at MR floats per
    // depth step, the next row tile's panel right after this one's: prefetch it
    // PREFETCH_A_STEPS steps ahead.
    if let Some(s) = &a_step {
        let o = kn.b.affine(s, 1, (PREFETCH_A_STEPS * t.mr) as i64);
        kn.b.line(format!("memref.prefetch {}[{o}], read, locality<3>, data : {}", p.a.name, p.a.memref_ty()));
    }
    let mut next = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let a = match &a_step {
            Some(s) => {
                let off = kn.b.affine(s, 1, r as i64);
                kn.b.load(&p.a, &[off])
            }
            None => {
                let ai = if p.trans_a { [kidx.clone(), row.clone()] } else { [row.clone(), kidx.clone()] };
                kn.b.load(&p.a, &at(&pre.a, &ai))
            }
        };
        let ab = kn.b.op(format!("vector.broadcast {a} : f32 to {}", t.vty));
        for (v, b) in bv.iter().enumerate() {
            let acc = &l.accs[nv * r + v];
            next.push(kn.b.op(format!("vector.fma {ab}, {b}, {acc} : {}", t.vty)));
        }
    }
    let res = kn.b.end_for_iter(l, &next);
    for (r, row) in rows.iter().enumerate() {
        for (v, (col, mask)) in cols.iter().enumerate() {
            let idx = at(&pre.o, &[row.clone(), col.clone()]);
            vstore(kn, t, &res[nv * r + v], &p.o, &idx, mask.as_ref());
        }
    }
}
