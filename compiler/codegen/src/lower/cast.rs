//! Cast between any two dtypes: float->int `fptosi` / `fptoui` (truncates toward zero;
//! out-of-range and NaN inputs give an unspecified value where the interpreter saturates),
//! int->float `sitofp` / `uitofp` by the source's signedness, int->int `extsi` / `extui` / `trunci`,
//! ->bool `x != 0` (`cmpf une` / `cmpi ne`), bool->number `uitofp` / `extui`. f16 / bf16 values are
//! f32 in registers (see `emit::builder`): a cast to them rounds through `truncf` + `extf`, so the
//! value is the 16-bit one even before it is stored. An integer goes to f16 / bf16 through f32
//! (one rounding for magnitudes below 2^24).

use super::elementwise::map;
use crate::emit::{mem_ty, reg_ty, su, Builder, Kernel};
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
    if to.is_half() && from == DType::F64 {
        // One rounding, straight from f64 (through f32 would round twice).
        let m = mem_ty(to);
        let h = b.op(format!("arith.truncf {v} : f64 to {m}"));
        return b.op(format!("arith.extf {h} : {m} to f32"));
    }
    let r = if f == t {
        // Same register type: f32 <-> f16 / bf16, or signed <-> unsigned of one width.
        v.to_string()
    } else {
        let op = match (from.is_float(), to.is_float()) {
            (true, true) if from == DType::F64 => "truncf".to_string(),
            (true, true) => "extf".to_string(),
            (true, false) => format!("fpto{}i", su(to)),
            (false, true) => format!("{}itofp", su(from)),
            (false, false) if from.bits() < to.bits() => format!("ext{}i", su(from)),
            (false, false) => "trunci".to_string(),
        };
        b.op(format!("arith.{op} {v} : {f} to {t}"))
    };
    if to.is_half() {
        let m = mem_ty(to);
        let h = b.op(format!("arith.truncf {r} : f32 to {m}"));
        b.op(format!("arith.extf {h} : {m} to f32"))
    } else {
        r
    }
}
