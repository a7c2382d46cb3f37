//! Cast between any two dtypes: float->int truncates toward zero (`fptosi` for i32 / i64, whose
//! out-of-range and NaN inputs give an unspecified value where the interpreter saturates;
//! narrower and unsigned types through i64, wrapping as the interpreter does),
//! int->float `sitofp` / `uitofp` by the source's signedness, int->int `extsi` / `extui` / `trunci`,
//! ->bool `x != 0` (`cmpf une` / `cmpi ne`), bool->number `uitofp` / `extui`. f16 / bf16 values are
//! f32 in registers (see `emit::builder`): a cast to them rounds through `truncf` + `extf`, so the
//! value is the 16-bit one even before it is stored. f64 and integers go to f16 / bf16 through
//! f32 (as onnxruntime's Cast does; the interpreter matches).

use super::elementwise::map;
use crate::emit::{reg_ty, su, Builder, Kernel};
use crate::error::Result;
use kiln_ir::DType;

pub fn lower(to: DType, k: &mut Kernel) -> Result<()> {
    let from = k.param(0).dtype;
    map(k, &[0], 1, &mut |b, v| convert(b, &v[0], from, to));
    Ok(())
}

/// The value `v` of dtype `from` converted to `to` (both in their register types).
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
    let r = if f == t {
        // Same register type: f32 <-> f16 / bf16, or signed <-> unsigned of one width.
        v.to_string()
    } else {
        let op = match (from.is_float(), to.is_float()) {
            (true, true) if from == DType::F64 => "truncf".to_string(),
            (true, true) => "extf".to_string(),
            (true, false) => return float_to_int(b, v, from, to),
            (false, true) => format!("{}itofp", su(from)),
            (false, false) if from.bits() < to.bits() => format!("ext{}i", su(from)),
            (false, false) => "trunci".to_string(),
        };
        b.op(format!("arith.{op} {v} : {f} to {t}"))
    };
    if to.is_half() {
        let h = b.f32_to_half(&r, to);
        b.half_to_f32(&h, to)
    } else {
        r
    }
}

/// Float to integer, truncating toward zero: `fptosi` for i32 / i64; through i64 and `trunci`
/// for narrower types (wrapping, as the interpreter); u64 takes `fptoui` for non-negative
/// values and the i64 bits of negative ones.
fn float_to_int(b: &mut Builder, v: &str, from: DType, to: DType) -> String {
    let f = reg_ty(from);
    match to {
        DType::I32 | DType::I64 => b.op(format!("arith.fptosi {v} : {f} to {}", reg_ty(to))),
        DType::U64 => {
            let s = b.op(format!("arith.fptosi {v} : {f} to i64"));
            let u = b.op(format!("arith.fptoui {v} : {f} to i64"));
            let z = b.cst(from, 0.0);
            let neg = b.op(format!("arith.cmpf olt, {v}, {z} : {f}"));
            b.select(&neg, &s, &u, to)
        }
        _ => {
            let s = b.op(format!("arith.fptosi {v} : {f} to i64"));
            b.op(format!("arith.trunci {s} : i64 to {}", reg_ty(to)))
        }
    }
}
