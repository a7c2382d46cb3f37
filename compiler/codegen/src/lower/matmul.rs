//! MatMul (numpy semantics): rank-1 operands are viewed as `[1,K]` / `[K,1]` and the output as
//! `[batch.., M, N]` (same bytes), batch dims broadcast. Loop order batch, i, k, j: the output row
//! is zeroed, then accumulates `a[i,k] * b[k,j]` over k with j innermost so LLVM vectorizes j.
//! f32 products go to [`super::gemm_tiled`] when B has no batch (A's batch folds into M) or the
//! batch dims match (or A has none).

use super::expect_float;
use super::gemm_pack::BSource;
use super::gemm_tiled::{self, Product, Tiled};
use crate::emit::{broadcast_index, Kernel};
use crate::error::Result;
use kiln_ir::DType;

/// Lower into `k`, the output at parameter `out`; returns the tiled product's output view and
/// the workgroup's rectangle when the tiled kernel ran (for a fused epilogue).
pub fn lower(k: &mut Kernel, out: usize) -> Result<Option<Tiled>> {
    let (a, b, o) = (k.param(0), k.param(1), k.param(out));
    expect_float("MatMul", a.dtype)?;
    let dt = a.dtype;
    if let Some(p) = tiled(k, out) {
        let region = gemm_tiled::emit(k, &p);
        return Ok(Some(Tiled { o: p.o, region }));
    }
    let a_shape = if a.rank() == 1 { vec![1, a.shape[0]] } else { a.shape.clone() };
    let b_shape = if b.rank() == 1 { vec![b.shape[0], 1] } else { b.shape.clone() };
    let (m, kk) = (a_shape[a_shape.len() - 2], a_shape[a_shape.len() - 1]);
    let n = b_shape[b_shape.len() - 1];
    // The output's batch dims are its leading dims (rank-1 promotion removed M or N at the end).
    let nb_out = o.rank() - (a.rank() != 1) as usize - (b.rank() != 1) as usize;
    let mut o_shape: Vec<usize> = o.shape[..nb_out].to_vec();
    o_shape.extend([m, n]);
    let a = k.view(0, a_shape.clone());
    let b = k.view(1, b_shape.clone());
    let o = k.view(out, o_shape.clone());
    let r = o_shape.len();
    let batch = &o_shape[..r - 2];

    let part = k.begin_parallel(&o_shape, &[]);
    let nest = k.loops(&o_shape, &[r - 1], &part);
    let zero = k.b.idx(0);
    let (jlo, jhi) =
        if part.dim == Some(r - 1) { (part.lo.clone(), part.hi.clone()) } else { (zero.clone(), k.b.idx(n as i64)) };
    let i = nest.ivs[r - 2].clone();
    let a_batch = broadcast_index(&nest.ivs[..r - 2], &a_shape[..a_shape.len() - 2], batch, &zero);
    let b_batch = broadcast_index(&nest.ivs[..r - 2], &b_shape[..b_shape.len() - 2], batch, &zero);
    let o_batch: Vec<String> = nest.ivs[..r - 2].to_vec();

    let z = k.b.cst(dt, 0.0);
    let j = k.b.for_(&jlo, &jhi);
    let oi = [o_batch.clone(), vec![i.clone(), j]].concat();
    k.b.store(&z, &o, &oi);
    k.b.end_for();

    let kmax = k.b.idx(kk as i64);
    let kv = k.b.for_(&zero, &kmax);
    let av = k.b.load(&a, &[a_batch, vec![i.clone(), kv.clone()]].concat());
    let j = k.b.for_(&jlo, &jhi);
    let oi = [o_batch, vec![i, j.clone()]].concat();
    let acc = k.b.load(&o, &oi);
    let bv = k.b.load(&b, &[b_batch, vec![kv, j]].concat());
    let p = k.b.mul(&av, &bv, dt);
    let s = k.b.add(&acc, &p, dt);
    k.b.store(&s, &o, &oi);
    k.b.end_for();
    k.b.end_for();

    k.close(nest);
    k.end_parallel(part);
    Ok(None)
}

/// The tiled product for f32: when B has no batch (A's batch dims fold into M, the output is
/// viewed as `[M, N]`), or when both have the same batch dims or one has none (a batched
/// product over `[batch, M, K] @ [batch, K, N]`).
fn tiled(k: &mut Kernel, out: usize) -> Option<Product> {
    let (a, b, o) = (k.param(0), k.param(1), k.param(out));
    if k.prepacked_b {
        // B is the packed constant (the plan checked the product is tiled and B unbatched).
        let (kk, n) = (a.shape[a.rank() - 1], o.shape[o.rank() - 1]);
        let m = a.shape.iter().product::<usize>() / kk;
        let (a, o) = (k.view(0, vec![m, kk]), k.view(out, vec![m, n]));
        let mut p = Product::matrices(a, b.clone(), o, m, n, kk, false, false);
        p.b = BSource::Packed { mem: b };
        return Some(p);
    }
    if let Some(ashape) = k.prepacked_a.clone() {
        // A is a constant packed at compile time, one matrix per batch (the plan checked the
        // product is tiled with B batched alike).
        let Shapes { m, k: kk, n, na, nb } = tiled_shapes(a.dtype, &ashape, &b.shape)?;
        let batch = o.shape.iter().product::<usize>() / (m * n);
        let b = if nb == 1 { k.view(1, vec![kk, n]) } else { k.view(1, vec![nb, kk, n]) };
        let o = if batch == 1 { k.view(out, vec![m, n]) } else { k.view(out, vec![batch, m, n]) };
        let mut p = Product::matrices(a, b, o, m, n, kk, false, false);
        p.a_packed = true;
        p.batch = batch;
        if na > 1 {
            p.a_batch_stride = super::gemm_pack::packed_a_len(k.f32_lanes, m, kk);
        }
        return Some(p);
    }
    let Shapes { m, k: kk, n, na, nb } = tiled_shapes(a.dtype, &a.shape, &b.shape)?;
    if nb == 1 {
        let m = a.shape.iter().product::<usize>() / kk;
        let (a, b, o) = (k.view(0, vec![m, kk]), k.view(1, vec![kk, n]), k.view(out, vec![m, n]));
        return Some(Product::matrices(a, b, o, m, n, kk, false, false));
    }
    let batch = o.shape.iter().product::<usize>() / (m * n);
    let a = if na == 1 { k.view(0, vec![m, kk]) } else { k.view(0, vec![na, m, kk]) };
    let (b, o) = (k.view(1, vec![nb, kk, n]), k.view(out, vec![batch, m, n]));
    let mut p = Product::matrices(a, b, o, m, n, kk, false, false);
    p.batch = batch;
    Some(p)
}

/// The matrix extents and batch counts of a MatMul the tiled kernel takes.
struct Shapes {
    m: usize,
    k: usize,
    n: usize,
    na: usize,
    nb: usize,
}

fn tiled_shapes(dt: DType, a: &[usize], b: &[usize]) -> Option<Shapes> {
    if b.len() < 2 || a.is_empty() {
        return None;
    }
    let a = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
    let (m, kk, n) = (a[a.len() - 2], a[a.len() - 1], b[b.len() - 1]);
    if kk == 0 || !gemm_tiled::applies(dt, m, n, kk) {
        return None;
    }
    let (ab, bb) = (&a[..a.len() - 2], &b[..b.len() - 2]);
    let (na, nb) = (ab.iter().product::<usize>(), bb.iter().product::<usize>());
    let same = {
        let r = ab.len().max(bb.len());
        let pad = |s: &[usize]| [vec![1; r - s.len()], s.to_vec()].concat();
        pad(ab) == pad(bb)
    };
    (nb == 1 || same || na == 1).then_some(Shapes { m, k: kk, n, na, nb })
}

/// Whether a MatMul of these operand shapes runs on the tiled kernel.
pub fn takes_tiled(dt: DType, a: &[usize], b: &[usize]) -> bool {
    tiled_shapes(dt, a, b).is_some()
}
