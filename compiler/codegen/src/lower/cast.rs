//! Cast between any two dtypes: float->int `fptosi` (truncates toward zero; out-of-range and NaN
//! inputs give an unspecified value where the interpreter saturates), int->float `sitofp`,
//! ->bool `x != 0` (`cmpf une` / `cmpi ne`), bool->number `uitofp` / `extui`.

use super::elementwise::map;
use crate::emit::{reg_ty, Builder, Kernel};
use crate::error::Result;
use kiln_ir::DType;

pub fn lower(to: DType, k: &mut Kernel) -> Result<()> {
    let from = k.param(0).dtype;
    map(k, &[0], 1, &mut |b, v| convert(b, &v[0], from, to));
    Ok(())
}

/// The value `v` of dtype `from` converted to `to`.
pub fn convert(b: &mut Builder, v: &str, from: DType, to: DType) -> String {
    let (f, t) = (reg_ty(from), reg_ty(to));
    if from == to {
        return v.to_string();
    }
    if to == DType::Bool {
        let z = b.cst(from, 0.0);
        return if from.is_float() {
            b.op(format!("arith.cmpf une, {v}, {z} : {f}"))
        } else {
            b.op(format!("arith.cmpi ne, {v}, {z} : {f}"))
        };
    }
    let op = match (from, to) {
        (DType::Bool, t) if t.is_float() => "uitofp",
        (DType::Bool, _) => "extui",
        (a, b2) if a.is_float() && b2.is_float() => {
            if a.size_bytes() < b2.size_bytes() {
                "extf"
            } else {
                "truncf"
            }
        }
        (a, _) if a.is_float() => "fptosi",
        (_, b2) if b2.is_float() => "sitofp",
        (a, b2) => {
            if a.size_bytes() < b2.size_bytes() {
                "extsi"
            } else {
                "trunci"
            }
        }
    };
    b.op(format!("arith.{op} {v} : {f} to {t}"))
}
