//! Pad: one loop nest over the output; on each padded dim the source index `s = o - begin` is
//! mapped per mode (constant: in-range test, edge: clamp, wrap: euclidean `s mod d`, reflect:
//! `j = s mod 2(d-1)`, `j >= d ? 2(d-1) - j : j`). Constant mode loads at the clamped index
//! and selects the pad value (operand 1, or 0) where any dim is out of range.
//!
//! f32 constant padding (the frame conv-pad-input and conv-space-to-depth put around a
//! convolution's input) runs a row at a time instead: `W` output elements per vector, each a
//! masked load of the source row (lanes outside it, or the whole vector on a padded row, take
//! the pad value) and one store.

use crate::emit::Kernel;
use crate::error::Result;
use kiln_ir::op::PadMode;

/// Euclidean `a mod p` on indices (`p > 0`).
fn emod(k: &mut Kernel, a: &str, p: usize) -> String {
    let pp = k.b.idx(p as i64);
    let r = k.b.op(format!("arith.remsi {a}, {pp} : index"));
    let r = k.b.iadd(&r, &pp);
    k.b.op(format!("arith.remsi {r}, {pp} : index"))
}

pub fn lower(pads: &[i64], mode: PadMode, k: &mut Kernel, n_in: usize) -> Result<()> {
    let x = k.param(0);
    let o = k.param(n_in);
    let dt = x.dtype;
    let r = x.rank();
    if mode == PadMode::Constant
        && dt == kiln_ir::DType::F32
        && r >= 1
        && !x.shape.contains(&0)
        && !o.shape.contains(&0)
    {
        constant_rows(pads, k, n_in);
        return Ok(());
    }
    let nest = k.parallel_loops(&o.shape, &[]);
    let empty = x.shape.contains(&0);
    let mut src = Vec::with_capacity(r);
    let mut inb: Option<String> = None;
    for d in 0..r {
        let (b, e, n) = (pads[d], pads[d + r], x.shape[d]);
        if (b == 0 && e == 0) || empty {
            src.push(nest.ivs[d].clone());
            continue;
        }
        let s = k.b.affine(&nest.ivs[d], 1, -b);
        let i = match mode {
            PadMode::Constant => {
                let ok = k.b.in_range(&s, n);
                inb = Some(match inb {
                    Some(prev) => k.b.and(&prev, &ok),
                    None => ok,
                });
                k.b.iclamp(&s, 0, n as i64 - 1)
            }
            PadMode::Edge => k.b.iclamp(&s, 0, n as i64 - 1),
            PadMode::Wrap => emod(k, &s, n),
            PadMode::Reflect if n == 1 => k.b.idx(0),
            PadMode::Reflect => {
                let p = 2 * (n - 1);
                let j = emod(k, &s, p);
                let nn = k.b.idx(n as i64);
                let ge = k.b.icmp("sge", &j, &nn);
                let pj = k.b.idx(p as i64);
                let m = k.b.isub(&pj, &j);
                k.b.op(format!("arith.select {ge}, {m}, {j} : index"))
            }
        };
        src.push(i);
    }
    let value = if mode == PadMode::Constant && n_in > 1 {
        let vm = k.param(1);
        let zero = k.b.idx(0);
        k.b.load(&vm, &vec![zero; vm.rank()])
    } else {
        k.b.cst(dt, 0.0)
    };
    let v = if empty {
        value
    } else {
        let v = k.b.load(&x, &src);
        match inb {
            Some(c) => k.b.select(&c, &v, &value, dt),
            None => v,
        }
    };
    k.b.store(&v, &o, &nest.ivs);
    k.close(nest);
    Ok(())
}

/// Constant f32 padding by rows of the innermost dim, `W` lanes at a time (see the module doc).
fn constant_rows(pads: &[i64], k: &mut Kernel, n_in: usize) {
    let (x, o) = (k.param(0), k.param(n_in));
    let r = x.rank();
    let w = k.f32_lanes;
    let (vty, mty) = (format!("vector<{w}xf32>"), format!("vector<{w}xi1>"));
    let value = if n_in > 1 {
        let vm = k.param(1);
        let zero = k.b.idx(0);
        k.b.load(&vm, &vec![zero; vm.rank()])
    } else {
        k.b.cst(kiln_ir::DType::F32, 0.0)
    };
    let fill = k.b.op(format!("vector.broadcast {value} : f32 to {vty}"));
    let (xf, of) = (k.flat(&x), k.flat(&o));
    let nest = k.parallel_loops(&o.shape, &[r - 1]);
    // This row's source offset (indices clamped: a padded row reads nothing) and validity.
    let (mut src, mut dst) = (k.b.idx(0), k.b.idx(0));
    let mut row_ok: Option<String> = None;
    let (xs, os) = (kiln_ir::ops::index::strides(&x.shape), kiln_ir::ops::index::strides(&o.shape));
    for d in 0..r - 1 {
        let iv = &nest.ivs[d];
        let sd = k.b.affine(iv, 1, -pads[d]);
        if pads[d] != 0 || pads[d + r] != 0 {
            let ok = k.b.in_range(&sd, x.shape[d]);
            row_ok = Some(match row_ok {
                Some(prev) => k.b.and(&prev, &ok),
                None => ok,
            });
        }
        let sc = k.b.iclamp(&sd, 0, x.shape[d] as i64 - 1);
        let so = k.b.affine(&sc, xs[d] as i64, 0);
        src = k.b.iadd(&src, &so);
        let oo = k.b.affine(iv, os[d] as i64, 0);
        dst = k.b.iadd(&dst, &oo);
    }
    let (begin, n, on) = (pads[r - 1], x.shape[r - 1], o.shape[r - 1]);
    let iv = super::gemm_pack::IdxVec::new(w, "i32");
    let iota = iv.lanes(k, 1);
    let (zero_v, n_v) = (iv.splat_const(k, 0), iv.splat_const(k, n as i64));
    let none = k.b.typed_const("dense<false>", &mty);
    let chunk = |k: &mut Kernel, j0: &str, tail: Option<usize>| {
        // Source column of lane i: j0 - begin + i; lanes outside [0, n) take the pad value.
        let s0 = k.b.affine(j0, 1, -begin);
        let sv = iv.splat(k, &s0);
        let sv = iv.bin(k, "addi", &sv, &iota);
        let lo = iv.cmp(k, "sge", &sv, &zero_v);
        let hi = iv.cmp(k, "slt", &sv, &n_v);
        let mut mask = k.b.op(format!("arith.andi {lo}, {hi} : {mty}"));
        if let Some(ok) = &row_ok {
            mask = k.b.op(format!("arith.select {ok}, {mask}, {none} : {mty}"));
        }
        // The masked-off lanes (those before the row's start among them) are never accessed.
        let at = k.b.iadd(&src, &s0);
        let v = k.b.op(format!(
            "vector.maskedload {}[{at}], {mask}, {fill} : {}, {mty}, {vty} into {vty}",
            xf.name,
            xf.memref_ty()
        ));
        let to = k.b.iadd(&dst, j0);
        match tail {
            None => k.b.line(format!("vector.store {v}, {}[{to}] : {}, {vty}", of.name, of.memref_ty())),
            Some(cnt) => {
                let c = k.b.idx(cnt as i64);
                let m = k.b.op(format!("vector.create_mask {c} : {mty}"));
                k.b.line(format!("vector.maskedstore {}[{to}], {m}, {v} : {}, {mty}, {vty}", of.name, of.memref_ty()));
            }
        }
    };
    let full = on / w * w;
    if full > 0 {
        let (lo, hi, step) = (k.b.idx(0), k.b.idx(full as i64), k.b.idx(w as i64));
        let j0 = k.b.for_step(&lo, &hi, &step);
        chunk(k, &j0, None);
        k.b.end_for();
    }
    if on > full {
        let j0 = k.b.idx(full as i64);
        chunk(k, &j0, Some(on - full));
    }
    k.close(nest);
}
