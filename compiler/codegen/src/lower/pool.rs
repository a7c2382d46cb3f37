//! 2-D pooling, NCHW. MaxPool starts at -inf and skips padded cells; AvgPool sums real cells and
//! divides by `kH*kW` (count_include_pad) or by the number of real cells. Also the shared window
//! indexing used by Conv: `ih = oh*stride - pad_top + r*dilation`, clamped in bounds, with an
//! in-bounds flag only where padding can make it false.

use super::expect_float;
use crate::emit::{reg_ty, Kernel};
use crate::error::Result;

/// Window geometry over an input of spatial size `h x w`.
pub struct Window<'a> {
    pub strides: &'a [usize],
    pub pads: &'a [usize],
    pub dilations: &'a [usize],
    pub h: usize,
    pub w: usize,
}

/// Input row/col for output `(oh, ow)` and window cell `(r, s)`, clamped into the input, and the
/// in-bounds flag (None when no padding on either axis, so always in bounds).
pub fn window_index(
    k: &mut Kernel,
    win: &Window,
    oh: &str,
    ow: &str,
    r: &str,
    s: &str,
) -> (String, String, Option<String>) {
    let axis = |k: &mut Kernel, o: &str, c: &str, i: usize, n: usize| -> (String, Option<String>) {
        let base = k.b.affine(o, win.strides[i] as i64, -(win.pads[i] as i64));
        let off = k.b.affine(c, win.dilations[i] as i64, 0);
        let p = k.b.iadd(&base, &off);
        if win.pads[i] == 0 && win.pads[i + 2] == 0 {
            (p, None)
        } else {
            let inb = k.b.in_range(&p, n);
            (k.b.iclamp(&p, 0, n.max(1) as i64 - 1), Some(inb))
        }
    };
    let (ih, fh) = axis(k, oh, r, 0, win.h);
    let (iw, fw) = axis(k, ow, s, 1, win.w);
    let inb = match (fh, fw) {
        (Some(a), Some(b)) => Some(k.b.and(&a, &b)),
        (a, b) => a.or(b),
    };
    (ih, iw, inb)
}

pub fn lower_max(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    k: &mut Kernel,
) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    expect_float("MaxPool", x.dtype)?;
    let dt = x.dtype;
    let win = Window { strides, pads, dilations, h: x.shape[2], w: x.shape[3] };
    let nest = k.parallel_loops(&o.shape, &[]);
    let (n, c, oh, ow) = (nest.ivs[0].clone(), nest.ivs[1].clone(), nest.ivs[2].clone(), nest.ivs[3].clone());
    let ninf = k.b.cst(dt, f64::NEG_INFINITY);
    let mut ivs = vec![String::new(); 2];
    let r = k.reduce(kernel, &[0, 1], &mut ivs, vec![(ninf, reg_ty(dt).into())], &mut |k, ivs, acc| {
        let (ih, iw, inb) = window_index(k, &win, &oh, &ow, &ivs[0], &ivs[1]);
        let v = k.b.load(&x, &[n.clone(), c.clone(), ih, iw]);
        let m = k.b.max(&acc[0], &v, dt);
        vec![match inb {
            Some(inb) => k.b.select(&inb, &m, &acc[0], dt),
            None => m,
        }]
    })[0]
        .clone();
    k.b.store(&r, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}

pub fn lower_avg(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    count_include_pad: bool,
    k: &mut Kernel,
) -> Result<()> {
    let (x, o) = (k.param(0), k.param(1));
    expect_float("AvgPool", x.dtype)?;
    let dt = x.dtype;
    let t: String = reg_ty(dt).into();
    let dil = [1, 1];
    let win = Window { strides, pads, dilations: &dil, h: x.shape[2], w: x.shape[3] };
    let nest = k.parallel_loops(&o.shape, &[]);
    let (n, c, oh, ow) = (nest.ivs[0].clone(), nest.ivs[1].clone(), nest.ivs[2].clone(), nest.ivs[3].clone());
    let zero = k.b.cst(dt, 0.0);
    let one = k.b.cst(dt, 1.0);
    let mut ivs = vec![String::new(); 2];
    let inits = vec![(zero.clone(), t.clone()), (zero.clone(), t)];
    let r = k.reduce(kernel, &[0, 1], &mut ivs, inits, &mut |k, ivs, acc| {
        let (ih, iw, inb) = window_index(k, &win, &oh, &ow, &ivs[0], &ivs[1]);
        let v = k.b.load(&x, &[n.clone(), c.clone(), ih, iw]);
        let (v, one_if) = match inb {
            Some(inb) => (k.b.select(&inb, &v, &zero, dt), k.b.select(&inb, &one, &zero, dt)),
            None => (v, one.clone()),
        };
        vec![k.b.add(&acc[0], &v, dt), k.b.add(&acc[1], &one_if, dt)]
    });
    let den = if count_include_pad { k.b.cst(dt, (kernel[0] * kernel[1]) as f64) } else { r[1].clone() };
    let v = k.b.divf(&r[0], &den, dt);
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}
