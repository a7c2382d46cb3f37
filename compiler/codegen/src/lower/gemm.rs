//! Gemm: `alpha * op(A) @ op(B) + beta * C` with A, B rank 2, optional C broadcast to [M, N].
//! Same i, k, j loop order as MatMul; a last pass over the row applies alpha, beta and C.
//! f32 goes to [`super::gemm_tiled`], then the same epilogue runs over the workgroup's rectangle.

use super::expect_float;
use super::gemm_pack::BSource;
use super::gemm_tiled::{self, Bias, Product, Region, Tiled};
use crate::emit::{broadcast_index, Kernel, Mem};
use crate::error::Result;

/// Lower into `k`, the output at parameter `out`; returns the tiled product's output view and
/// the workgroup's rectangle when the tiled kernel ran (for a fused epilogue).
pub fn lower(
    alpha: f32,
    beta: f32,
    trans_a: bool,
    trans_b: bool,
    k: &mut Kernel,
    n_in: usize,
    out: usize,
) -> Result<Option<Tiled>> {
    let (a, b, o) = (k.param(0), k.param(1), k.param(out));
    let c = (n_in == 3).then(|| k.param(2));
    expect_float("Gemm", a.dtype)?;
    let dt = a.dtype;
    let n = o.shape[1];
    // A packed at compile time is 1-D; the plan records its shape.
    let a_shape = k.prepacked_a.clone().unwrap_or_else(|| a.shape.clone());
    let kk = if trans_a { a_shape[0] } else { a_shape[1] };
    let m = o.shape[0];
    if gemm_tiled::applies(dt, m, n, kk) {
        let mut p = Product::matrices(a, b.clone(), o.clone(), m, n, kk, trans_a, trans_b);
        p.a_packed = k.prepacked_a.is_some();
        if k.prepacked_b {
            p.b = BSource::Packed { mem: b };
        }
        // A bias row or column added once, as the accumulators' start.
        let fused = alpha == 1.0 && beta == 1.0 && c.as_ref().and_then(|c| bias_of(c, m, n)).is_some();
        if fused {
            let (shape, per_row) = bias_of(c.as_ref().unwrap(), m, n).unwrap();
            p.bias = Some(Bias { mem: k.view(2, shape), per_row });
        }
        let r = gemm_tiled::emit(k, &p);
        if !fused && (alpha != 1.0 || c.is_some()) {
            let i = k.b.for_(&r.r0, &r.r1);
            epilogue(k, alpha, beta, c.as_ref(), &o, &i, &r);
            k.b.end_for();
        }
        return Ok(Some(Tiled { o, region: r }));
    }

    let part = k.begin_parallel(&o.shape, &[]);
    let nest = k.loops(&o.shape, &[1], &part);
    let zero = k.b.idx(0);
    let (jlo, jhi) =
        if part.dim == Some(1) { (part.lo.clone(), part.hi.clone()) } else { (zero.clone(), k.b.idx(n as i64)) };
    let i = nest.ivs[0].clone();

    let z = k.b.cst(dt, 0.0);
    let j = k.b.for_(&jlo, &jhi);
    k.b.store(&z, &o, &[i.clone(), j]);
    k.b.end_for();

    let kmax = k.b.idx(kk as i64);
    let kv = k.b.for_(&zero, &kmax);
    let ai = if trans_a { vec![kv.clone(), i.clone()] } else { vec![i.clone(), kv.clone()] };
    let av = k.b.load(&a, &ai);
    let j = k.b.for_(&jlo, &jhi);
    let acc = k.b.load(&o, &[i.clone(), j.clone()]);
    let bi = if trans_b { vec![j.clone(), kv] } else { vec![kv, j.clone()] };
    let bv = k.b.load(&b, &bi);
    let p = k.b.mul(&av, &bv, dt);
    let s = k.b.add(&acc, &p, dt);
    k.b.store(&s, &o, &[i.clone(), j]);
    k.b.end_for();
    k.b.end_for();

    if alpha != 1.0 || c.is_some() {
        let (b0, b1, r0, r1) = Default::default();
        let r = Region { b0, b1, r0, r1, c0: jlo, c1: jhi, units: None };
        epilogue(k, alpha, beta, c.as_ref(), &o, &i, &r);
    }

    k.close(nest);
    k.end_parallel(part);
    Ok(None)
}

/// `o[i, j] = alpha * o[i, j] + beta * C[i, j]` (C broadcast) for j in the region's columns.
fn epilogue(k: &mut Kernel, alpha: f32, beta: f32, c: Option<&Mem>, o: &Mem, i: &str, r: &Region) {
    let dt = o.dtype;
    let zero = k.b.idx(0);
    let al = k.b.cst(dt, alpha as f64);
    let be = k.b.cst(dt, beta as f64);
    let j = k.b.for_(&r.c0, &r.c1);
    let oi = vec![i.to_string(), j];
    let v = k.b.load(o, &oi);
    let mut res = k.b.mul(&al, &v, dt);
    if let Some(c) = c {
        let ci = broadcast_index(&oi, &c.shape, &o.shape, &zero);
        let cv = k.b.load(c, &ci);
        let bc = k.b.mul(&be, &cv, dt);
        res = k.b.add(&res, &bc, dt);
    }
    k.b.store(&res, o, &oi);
    k.b.end_for();
}

/// C as a bias vector: `[N]`/`[1, N]` along columns, `[M, 1]` along rows (the view and which).
fn bias_of(c: &Mem, m: usize, n: usize) -> Option<(Vec<usize>, bool)> {
    match c.shape.as_slice() {
        [x] | [1, x] if *x == n && n > 1 => Some((vec![n], false)),
        [x, 1] if *x == m && m > 1 => Some((vec![m], true)),
        _ => None,
    }
}
