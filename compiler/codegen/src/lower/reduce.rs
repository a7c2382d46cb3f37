//! ReduceSum / ReduceMean over sorted axes. The output is viewed with kept (size-1) reduced dims,
//! so output and input share index positions. Mean divides by the reduced count (`divsi` for
//! ints, truncating; an empty reduction of ints divides by 1). Workgroups partition a kept dim.

use crate::emit::{reg_ty, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::{DType, ReduceOp};

pub fn lower(op: ReduceOp, axes: &[usize], k: &mut Kernel) -> Result<()> {
    let x = k.param(0);
    let dt = x.dtype;
    if dt == DType::Bool {
        return Err(CodegenError::new("Reduce: bool tensors are not supported"));
    }
    let shape = x.shape.clone();
    let kept: Vec<usize> = shape.iter().enumerate().map(|(d, &n)| if axes.contains(&d) { 1 } else { n }).collect();
    let o = k.view(1, kept);
    let count: usize = axes.iter().map(|&a| shape[a]).product();
    let nest = k.parallel_loops(&shape, axes);
    let mut ivs = nest.ivs.clone();
    let out_ivs = nest.ivs.clone();

    let r = if axes.is_empty() {
        k.b.load(&x, &ivs)
    } else {
        let zero = k.b.cst(dt, 0.0);
        k.reduce(&shape, axes, &mut ivs, vec![(zero, reg_ty(dt).to_string())], &mut |k, ivs, acc| {
            let v = k.b.load(&x, ivs);
            vec![k.b.add(&acc[0], &v, dt)]
        })[0]
            .clone()
    };
    let r = match op {
        ReduceOp::Sum => r,
        ReduceOp::Mean if axes.is_empty() => r,
        ReduceOp::Mean if dt.is_float() => {
            let c = k.b.cst(dt, count as f64);
            k.b.divf(&r, &c, dt)
        }
        ReduceOp::Mean => {
            let c = k.b.cst(dt, count.max(1) as f64);
            k.b.op(format!("arith.divsi {r}, {c} : {}", reg_ty(dt)))
        }
    };
    k.b.store(&r, &o, &out_ivs);
    k.close(nest);
    Ok(())
}
