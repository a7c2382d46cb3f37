//! 2-D convolution, NCHW, direct loops: n, m, oh, ow (parallel), then c within the group, kh, kw
//! accumulating `x[n, g*Cg + c, ih, iw] * w[m, c, kh, kw]`; padded cells read as 0 (the index is
//! clamped and the value selected, so no out-of-bounds load). Bias is added after the sum.

use super::expect_float;
use super::pool::{window_index, Window};
use crate::emit::{reg_ty, Kernel};
use crate::error::Result;

pub fn lower(
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    group: usize,
    k: &mut Kernel,
    n_in: usize,
) -> Result<()> {
    let (x, w, o) = (k.param(0), k.param(1), k.param(n_in));
    let bias = (n_in == 3).then(|| k.param(2));
    expect_float("Conv", x.dtype)?;
    let dt = x.dtype;
    let (h, wd) = (x.shape[2], x.shape[3]);
    let (m_total, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]);
    let m_per_group = m_total / group.max(1);
    let win = Window { strides, pads, dilations, h, w: wd };

    let nest = k.parallel_loops(&o.shape, &[]);
    let (n, m, oh, ow) = (nest.ivs[0].clone(), nest.ivs[1].clone(), nest.ivs[2].clone(), nest.ivs[3].clone());
    let mpg = k.b.idx(m_per_group as i64);
    let g = k.b.op(format!("arith.divui {m}, {mpg} : index"));
    let cbase = k.b.affine(&g, cg as i64, 0);
    let zero = k.b.cst(dt, 0.0);
    let red_shape = [cg, kh, kw];
    let mut ivs = vec![String::new(); 3];
    let acc =
        k.reduce(&red_shape, &[0, 1, 2], &mut ivs, vec![(zero.clone(), reg_ty(dt).into())], &mut |k, ivs, acc| {
            let (c, r, s) = (&ivs[0], &ivs[1], &ivs[2]);
            let (ih, iw, inb) = window_index(k, &win, &oh, &ow, r, s);
            let ci = k.b.iadd(&cbase, c);
            let xv = k.b.load(&x, &[n.clone(), ci, ih, iw]);
            let xv = match inb {
                Some(inb) => k.b.select(&inb, &xv, &zero, dt),
                None => xv,
            };
            let wv = k.b.load(&w, &[m.clone(), c.clone(), r.clone(), s.clone()]);
            let p = k.b.mul(&xv, &wv, dt);
            vec![k.b.add(&acc[0], &p, dt)]
        })[0]
            .clone();
    let r = match &bias {
        Some(b) => {
            let bv = k.b.load(b, std::slice::from_ref(&m));
            k.b.add(&acc, &bv, dt)
        }
        None => acc,
    };
    k.b.store(&r, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
