//! Im2Col: `x [N, C, H, W]` to `[N, C*kH*kW, OH*OW]`. Workgroups split the `N*C*kH*kW` rows; per
//! row (one channel and tap) and output row `oy`: for f32 at column stride 1 or 2 without
//! column dilation, vectors of output columns from contiguous masked loads (every other lane
//! kept at stride 2; conv-space-to-depth's phase split and the stem's patches are this case);
//! otherwise the columns whose input lies inside the image are a strided copy between
//! zero-filled borders, the range computed per tap rather than tested per element; rows reading
//! vertical padding are zero.

use super::expect_float;
use crate::emit::{Kernel, Mem};
use crate::error::Result;
use kiln_ir::DType;

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
    if dt == DType::F32 && dilations[1] == 1 && strides[1] <= 2 {
        let row = Row { plane: &plane, iy: &iy, inside: &inside, r: &r, oy: &oy, dx: &dx };
        vector_row(k, &x, &o, strides[1], &row);
        k.b.end_for();
        k.b.end_for();
        return Ok(());
    }
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

/// One output row's operands: input plane, input row `iy` (and whether it is inside the
/// image), output row `(r, oy)`, and the column offset `dx` (input column = `ox * sw + dx`).
struct Row<'a> {
    plane: &'a str,
    iy: &'a str,
    inside: &'a str,
    r: &'a str,
    oy: &'a str,
    dx: &'a str,
}

/// An f32 output row `W` columns at a time, read by [`super::row_loads::strided`] (zero where
/// the column reads padding or the row is outside the image); a masked store past the row's end.
fn vector_row(k: &mut Kernel, x: &Mem, o: &Mem, sw: usize, row: &Row) {
    let lanes = k.f32_lanes;
    let (h, w, ow) = (x.shape[1], x.shape[2], o.shape[2]);
    let (vty, mty, ity) =
        (format!("vector<{lanes}xf32>"), format!("vector<{lanes}xi1>"), format!("vector<{lanes}xi32>"));
    let flat = k.flat(x);
    let iota = super::gemm_pack::IdxVec::new(lanes, "i32").lanes(k, 1);
    let splat = |k: &mut Kernel, v: &str| {
        let s = k.b.op(format!("arith.index_cast {v} : index to i32"));
        k.b.op(format!("vector.broadcast {s} : i32 to {ity}"))
    };
    let zv = k.b.typed_const("dense<0.000000e+00>", &vty);
    let owc = k.b.typed_const(&format!("dense<{ow}>"), &ity);
    let row_ok = k.b.op(format!("vector.broadcast {} : i1 to {mty}", row.inside));
    let ihc = k.b.iclamp(row.iy, 0, h as i64 - 1);
    let rbase = k.b.affine(row.plane, h as i64, 0);
    let rbase = k.b.iadd(&rbase, &ihc);
    let rbase = k.b.affine(&rbase, w as i64, 0);
    let (zero, step, owv) = (k.b.idx(0), k.b.idx(lanes as i64), k.b.idx(ow as i64));
    let ox0 = k.b.for_step(&zero, &owv, &step);
    let ox0v = splat(k, &ox0);
    let cols = k.b.op(format!("arith.addi {ox0v}, {iota} : {ity}"));
    let in_row = k.b.op(format!("arith.cmpi slt, {cols}, {owc} : {ity}"));
    let b = k.b.affine(&ox0, sw as i64, 0);
    let b = k.b.iadd(&b, row.dx);
    let g = super::row_loads::strided(k, &flat, &rbase, &b, w, sw, &row_ok, &zv);
    k.b.line(format!(
        "vector.maskedstore {}[{}, {}, {ox0}], {in_row}, {g} : {}, {mty}, {vty}",
        o.name,
        row.r,
        row.oy,
        o.memref_ty()
    ));
    k.b.end_for();
}
