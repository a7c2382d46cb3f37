//! Im2Col: `x [N, C, H, W]` to `[N, C*kH*kW, OH*OW]`. Workgroups split the `N*C*kH*kW` rows; per
//! row (one channel and tap) and output row `oy`, the columns whose input lies inside the image
//! are a strided copy (contiguous when the stride is 1, so it vectorizes) between zero-filled
//! borders, the range computed per tap rather than tested per element; rows reading vertical
//! padding are zero.

use super::expect_float;
use crate::emit::Kernel;
use crate::error::Result;

pub fn lower(kernel: &[usize], strides: &[usize], pads: &[usize], dilations: &[usize], k: &mut Kernel) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    expect_float("Im2Col", x.dtype)?;
    let dt = x.dtype;
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (kh, kw) = (kernel[0], kernel[1]);
    let rows = n * c * kh * kw;
    let pixels = o.shape[2];
    let ow = ((w + pads[1] + pads[3]) - (dilations[1] * (kw - 1) + 1)) / strides[1] + 1;
    let oh = pixels / ow.max(1);
    let x = k.view(0, vec![n * c, h, w]);
    let o = k.view(1, vec![rows, oh, ow]);

    let (lo, hi) = k.partition(rows);
    let r = k.b.for_(&lo, &hi);
    let (taps, kwv) = (k.b.idx((kh * kw) as i64), k.b.idx(kw as i64));
    let plane = k.b.op(format!("arith.divui {r}, {taps} : index"));
    let tap = k.b.op(format!("arith.remui {r}, {taps} : index"));
    let ky = k.b.op(format!("arith.divui {tap}, {kwv} : index"));
    let kx = k.b.op(format!("arith.remui {tap}, {kwv} : index"));
    // Columns [c0, c1) read inside the image: ox*sw + kx*dw - pl in [0, W).
    let shift = k.b.affine(&kx, -(dilations[1] as i64), pads[1] as i64);
    let sw = k.b.idx(strides[1] as i64);
    let c0 = k.b.op(format!("arith.ceildivsi {shift}, {sw} : index"));
    let c0 = k.b.iclamp(&c0, 0, ow as i64);
    let end = k.b.affine(&shift, 1, w as i64);
    let c1 = k.b.op(format!("arith.ceildivsi {end}, {sw} : index"));
    let c1 = k.b.iclamp(&c1, 0, ow as i64);
    let c1 = k.b.op(format!("arith.maxsi {c1}, {c0} : index"));
    let dx = k.b.affine(&kx, dilations[1] as i64, -(pads[1] as i64));
    let z = k.b.cst(dt, 0.0);
    let (zero, ohv, owv) = (k.b.idx(0), k.b.idx(oh as i64), k.b.idx(ow as i64));

    let oy = k.b.for_(&zero, &ohv);
    let y0 = k.b.affine(&oy, strides[0] as i64, -(pads[0] as i64));
    let dy = k.b.affine(&ky, dilations[0] as i64, 0);
    let iy = k.b.iadd(&y0, &dy);
    let inside = k.b.in_range(&iy, h);
    k.b.if_(&inside);
    for (a, b) in [(&zero, &c0), (&c1, &owv)] {
        let ox = k.b.for_(a, b);
        k.b.store(&z, &o, &[r.clone(), oy.clone(), ox]);
        k.b.end_for();
    }
    let ox = k.b.for_(&c0, &c1);
    let ix = k.b.affine(&ox, strides[1] as i64, 0);
    let ix = k.b.iadd(&ix, &dx);
    let v = k.b.load(&x, &[plane.clone(), iy.clone(), ix]);
    k.b.store(&v, &o, &[r.clone(), oy.clone(), ox]);
    k.b.end_for();
    k.b.else_();
    let ox = k.b.for_(&zero, &owv);
    k.b.store(&z, &o, &[r.clone(), oy.clone(), ox]);
    k.b.end_for();
    k.b.end_if();
    k.b.end_for();
    k.b.end_for();
    Ok(())
}
