//! Winograd F(2x2, 3x3) transforms (`kiln_ir::ops::winograd`), f32, `W` tiles of a tile row at
//! a time (vectors along `tx`); the product between them is a batched MatMul on the tiled GEMM.
//!
//! WinogradInput: per input plane `(n, c)` and tile row `ty`, the 4x4 patches of `W` tiles are
//! 16 vectors, each a stride-2 read of one input row ([`super::row_loads::strided`]: zero
//! outside the row, and the whole vector on a padding row); `B^T d B` is adds, and each result
//! is a contiguous (masked past `TW`) store into its matrix. Workgroups split (half, plane):
//! the first half of the units writes matrices 0..8, the second 8..16, as the products that
//! read them split the matrices.
//!
//! WinogradOutput: per output plane `(n, m)` and tile row, 16 loads, `A^T m A` in 24 adds, the
//! bias, then each output row's two column phases interleaved by two shuffles into 2W contiguous
//! pixels. Workgroups split the output channels; a fused epilogue (`super::epilogue`) then runs
//! over each workgroup's channels.

use super::gemm_tiled::{Region, Tiled};
use super::row_loads;
use crate::emit::{Kernel, Mem};
use crate::error::{CodegenError, Result};
use kiln_ir::ops::winograd::{out_extents, tiles};
use kiln_ir::DType;

/// Tile rows of at most this many vectors are unrolled (their lane masks become constants).
const MAX_UNROLLED_VECTORS: usize = 4;

/// The vector starts `tx0` along a tile row of `tw` tiles: unrolled constants, or one loop's
/// induction variable (closed by [`end_chunks`]).
fn chunks(k: &mut Kernel, tw: usize) -> (Vec<String>, bool) {
    let lanes = k.f32_lanes;
    let n = tw.div_ceil(lanes);
    if n <= MAX_UNROLLED_VECTORS {
        ((0..n).map(|i| k.b.idx((i * lanes) as i64)).collect(), false)
    } else {
        let (zero, step, end) = (k.b.idx(0), k.b.idx(lanes as i64), k.b.idx(tw as i64));
        (vec![k.b.for_step(&zero, &end, &step)], true)
    }
}

fn end_chunks(k: &mut Kernel, looped: bool) {
    if looped {
        k.b.end_for();
    }
}

/// Lanes `tx0 + i < tw` of a tile row.
fn tile_mask(k: &mut Kernel, tx0: &str, tw: usize) -> String {
    let lanes = k.f32_lanes;
    let left = k.b.idx(tw as i64);
    let left = k.b.isub(&left, tx0);
    k.b.op(format!("vector.create_mask {left} : vector<{lanes}xi1>"))
}

pub fn lower_input(pads: &[usize], k: &mut Kernel) -> Result<()> {
    let (x, v) = (k.param(0), k.param(1));
    if x.dtype != DType::F32 {
        return Err(super::unsupported(&kiln_ir::Op::WinogradInput { pads: pads.to_vec() }, "codegen is f32 only"));
    }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let [th, tw] = tiles(out_extents("WinogradInput", [h, w], pads).map_err(|e| CodegenError::new(e.to_string()))?);
    let lanes = k.f32_lanes;
    let (xf, vf) = (k.flat(&x), k.flat(&v));
    let zero_v = k.b.typed_const("dense<0.000000e+00>", &format!("vector<{lanes}xf32>"));
    // Units (half, plane), half-major: half 0 writes matrices 0..8 (i = 0, 1), half 1 the rest.
    // The products split the 16 matrices in order too, so each thread reads what it wrote.
    let planes = n * c;
    let (lo, hi) = k.partition(2 * planes);
    let u = k.b.for_(&lo, &hi);
    let pv = k.b.idx(planes as i64);
    let half = k.b.op(format!("arith.divui {u}, {pv} : index"));
    let plane = k.b.op(format!("arith.remui {u}, {pv} : index"));
    let cv = k.b.idx(c as i64);
    let ni = k.b.op(format!("arith.divui {plane}, {cv} : index"));
    let ci = k.b.op(format!("arith.remui {plane}, {cv} : index"));
    let x_plane = k.b.affine(&plane, (h * w) as i64, 0);
    let g = InputPlane { pads, hw: [h, w], tiles: [th, tw], c, nt: n * th * tw, xf: &xf, vf: &vf, zero_v: &zero_v };
    let zero = k.b.idx(0);
    let first = k.b.icmp("eq", &half, &zero);
    k.b.if_(&first);
    input_rows(k, &g, [&ni, &ci, &x_plane], [0, 1]);
    k.b.else_();
    input_rows(k, &g, [&ni, &ci, &x_plane], [2, 3]);
    k.b.end_if();
    k.b.end_for();
    Ok(())
}

/// What [`input_rows`] reads and writes: the geometry, the flat input and output, a zero vector.
struct InputPlane<'a> {
    pads: &'a [usize],
    hw: [usize; 2],
    tiles: [usize; 2],
    c: usize,
    nt: usize,
    xf: &'a Mem,
    vf: &'a Mem,
    zero_v: &'a str,
}

/// Rows `is` of `B^T d B` for every tile of one input plane (image `ni`, channel `ci`, at
/// `x_plane`): matrices `4i + j`.
fn input_rows(k: &mut Kernel, g: &InputPlane, [ni, ci, x_plane]: [&str; 3], is: [usize; 2]) {
    let InputPlane { pads, hw: [h, w], tiles: [th, tw], c, nt, xf, vf, zero_v } = *g;
    let lanes = k.f32_lanes;
    let (vty, mty) = (format!("vector<{lanes}xf32>"), format!("vector<{lanes}xi1>"));
    let (zero, thv) = (k.b.idx(0), k.b.idx(th as i64));
    let ty = k.b.for_(&zero, &thv);
    // Input rows 2ty + a - pt, a < 4: base offsets (clamped) and validity.
    let mut rows = Vec::with_capacity(4);
    for a in 0..4 {
        let iy = k.b.affine(&ty, 2, a as i64 - pads[0] as i64);
        let ok = k.b.in_range(&iy, h);
        let ok = k.b.op(format!("vector.broadcast {ok} : i1 to {mty}"));
        let iyc = k.b.iclamp(&iy, 0, h as i64 - 1);
        let base = k.b.affine(&iyc, w as i64, 0);
        rows.push((k.b.iadd(&base, x_plane), ok));
    }
    // Tile t = (n, ty, tx) at column t of each [C, NT] matrix e: (e * C + c) * NT + t.
    let t_row = k.b.affine(ni, th as i64, 0);
    let t_row = k.b.iadd(&t_row, &ty);
    let t_row = k.b.affine(&t_row, tw as i64, 0);
    let (starts, looped) = chunks(k, tw);
    for tx0 in starts {
        // d[a][b]: columns 2(tx0 + i) + b - pl.
        let col0 = k.b.affine(&tx0, 2, -(pads[1] as i64));
        let mut d: [[String; 4]; 4] = Default::default();
        for (a, (base, ok)) in rows.iter().enumerate() {
            for (b, slot) in d[a].iter_mut().enumerate() {
                let start = k.b.affine(&col0, 1, b as i64);
                *slot = row_loads::strided(k, xf, base, &start, w, 2, ok, zero_v);
            }
        }
        // B^T d B: rows, then columns, with B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]].
        let bt = |k: &mut Kernel, i: usize, p: [&String; 4]| -> String {
            match i {
                0 => k.b.op(format!("arith.subf {}, {} : {vty}", p[0], p[2])),
                1 => k.b.op(format!("arith.addf {}, {} : {vty}", p[1], p[2])),
                2 => k.b.op(format!("arith.subf {}, {} : {vty}", p[2], p[1])),
                _ => k.b.op(format!("arith.subf {}, {} : {vty}", p[1], p[3])),
            }
        };
        let mask = tile_mask(k, &tx0, tw);
        let t0 = k.b.iadd(&t_row, &tx0);
        for i in is {
            let col: Vec<String> = (0..4).map(|b| bt(k, i, [&d[0][b], &d[1][b], &d[2][b], &d[3][b]])).collect();
            for j in 0..4 {
                let val = bt(k, j, [&col[0], &col[1], &col[2], &col[3]]);
                let at = k.b.affine(ci, nt as i64, (((i * 4 + j) * c) * nt) as i64);
                let at = k.b.iadd(&at, &t0);
                k.b.line(format!(
                    "vector.maskedstore {}[{at}], {mask}, {val} : {}, {mty}, {vty}",
                    vf.name,
                    vf.memref_ty()
                ));
            }
        }
    }
    end_chunks(k, looped);
    k.b.end_for();
}

/// The output transform; the kernel's output is parameter `out_param`. Returns the output
/// viewed `[M, OH*OW]` (`[N, M, OH*OW]` for several images) and the workgroup's rows (output
/// channels `[m0, m1)` of every image), for a fused epilogue.
pub fn lower_output(out: &[usize], k: &mut Kernel, n_in: usize, out_param: usize) -> Result<Tiled> {
    let (m, y) = (k.param(0), k.param(out_param));
    if m.dtype != DType::F32 {
        return Err(super::unsupported(&kiln_ir::Op::WinogradOutput { out: out.to_vec() }, "codegen is f32 only"));
    }
    let bias = (n_in == 2).then(|| k.param(1));
    let (n, mc, oh, ow) = (y.shape[0], y.shape[1], y.shape[2], y.shape[3]);
    let [th, tw] = tiles([oh, ow]);
    let nt = n * th * tw;
    let lanes = k.f32_lanes;
    let (vty, mty) = (format!("vector<{lanes}xf32>"), format!("vector<{lanes}xi1>"));
    // The view the epilogue reads, taken before any access (it retypes the parameter).
    let pixels = oh * ow;
    let o = if n == 1 { k.view(out_param, vec![mc, pixels]) } else { k.view(out_param, vec![n, mc, pixels]) };
    let (mf, yf) = (k.flat(&m), k.flat(&o));
    let zero_v = k.b.typed_const("dense<0.000000e+00>", &vty);
    let (lo, hi) = k.partition(mc);
    let (zero, nv) = (k.b.idx(0), k.b.idx(n as i64));
    let ni = k.b.for_(&zero, &nv);
    let mi = k.b.for_(&lo, &hi);
    let plane = k.b.affine(&ni, mc as i64, 0);
    let plane = k.b.iadd(&plane, &mi);
    let bv = match &bias {
        Some(b) => {
            let s = k.b.load(b, std::slice::from_ref(&mi));
            Some(k.b.op(format!("vector.broadcast {s} : f32 to {vty}")))
        }
        None => None,
    };
    let y_plane = k.b.affine(&plane, (oh * ow) as i64, 0);
    let (zero, thv) = (k.b.idx(0), k.b.idx(th as i64));
    let ty = k.b.for_(&zero, &thv);
    let t_row = k.b.affine(&ni, th as i64, 0);
    let t_row = k.b.iadd(&t_row, &ty);
    let t_row = k.b.affine(&t_row, tw as i64, 0);
    let (starts, looped) = chunks(k, tw);
    let lo_lanes: Vec<String> = (0..lanes / 2).flat_map(|i| [i.to_string(), (i + lanes).to_string()]).collect();
    let hi_lanes: Vec<String> = (lanes / 2..lanes).flat_map(|i| [i.to_string(), (i + lanes).to_string()]).collect();
    let iota2 = super::gemm_pack::IdxVec::new(lanes, "i32");
    let iota = iota2.lanes(k, 1);
    let owc = iota2.splat_const(k, ow as i64);
    for tx0 in starts {
        let mask = tile_mask(k, &tx0, tw);
        let t0 = k.b.iadd(&t_row, &tx0);
        let mut mm: Vec<String> = Vec::with_capacity(16);
        for e in 0..16 {
            let at = k.b.affine(&mi, nt as i64, ((e * mc) * nt) as i64);
            let at = k.b.iadd(&at, &t0);
            mm.push(k.b.op(format!(
                "vector.maskedload {}[{at}], {mask}, {zero_v} : {}, {mty}, {vty} into {vty}",
                mf.name,
                mf.memref_ty()
            )));
        }
        // A^T = [[1,1,1,0],[0,1,-1,-1]] on the columns, then on the rows.
        let at2 = |k: &mut Kernel, p: [&String; 4]| -> [String; 2] {
            let s = k.b.op(format!("arith.addf {}, {} : {vty}", p[0], p[1]));
            let s = k.b.op(format!("arith.addf {s}, {} : {vty}", p[2]));
            let d = k.b.op(format!("arith.subf {}, {} : {vty}", p[1], p[2]));
            let d = k.b.op(format!("arith.subf {d}, {} : {vty}", p[3]));
            [s, d]
        };
        let rows: Vec<[String; 2]> =
            (0..4).map(|a| at2(k, [&mm[a * 4], &mm[a * 4 + 1], &mm[a * 4 + 2], &mm[a * 4 + 3]])).collect();
        for i in 0..2 {
            let mut yij: Vec<String> =
                (0..2).map(|j| at2(k, [&rows[0][j], &rows[1][j], &rows[2][j], &rows[3][j]])[i].clone()).collect();
            if let Some(b) = &bv {
                for v in yij.iter_mut() {
                    *v = k.b.op(format!("arith.addf {v}, {b} : {vty}"));
                }
            }
            // Output row 2ty + i (absent past OH: only when OH is odd, on the last tile row).
            let odd_row = i == 1 && oh % 2 == 1;
            if odd_row {
                let yrow = k.b.affine(&ty, 2, 1);
                let ohv = k.b.idx(oh as i64);
                let inside = k.b.icmp("slt", &yrow, &ohv);
                k.b.if_(&inside);
            }
            let row_base = k.b.affine(&ty, (2 * ow) as i64, (i * ow) as i64);
            let row_base = k.b.iadd(&row_base, &y_plane);
            for (half, sel) in [&lo_lanes, &hi_lanes].into_iter().enumerate() {
                let v = k.b.op(format!("vector.shuffle {}, {} [{}] : {vty}, {vty}", yij[0], yij[1], sel.join(", ")));
                // Columns 2*tx0 + half*W + lane, stored where below OW.
                let col0 = k.b.affine(&tx0, 2, (half * lanes) as i64);
                let cs = iota2.splat(k, &col0);
                let cs = iota2.bin(k, "addi", &cs, &iota);
                let inside = iota2.cmp(k, "slt", &cs, &owc);
                let at = k.b.iadd(&row_base, &col0);
                k.b.line(format!(
                    "vector.maskedstore {}[{at}], {inside}, {v} : {}, {mty}, {vty}",
                    yf.name,
                    yf.memref_ty()
                ));
            }
            if odd_row {
                k.b.end_if();
            }
        }
    }
    end_chunks(k, looped);
    k.b.end_for();
    k.b.end_for();
    k.b.end_for();
    let (b0, b1, c0, c1) = (k.b.idx(0), k.b.idx(n as i64), k.b.idx(0), k.b.idx(pixels as i64));
    Ok(Tiled { o, region: Region { b0, b1, r0: lo, r1: hi, c0, c1, units: None } })
}
