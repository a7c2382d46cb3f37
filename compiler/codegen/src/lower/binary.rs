//! Elementwise binary ops with numpy broadcasting: Add/Sub/Mul/Div (ints: `divsi` / `divui`,
//! truncating), Max/Min (`maximumf`/`minimumf`, NaN-propagating; `maxsi`/`minsi`, `maxui`/`minui`
//! for unsigned), Mod (ints, sign of the divisor: `remsi` then `+ y` when the signs differ;
//! `remui` for unsigned), Fmod (`remf` / `remsi` / `remui`), Pow (`math.powf`; an integer or
//! other-width float exponent is converted to the base's type first), comparisons (`cmpf`
//! ordered predicates / `cmpi` signed or unsigned by dtype, bool result), And/Or/Xor
//! (`andi`/`ori`/`xori`, on i1 or ints) and shifts (`shli`/`shrui`, 0 for amounts outside
//! `0..bit width`).
//!
//! Integer division and remainder never trap: a zero divisor yields the dividend for Div and 0
//! for Mod/Fmod (the interpreter reports an error instead), and a divisor of -1 yields the
//! wrapping negation for Div (so `MIN / -1` is `MIN`) and 0 for Mod/Fmod.

use super::cast::convert;
use super::elementwise::map;
use crate::emit::{ipred, reg_ty, su, Builder, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::{BinaryOp, DType, Op};

pub fn lower(op: BinaryOp, k: &mut Kernel) -> Result<()> {
    let dt = k.param(0).dtype;
    let dt_b = k.param(1).dtype;
    let ok = match op {
        BinaryOp::Pow => dt.is_float(),
        BinaryOp::Equal => true,
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => !dt.is_float(),
        BinaryOp::Mod | BinaryOp::BitShiftLeft | BinaryOp::BitShiftRight => dt.is_int(),
        _ => dt != DType::Bool,
    };
    if !ok {
        return Err(CodegenError::new(format!("{}: codegen does not support dtype {dt}", Op::Binary(op).name())));
    }
    let t = reg_ty(dt);
    let f = dt.is_float();
    map(k, &[0, 1], 2, &mut |b, v| {
        let (x, y) = (v[0].as_str(), v[1].as_str());
        match op {
            BinaryOp::Add => b.add(x, y, dt),
            BinaryOp::Sub => b.sub(x, y, dt),
            BinaryOp::Mul => b.mul(x, y, dt),
            BinaryOp::Div if f => b.divf(x, y, dt),
            BinaryOp::Div => int_div(b, x, y, dt),
            BinaryOp::Pow => {
                let e = convert(b, y, dt_b, dt);
                b.op(format!("math.powf {x}, {e} : {t}"))
            }
            BinaryOp::Max => b.max(x, y, dt),
            BinaryOp::Min => b.op(format!(
                "arith.{} {x}, {y} : {t}",
                if f { "minimumf".to_string() } else { format!("min{}i", su(dt)) }
            )),
            BinaryOp::Fmod if f => b.op(format!("arith.remf {x}, {y} : {t}")),
            BinaryOp::Mod | BinaryOp::Fmod => int_rem(b, x, y, dt, op == BinaryOp::Mod),
            BinaryOp::Equal if f => b.op(format!("arith.cmpf oeq, {x}, {y} : {t}")),
            BinaryOp::Equal => b.op(format!("arith.cmpi eq, {x}, {y} : {t}")),
            BinaryOp::Greater | BinaryOp::Less | BinaryOp::GreaterOrEqual | BinaryOp::LessOrEqual => {
                let rel = match op {
                    BinaryOp::Greater => "gt",
                    BinaryOp::Less => "lt",
                    BinaryOp::GreaterOrEqual => "ge",
                    _ => "le",
                };
                if f {
                    b.op(format!("arith.cmpf o{rel}, {x}, {y} : {t}"))
                } else {
                    b.op(format!("arith.cmpi {}, {x}, {y} : {t}", ipred(dt, rel)))
                }
            }
            BinaryOp::And => b.op(format!("arith.andi {x}, {y} : {t}")),
            BinaryOp::Or => b.op(format!("arith.ori {x}, {y} : {t}")),
            BinaryOp::Xor => b.op(format!("arith.xori {x}, {y} : {t}")),
            BinaryOp::BitShiftLeft => shift(b, "shli", x, y, dt),
            BinaryOp::BitShiftRight => shift(b, "shrui", x, y, dt),
        }
    });
    Ok(())
}

/// Truncating division that cannot trap (see the module doc).
fn int_div(b: &mut Builder, x: &str, y: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    let zero = b.cst(dt, 0.0);
    let one = b.cst(dt, 1.0);
    if dt.is_unsigned() {
        let is_zero = b.op(format!("arith.cmpi eq, {y}, {zero} : {t}"));
        let safe = b.select(&is_zero, &one, y, dt);
        let q = b.op(format!("arith.divui {x}, {safe} : {t}"));
        return b.select(&is_zero, x, &q, dt);
    }
    let m1 = b.cst(dt, -1.0);
    let is_zero = b.op(format!("arith.cmpi eq, {y}, {zero} : {t}"));
    let is_m1 = b.op(format!("arith.cmpi eq, {y}, {m1} : {t}"));
    let bad = b.op(format!("arith.ori {is_zero}, {is_m1} : i1"));
    let safe = b.select(&bad, &one, y, dt);
    let q = b.op(format!("arith.divsi {x}, {safe} : {t}"));
    let neg = b.sub(&zero, x, dt);
    b.select(&is_m1, &neg, &q, dt)
}

/// Remainder that cannot trap (divisors 0 and, signed, -1 give 0); with `floor`, the sign of
/// the divisor (a nonzero remainder whose sign differs from `y` gets `y` added). Unsigned
/// remainders are `remui` (both rules agree there).
fn int_rem(b: &mut Builder, x: &str, y: &str, dt: DType, floor: bool) -> String {
    let t = reg_ty(dt);
    let zero = b.cst(dt, 0.0);
    let one = b.cst(dt, 1.0);
    if dt.is_unsigned() {
        let is_zero = b.op(format!("arith.cmpi eq, {y}, {zero} : {t}"));
        let safe = b.select(&is_zero, &one, y, dt);
        let r = b.op(format!("arith.remui {x}, {safe} : {t}"));
        return b.select(&is_zero, &zero, &r, dt);
    }
    let m1 = b.cst(dt, -1.0);
    let is_zero = b.op(format!("arith.cmpi eq, {y}, {zero} : {t}"));
    let is_m1 = b.op(format!("arith.cmpi eq, {y}, {m1} : {t}"));
    let bad = b.op(format!("arith.ori {is_zero}, {is_m1} : i1"));
    let safe = b.select(&bad, &one, y, dt);
    let r = b.op(format!("arith.remsi {x}, {safe} : {t}"));
    if !floor {
        return r;
    }
    let r_nz = b.op(format!("arith.cmpi ne, {r}, {zero} : {t}"));
    let r_neg = b.op(format!("arith.cmpi slt, {r}, {zero} : {t}"));
    let y_neg = b.op(format!("arith.cmpi slt, {y}, {zero} : {t}"));
    let differ = b.op(format!("arith.xori {r_neg}, {y_neg} : i1"));
    let fix = b.and(&r_nz, &differ);
    let adjusted = b.add(&r, y, dt);
    b.select(&fix, &adjusted, &r, dt)
}

/// `x op y` for amounts in `0..bit width`, else 0 (LLVM shifts by more are poison).
fn shift(b: &mut Builder, op: &str, x: &str, y: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    let bits = b.cst(dt, (8 * dt.size_bytes()) as f64);
    let zero = b.cst(dt, 0.0);
    // Unsigned compare: negative amounts are huge, so out of range too.
    let in_range = b.op(format!("arith.cmpi ult, {y}, {bits} : {t}"));
    let safe = b.select(&in_range, y, &zero, dt);
    let s = b.op(format!("arith.{op} {x}, {safe} : {t}"));
    b.select(&in_range, &s, &zero, dt)
}
