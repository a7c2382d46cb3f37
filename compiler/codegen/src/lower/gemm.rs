//! Gemm: `alpha * op(A) @ op(B) + beta * C` with A, B rank 2, optional C broadcast to [M, N].
//! Same i, k, j loop order as MatMul; a last pass over the row applies alpha, beta and C.

use super::expect_float;
use crate::emit::{broadcast_index, Kernel};
use crate::error::Result;

pub fn lower(alpha: f32, beta: f32, trans_a: bool, trans_b: bool, k: &mut Kernel, n_in: usize) -> Result<()> {
    let (a, b, o) = (k.param(0), k.param(1), k.param(n_in));
    let c = (n_in == 3).then(|| k.param(2));
    expect_float("Gemm", a.dtype)?;
    let dt = a.dtype;
    let n = o.shape[1];
    let kk = if trans_a { a.shape[0] } else { a.shape[1] };

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
        let al = k.b.cst(dt, alpha as f64);
        let be = k.b.cst(dt, beta as f64);
        let j = k.b.for_(&jlo, &jhi);
        let oi = vec![i, j];
        let v = k.b.load(&o, &oi);
        let mut r = k.b.mul(&al, &v, dt);
        if let Some(c) = &c {
            let ci = broadcast_index(&oi, &c.shape, &o.shape, &zero);
            let cv = k.b.load(c, &ci);
            let bc = k.b.mul(&be, &cv, dt);
            r = k.b.add(&r, &bc, dt);
        }
        k.b.store(&r, &o, &oi);
        k.b.end_for();
    }

    k.close(nest);
    k.end_parallel(part);
    Ok(())
}
