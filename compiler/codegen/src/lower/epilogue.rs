//! A fused epilogue: the elementwise ops that follow a tiled product (MatMul, Gemm, Conv) or a
//! Winograd output transform in the
//! graph (activations, residual adds, scales; chosen by `crate::fusion`) run inside the
//! product's kernel, over the rectangle each workgroup has just written and while it is still in
//! cache, instead of as kernels of their own that each re-read and re-write the whole tensor.
//! The other operand of a binary op has the output's shape (same flat order), so it is read
//! through the same view as the output.

use super::gemm_tiled::Tiled;
use super::{gemm, matmul, unary};
use crate::emit::{Kernel, Mem};
use crate::error::{CodegenError, Result};
use kiln_ir::{BinaryOp, Graph, NodeIndex, Op, UnaryOp};

/// One epilogue op: a unary op on the running value, or a binary op between the running value
/// and kernel parameter `other` (`value_first`: the running value is the left operand).
#[derive(Clone, Debug)]
pub enum EpOp {
    Unary(UnaryOp),
    Binary { op: BinaryOp, other: usize, value_first: bool },
}

/// Unary ops an epilogue applies.
pub fn unary_ok(u: UnaryOp) -> bool {
    use UnaryOp::*;
    matches!(u, Relu | Sigmoid | Silu | Gelu | GeluTanh | Tanh | Exp | Neg | Abs | Sqrt | Reciprocal)
}

/// Binary ops an epilogue applies.
pub fn binary_ok(op: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(op, Add | Sub | Mul | Div | Max | Min)
}

/// Lower `producer` (a MatMul, Gemm or Conv on the tiled kernel) with `ops` applied to its
/// result. The kernel's parameters: the producer's `n_prod` inputs, then the epilogue's other
/// operands, then the output (at `out`).
pub fn lower_fused(
    graph: &Graph,
    producer: NodeIndex,
    ops: &[EpOp],
    k: &mut Kernel,
    n_prod: usize,
    out: usize,
) -> Result<()> {
    let node = graph.node(producer);
    let shape = node.outputs[0].ty.shape.clone();
    k.view(out, shape);
    let tiled = match &node.op {
        Op::MatMul => matmul::lower(k, out)?,
        Op::Gemm { alpha, beta, trans_a, trans_b } => gemm::lower(*alpha, *beta, *trans_a, *trans_b, k, n_prod, out)?,
        Op::Conv { strides, pads, dilations, group } => {
            super::conv::lower(strides, pads, dilations, *group, k, n_prod, out)?
        }
        Op::WinogradOutput { out: dims } => Some(super::winograd::lower_output(dims, k, n_prod, out)?),
        op => return Err(super::unsupported(op, "has no fused epilogue")),
    };
    let t = tiled
        .ok_or_else(|| CodegenError::new(format!("{}: fused epilogue without the tiled kernel", node.op.name())))?;
    apply(k, ops, &t);
    Ok(())
}

/// Apply `ops` in place over what the workgroup wrote: its rectangle of `t.o`, or strip by strip
/// over its units.
fn apply(k: &mut Kernel, ops: &[EpOp], t: &Tiled) {
    let others: Vec<_> = ops
        .iter()
        .map(|op| match op {
            EpOp::Binary { other, .. } => Some(k.view(*other, t.o.shape.clone())),
            EpOp::Unary(_) => None,
        })
        .collect();
    let r = &t.region;
    let batched = t.o.rank() == 3;
    let bi = batched.then(|| k.b.for_(&r.b0, &r.b1));
    match &r.units {
        None => rect(k, ops, &others, t, bi.as_deref(), [&r.r0, &r.r1, &r.c0, &r.c1]),
        Some(u) => {
            let (s0, s1) = u.strips(k);
            let s = k.b.for_(&s0, &s1);
            let (t0, t1) = u.tiles_of(k, &s);
            let (r_end, c_end) = (k.b.idx(u.r_end as i64), k.b.idx(u.c_end as i64));
            let r0 = k.b.affine(&s, u.rows as i64, 0);
            let r1 = k.b.affine(&s, u.rows as i64, u.rows as i64);
            let r1 = k.b.imin(&r1, &r_end);
            let c0 = k.b.affine(&t0, u.cols as i64, 0);
            let c0 = k.b.imin(&c0, &c_end);
            let c1 = k.b.affine(&t1, u.cols as i64, 0);
            let c1 = k.b.imin(&c1, &c_end);
            rect(k, ops, &others, t, bi.as_deref(), [&r0, &r1, &c0, &c1]);
            k.b.end_for();
        }
    }
    if batched {
        k.b.end_for();
    }
}

/// `ops` over rows `[r0, r1)` x columns `[c0, c1)` of `t.o` (of batch `bi` when batched).
fn rect(
    k: &mut Kernel,
    ops: &[EpOp],
    others: &[Option<Mem>],
    t: &Tiled,
    bi: Option<&str>,
    [r0, r1, c0, c1]: [&String; 4],
) {
    let dt = t.o.dtype;
    let i = k.b.for_(r0, r1);
    let j = k.b.for_(c0, c1);
    let idx: Vec<String> = bi.map(str::to_string).into_iter().chain([i, j]).collect();
    let mut v = k.b.load(&t.o, &idx);
    for (op, other) in ops.iter().zip(others) {
        v = match op {
            EpOp::Unary(u) => unary::float(&mut k.b, *u, &v, dt),
            EpOp::Binary { op, value_first, .. } => {
                let w = k.b.load(other.as_ref().expect("binary epilogue operand"), &idx);
                let (x, y) = if *value_first { (v.as_str(), w.as_str()) } else { (w.as_str(), v.as_str()) };
                match op {
                    BinaryOp::Add => k.b.add(x, y, dt),
                    BinaryOp::Sub => k.b.sub(x, y, dt),
                    BinaryOp::Mul => k.b.mul(x, y, dt),
                    BinaryOp::Div => k.b.divf(x, y, dt),
                    BinaryOp::Max => k.b.max(x, y, dt),
                    BinaryOp::Min => k.b.op(format!("arith.minimumf {x}, {y} : f32")),
                    _ => unreachable!("binary_ok admits only the ops above"),
                }
            }
        };
    }
    k.b.store(&v, &t.o, &idx);
    k.b.end_for();
    k.b.end_for();
}
