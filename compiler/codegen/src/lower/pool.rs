//! 2-D pooling, NCHW. MaxPool starts at -inf and skips padded cells (f32: `W` output columns at a
//! time, per window cell contiguous masked loads at stride 1 or 2, else a masked
//! `vector.gather`); AvgPool sums real cells and
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
    if dt == kiln_ir::DType::F32 && x.shape.iter().product::<usize>() < i32::MAX as usize {
        max_f32_rows(kernel, &win, k);
        return Ok(());
    }
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

/// f32 MaxPool, `W` output columns of one output row at a time: per window cell the input
/// values of the `W` windows (-inf where the cell is padding or the column is past the row),
/// maxed into the running vector. At stride 1 or 2 without dilation they come from contiguous
/// masked loads (and, at stride 2, a shuffle keeping the even lanes of two vectors); otherwise
/// from a masked `vector.gather`.
fn max_f32_rows(kernel: &[usize], win: &Window, k: &mut Kernel) {
    let (x, o) = (k.param(0), k.param(1));
    let lanes = k.f32_lanes;
    let (h, w) = (win.h, win.w);
    let ow = o.shape[3];
    let (vty, mty, ity) =
        (format!("vector<{lanes}xf32>"), format!("vector<{lanes}xi1>"), format!("vector<{lanes}xi32>"));
    let flat = k.flat(&x);
    let nest = k.parallel_loops(&o.shape, &[3]);
    let (n, c, oh) = (nest.ivs[0].clone(), nest.ivs[1].clone(), nest.ivs[2].clone());
    let plane = k.b.affine(&n, x.shape[1] as i64, 0);
    let plane = k.b.iadd(&plane, &c);
    let plane = k.b.affine(&plane, (h * w) as i64, 0);
    let iota = super::gemm_pack::IdxVec::new(lanes, "i32").lanes(k, 1);
    let splat = |k: &mut Kernel, v: &str| {
        let s = k.b.op(format!("arith.index_cast {v} : index to i32"));
        k.b.op(format!("vector.broadcast {s} : i32 to {ity}"))
    };
    let cst = |k: &mut Kernel, v: i64| k.b.typed_const(&format!("dense<{v}>"), &ity);
    let ninf = k.b.typed_const("dense<0xFF800000>", &vty);
    let (zero, step) = (k.b.idx(0), k.b.idx(lanes as i64));
    let owv = k.b.idx(ow as i64);
    let ow0 = k.b.for_step(&zero, &owv, &step);
    let ow0v = splat(k, &ow0);
    let cols = k.b.op(format!("arith.addi {ow0v}, {iota} : {ity}"));
    let (owc, wc, zc) = (cst(k, ow as i64), cst(k, w as i64), cst(k, 0));
    let inside = k.b.op(format!("arith.cmpi slt, {cols}, {owc} : {ity}"));
    let (sw, pl) = (cst(k, win.strides[1] as i64), cst(k, win.pads[1] as i64));
    let x0 = k.b.op(format!("arith.muli {cols}, {sw} : {ity}"));
    let x0 = k.b.op(format!("arith.subi {x0}, {pl} : {ity}"));
    let mut acc = ninf.clone();
    for r in 0..kernel[0] {
        // Input row of this window row, and whether it lies inside the image.
        let ih = k.b.affine(&oh, win.strides[0] as i64, (r * win.dilations[0]) as i64 - win.pads[0] as i64);
        let row_in = k.b.in_range(&ih, h);
        let ihc = k.b.iclamp(&ih, 0, h as i64 - 1);
        let row_ok = k.b.op(format!("vector.broadcast {row_in} : i1 to {mty}"));
        let row_in = k.b.op(format!("arith.andi {row_ok}, {inside} : {mty}"));
        let rbase = k.b.affine(&ihc, w as i64, 0);
        let rbase = k.b.iadd(&rbase, &plane);
        let sw = win.strides[1];
        if win.dilations[1] == 1 && sw <= 2 {
            // Contiguous loads instead of gathers: cell `s` of the `W` windows reads input
            // columns `b + s + sw*i` (-inf outside the row).
            let b = k.b.affine(&ow0, sw as i64, -(win.pads[1] as i64));
            for s in 0..kernel[1] {
                let start = k.b.affine(&b, 1, s as i64);
                let g = super::row_loads::strided(k, &flat, &rbase, &start, w, sw, &row_ok, &ninf);
                acc = k.b.op(format!("arith.maximumf {acc}, {g} : {vty}"));
            }
            continue;
        }
        for s in 0..kernel[1] {
            let dx = cst(k, (s * win.dilations[1]) as i64);
            let iw = k.b.op(format!("arith.addi {x0}, {dx} : {ity}"));
            let ge = k.b.op(format!("arith.cmpi sge, {iw}, {zc} : {ity}"));
            let lt = k.b.op(format!("arith.cmpi slt, {iw}, {wc} : {ity}"));
            let m = k.b.op(format!("arith.andi {ge}, {lt} : {mty}"));
            let m = k.b.op(format!("arith.andi {m}, {row_in} : {mty}"));
            let g = k.b.op(format!(
                "vector.gather {}[{rbase}][{iw}], {m}, {ninf} : {}, {ity}, {mty}, {vty} into {vty}",
                flat.name,
                flat.memref_ty()
            ));
            acc = k.b.op(format!("arith.maximumf {acc}, {g} : {vty}"));
        }
    }
    // Store the columns inside the row (a masked store past OW).
    let idx = [n.clone(), c.clone(), oh.clone(), ow0.clone()];
    k.b.line(format!(
        "vector.maskedstore {}[{}], {inside}, {acc} : {}, {mty}, {vty}",
        o.name,
        idx.join(", "),
        o.memref_ty()
    ));
    k.b.end_for();
    k.close(nest);
}
