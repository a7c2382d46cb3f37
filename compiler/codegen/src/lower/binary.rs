//! Elementwise binary ops with numpy broadcasting: Add/Sub/Mul/Div (ints: `divsi`, truncating),
//! Pow (`math.powf`; an integer or other-width float exponent is converted to the base's type
//! first) and Equal (`cmpf oeq` / `cmpi eq`, bool result).
//!
//! Integer division never traps: a zero divisor yields the dividend (the interpreter reports an
//! error instead) and a divisor of -1 yields the wrapping negation (so `MIN / -1` is `MIN`).

use super::cast::convert;
use super::elementwise::map;
use super::expect_float;
use crate::emit::{reg_ty, Builder, Kernel};
use crate::error::Result;
use kiln_ir::{BinaryOp, DType};

pub fn lower(op: BinaryOp, k: &mut Kernel) -> Result<()> {
    let dt = k.param(0).dtype;
    let dt_b = k.param(1).dtype;
    if op == BinaryOp::Pow {
        expect_float("Pow", dt)?;
    }
    map(k, &[0, 1], 2, &mut |b, v| {
        let (x, y) = (&v[0], &v[1]);
        match op {
            BinaryOp::Add => b.add(x, y, dt),
            BinaryOp::Sub => b.sub(x, y, dt),
            BinaryOp::Mul => b.mul(x, y, dt),
            BinaryOp::Div if dt.is_float() => b.divf(x, y, dt),
            BinaryOp::Div => int_div(b, x, y, dt),
            BinaryOp::Pow => {
                let e = convert(b, y, dt_b, dt);
                b.op(format!("math.powf {x}, {e} : {}", reg_ty(dt)))
            }
            BinaryOp::Equal if dt.is_float() => b.op(format!("arith.cmpf oeq, {x}, {y} : {}", reg_ty(dt))),
            BinaryOp::Equal => b.op(format!("arith.cmpi eq, {x}, {y} : {}", reg_ty(dt))),
        }
    });
    Ok(())
}

/// Truncating signed division that cannot trap (see the module doc).
fn int_div(b: &mut Builder, x: &str, y: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    let zero = b.cst(dt, 0.0);
    let one = b.cst(dt, 1.0);
    let m1 = b.cst(dt, -1.0);
    let is_zero = b.op(format!("arith.cmpi eq, {y}, {zero} : {t}"));
    let is_m1 = b.op(format!("arith.cmpi eq, {y}, {m1} : {t}"));
    let bad = b.op(format!("arith.ori {is_zero}, {is_m1} : i1"));
    let safe = b.select(&bad, &one, y, dt);
    let q = b.op(format!("arith.divsi {x}, {safe} : {t}"));
    let neg = b.sub(&zero, x, dt);
    b.select(&is_m1, &neg, &q, dt)
}
