//! 2-D convolution, NCHW. f32 convolutions with at least two output channels per group run as
//! the tiled matrix product `y[img*G + g] = w[g] @ im2col(x[img], g) + b[g]` (`w[g]` is
//! `[M/G, Cg*kh*kw]`, the im2col matrix is gathered while packing, never stored). Others (f64,
//! depthwise) run as direct loops: n, m, oh, ow (parallel), then c within the group, kh, kw
//! accumulating `x[n, g*Cg + c, ih, iw] * w[m, c, kh, kw]`; padded cells read as 0 (the index is
//! clamped and the value selected, so no out-of-bounds load). Bias is added after the sum.

use super::conv_direct::ConvTaps;
use super::expect_float;
use super::gemm_pack::{BSource, Im2Col};
use super::gemm_tiled::{self, Bias, Product, Tiled};
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
    out: usize,
) -> Result<Option<Tiled>> {
    let (x, w, o) = (k.param(0), k.param(1), k.param(out));
    let bias = (n_in == 3).then(|| k.param(2));
    expect_float("Conv", x.dtype)?;
    let dt = x.dtype;
    let (h, wd) = (x.shape[2], x.shape[3]);
    // Weights packed at compile time are 1-D; the plan keeps their shape.
    let ws = k.prepacked_a.clone().unwrap_or_else(|| w.shape.clone());
    let (m_total, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
    let m_per_group = m_total / group.max(1);
    if takes_tiled(dt, m_total, group) && super::conv_direct::applies(dt, strides, pads, group, &o.shape) {
        return Ok(Some(direct(dilations, [m_total, cg, kh, kw], k, n_in, out)));
    }
    if takes_tiled(dt, m_total, group) {
        let win = ConvWindow { strides, pads, dilations, groups: group.max(1), weights: [m_total, cg, kh, kw] };
        return Ok(Some(im2col(&win, k, n_in, out)));
    }
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
    Ok(None)
}

/// Whether a Conv runs on the tiled kernel: f32 with at least two output channels per group.
pub fn takes_tiled(dt: kiln_ir::DType, out_channels: usize, group: usize) -> bool {
    dt == kiln_ir::DType::F32 && out_channels / group.max(1) >= 2
}

/// A convolution's geometry and its weights' shape `[M, C/groups, kH, kW]` (read from the plan
/// when the weights arrive packed, 1-D).
struct ConvWindow<'a> {
    strides: &'a [usize],
    pads: &'a [usize],
    dilations: &'a [usize],
    groups: usize,
    weights: [usize; 4],
}

/// The convolution as one batched tiled product over (image, group).
fn im2col(win: &ConvWindow, k: &mut Kernel, n_in: usize, out: usize) -> Tiled {
    let ConvWindow { strides, pads, dilations, groups, weights: [m_total, cg, kh, kw] } = *win;
    let (x, o) = (k.param(0), k.param(out));
    let (images, oh, ow) = (o.shape[0], o.shape[2], o.shape[3]);
    let (mg, depth, pixels) = (m_total / groups, cg * kh * kw, oh * ow);
    // One-group constant weights arrive packed at compile time (1-D row-tile micro-panels).
    let a_packed = k.prepacked_a.is_some();
    let a = if a_packed {
        k.param(1)
    } else if groups == 1 {
        k.view(1, vec![mg, depth])
    } else {
        k.view(1, vec![groups, mg, depth])
    };
    let batch = images * groups;
    let o = if batch == 1 { k.view(out, vec![mg, pixels]) } else { k.view(out, vec![batch, mg, pixels]) };
    let bias = (n_in == 3).then(|| {
        let mem = if groups == 1 { k.view(2, vec![mg]) } else { k.view(2, vec![groups, mg]) };
        Bias { mem, per_row: true }
    });
    let b = BSource::Im2Col(Im2Col {
        x,
        groups,
        cg,
        kernel: [kh, kw],
        strides: [strides[0], strides[1]],
        pads: [pads[0], pads[1]],
        dilations: [dilations[0], dilations[1]],
        out_w: ow,
    });
    let p = Product { a, b, o, m: mg, n: pixels, k: depth, trans_a: false, a_packed, a_batch_stride: 0, batch, bias };
    let region = gemm_tiled::emit(k, &p);
    Tiled { o: p.o, region }
}

/// An unpadded stride-1 one-group convolution, read in place ([`super::conv_direct`]); weights
/// packed at compile time cover the taps the plan chose (`Kernel::conv_taps`), others all.
fn direct(dilations: &[usize], [m, cg, kh, kw]: [usize; 4], k: &mut Kernel, n_in: usize, out: usize) -> Tiled {
    let (x, o) = (k.param(0), k.param(out));
    let (images, oh, ow) = (o.shape[0], o.shape[2], o.shape[3]);
    let a_packed = k.prepacked_a.is_some();
    let taps = match (&k.conv_taps, a_packed) {
        (Some(t), true) => t.clone(),
        _ => ConvTaps::dense(kh, kw),
    };
    let a = if a_packed { k.param(1) } else { k.view(1, vec![m, cg * kh * kw]) };
    let o = if images == 1 { k.view(out, vec![m, oh * ow]) } else { k.view(out, vec![images, m, oh * ow]) };
    let bias = (n_in == 3).then(|| k.view(2, vec![m]));
    let d = super::conv_direct::DirectConv {
        x,
        a,
        a_packed,
        o,
        out_hw: [oh, ow],
        bias,
        m,
        dilations: [dilations[0], dilations[1]],
        taps,
        pixel_rows: a_packed && k.conv_pixel_rows,
    };
    super::conv_direct::emit(k, &d)
}
