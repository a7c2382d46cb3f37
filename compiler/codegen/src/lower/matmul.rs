//! MatMul (numpy semantics): rank-1 operands are viewed as `[1,K]` / `[K,1]` and the output as
//! `[batch.., M, N]` (same bytes), batch dims broadcast. Loop order batch, i, k, j: the output row
//! is zeroed, then accumulates `a[i,k] * b[k,j]` over k with j innermost so LLVM vectorizes j.
//! f32 products whose B has no batch (A's batch folds into M) go to [`super::gemm_tiled`].

use super::expect_float;
use super::gemm_tiled::{self, Product};
use crate::emit::{broadcast_index, Kernel};
use crate::error::Result;

pub fn lower(k: &mut Kernel) -> Result<()> {
    let (a, b, o) = (k.param(0), k.param(1), k.param(2));
    expect_float("MatMul", a.dtype)?;
    let dt = a.dtype;
    if let Some(p) = tiled(k) {
        gemm_tiled::emit(k, &p);
        return Ok(());
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
    let o = k.view(2, o_shape.clone());
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
    Ok(())
}

/// The tiled product when B is 2-D (or has only unit batch dims) and the dtype is f32: A's
/// batch dims fold into M, the output is viewed as `[M, N]`.
fn tiled(k: &mut Kernel) -> Option<Product> {
    let (a, b) = (k.param(0), k.param(1));
    if b.rank() < 2 || b.shape[..b.rank() - 2].iter().product::<usize>() != 1 {
        return None;
    }
    let kk = a.shape[a.rank() - 1];
    let n = b.shape[b.rank() - 1];
    if kk == 0 {
        return None;
    }
    let m = a.shape.iter().product::<usize>() / kk;
    if !gemm_tiled::applies(a.dtype, m, n, kk) {
        return None;
    }
    let (a, b, o) = (k.view(0, vec![m, kk]), k.view(1, vec![kk, n]), k.view(2, vec![m, n]));
    Some(Product { a, b, o, m, n, k: kk, trans_a: false, trans_b: false })
}
