//! Pad: one loop nest over the output; on each padded dim the source index `s = o - begin` is
//! mapped per mode (constant: in-range test, edge: clamp, wrap: euclidean `s mod d`, reflect:
//! `j = s mod 2(d-1)`, `j >= d ? 2(d-1) - j : j`). Constant mode loads at the clamped index
//! and selects the pad value (operand 1, or 0) where any dim is out of range.

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
