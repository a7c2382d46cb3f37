//! Reduce Sum / Mean / Prod / Max / Min over sorted axes. The output is viewed with kept
//! (size-1) reduced dims, so output and input share index positions. Max/Min use the
//! NaN-propagating `maximumf`/`minimumf` for floats, `maxsi`/`minsi` (`maxui`/`minui` unsigned)
//! for ints, `ori`/`andi` for bool; empty reductions give their identity (-inf / the int minimum
//! / false for Max, and the mirror for Min, 1 for Prod; `Builder::cst` saturates infinities to
//! the int range). Mean divides by the reduced count (`divsi` / `divui` for ints, truncating;
//! an empty reduction of ints divides by 1). Workgroups partition a kept dim.

use crate::emit::{reg_ty, su, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::{DType, ReduceOp};

/// The identity of `op` in dtype `dt`, as an f64 for `Builder::cst` (which saturates ints).
fn identity(op: ReduceOp, dt: DType) -> f64 {
    match (op, dt) {
        (ReduceOp::Sum | ReduceOp::Mean, _) => 0.0,
        (ReduceOp::Prod, _) => 1.0,
        (ReduceOp::Max, DType::Bool) => 0.0,
        (ReduceOp::Min, DType::Bool) => 1.0,
        (ReduceOp::Max, DType::I32) => i32::MIN as f64,
        (ReduceOp::Min, DType::I32) => i32::MAX as f64,
        (ReduceOp::Max, DType::I64) => i64::MIN as f64,
        (ReduceOp::Min, DType::I64) => i64::MAX as f64,
        (ReduceOp::Max, _) => f64::NEG_INFINITY,
        (ReduceOp::Min, _) => f64::INFINITY,
    }
}

/// `acc <op> v` in dtype `dt`.
fn combine(k: &mut Kernel, op: ReduceOp, acc: &str, v: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    let name = match (op, dt) {
        (ReduceOp::Sum | ReduceOp::Mean, _) => return k.b.add(acc, v, dt),
        (ReduceOp::Prod, _) => return k.b.mul(acc, v, dt),
        (ReduceOp::Max, DType::Bool) => "ori",
        (ReduceOp::Min, DType::Bool) => "andi",
        (ReduceOp::Max, d) if d.is_float() => "maximumf",
        (ReduceOp::Min, d) if d.is_float() => "minimumf",
        (ReduceOp::Max, d) => return k.b.max(acc, v, d),
        (ReduceOp::Min, d) if d.is_unsigned() => "minui",
        (ReduceOp::Min, _) => "minsi",
    };
    k.b.op(format!("arith.{name} {acc}, {v} : {t}"))
}

pub fn lower(op: ReduceOp, axes: &[usize], k: &mut Kernel) -> Result<()> {
    let x = k.param(0);
    let dt = x.dtype;
    if dt == DType::Bool && !matches!(op, ReduceOp::Max | ReduceOp::Min) {
        return Err(CodegenError::new("Reduce: bool tensors support only Max and Min"));
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
        let init = k.b.cst(dt, identity(op, dt));
        k.reduce(&shape, axes, &mut ivs, vec![(init, reg_ty(dt).to_string())], &mut |k, ivs, acc| {
            let v = k.b.load(&x, ivs);
            vec![combine(k, op, &acc[0], &v, dt)]
        })[0]
            .clone()
    };
    let r = match op {
        ReduceOp::Mean if axes.is_empty() => r,
        ReduceOp::Mean if dt.is_float() => {
            let c = k.b.cst(dt, count as f64);
            k.b.divf(&r, &c, dt)
        }
        ReduceOp::Mean => {
            let c = k.b.cst(dt, count.max(1) as f64);
            k.b.op(format!("arith.div{}i {r}, {c} : {}", su(dt), reg_ty(dt)))
        }
        _ => r,
    };
    k.b.store(&r, &o, &out_ivs);
    k.close(nest);
    Ok(())
}
