//! Elementwise unary ops. Float math maps to the `math` dialect (LLVM intrinsics, or libm calls
//! via convert-math-to-libm for tan, the inverse and hyperbolic functions), except f32 exp, erf
//! and tanh, which are straight-line approximations that vectorize (`emit::fast_math`); Sigmoid is
//! `1/(1+exp(-x))`, Silu `x/(1+exp(-x))`, Gelu `0.5x(1+erf(x/sqrt2))`, GeluTanh the tanh form, Relu `maximumf(x, 0)` (NaN stays NaN, as the interpreter), Sign a pair of
//! selects (±0 and NaN pass through), IsNaN `cmpf uno`. Integers: Neg `0 - x`, Abs `math.absi`
//! (both wrap; Abs is the identity on unsigned), Sign by selects (unsigned compares for unsigned
//! dtypes); Not is `xori` with all ones (logical not on i1). f16 / bf16 compute in f32.

use super::elementwise::map;
use crate::emit::{ipred, reg_ty, Builder, Kernel};
use crate::error::{CodegenError, Result};
use kiln_ir::{DType, Op, UnaryOp};

pub fn lower(u: UnaryOp, k: &mut Kernel) -> Result<()> {
    let dt = k.param(0).dtype;
    let name = Op::Unary(u).name();
    let ok = match u {
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => dt != DType::Bool,
        UnaryOp::Not => !dt.is_float(),
        _ => dt.is_float(),
    };
    if !ok {
        return Err(CodegenError::new(format!("{name}: codegen does not support dtype {dt}")));
    }
    map(k, &[0], 1, &mut |b, v| if dt.is_float() { float(b, u, &v[0], dt) } else { int(b, u, &v[0], dt) });
    Ok(())
}

pub(super) fn float(b: &mut Builder, u: UnaryOp, x: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    let math = |b: &mut Builder, f: &str| b.op(format!("math.{f} {x} : {t}"));
    match u {
        UnaryOp::Neg => b.op(format!("arith.negf {x} : {t}")),
        UnaryOp::Sqrt => b.sqrt(x, dt),
        UnaryOp::Reciprocal => {
            let one = b.cst(dt, 1.0);
            b.divf(&one, x, dt)
        }
        UnaryOp::Exp => b.exp(x, dt),
        UnaryOp::Log => math(b, "log"),
        UnaryOp::Erf => b.erf(x, dt),
        UnaryOp::Tanh => b.tanh(x, dt),
        UnaryOp::Sigmoid => {
            let one = b.cst(dt, 1.0);
            let n = b.op(format!("arith.negf {x} : {t}"));
            let e = b.exp(&n, dt);
            let d = b.add(&one, &e, dt);
            b.divf(&one, &d, dt)
        }
        UnaryOp::Relu => {
            let z = b.cst(dt, 0.0);
            b.max(x, &z, dt)
        }
        UnaryOp::Silu => {
            let one = b.cst(dt, 1.0);
            let n = b.op(format!("arith.negf {x} : {t}"));
            let e = b.exp(&n, dt);
            let d = b.add(&one, &e, dt);
            b.divf(x, &d, dt)
        }
        UnaryOp::Gelu => {
            let (half, one, r2) = (b.cst(dt, 0.5), b.cst(dt, 1.0), b.cst(dt, std::f64::consts::FRAC_1_SQRT_2));
            let s = b.mul(x, &r2, dt);
            let e = b.erf(&s, dt);
            let p = b.add(&one, &e, dt);
            let h = b.mul(x, &half, dt);
            b.mul(&h, &p, dt)
        }
        UnaryOp::GeluTanh => {
            let (half, one) = (b.cst(dt, 0.5), b.cst(dt, 1.0));
            let (c, k3) = (b.cst(dt, (2.0 / std::f64::consts::PI).sqrt()), b.cst(dt, 0.044715));
            let x2 = b.mul(x, x, dt);
            let x3 = b.mul(&x2, x, dt);
            let a = b.mul(&x3, &k3, dt);
            let inner = b.add(x, &a, dt);
            let s = b.mul(&inner, &c, dt);
            let th = b.tanh(&s, dt);
            let p = b.add(&one, &th, dt);
            let h = b.mul(x, &half, dt);
            b.mul(&h, &p, dt)
        }
        UnaryOp::Abs => math(b, "absf"),
        UnaryOp::Ceil => math(b, "ceil"),
        UnaryOp::Floor => math(b, "floor"),
        UnaryOp::Round => math(b, "roundeven"),
        UnaryOp::Sin => math(b, "sin"),
        UnaryOp::Cos => math(b, "cos"),
        UnaryOp::Tan => math(b, "tan"),
        UnaryOp::Asin => math(b, "asin"),
        UnaryOp::Acos => math(b, "acos"),
        UnaryOp::Atan => math(b, "atan"),
        UnaryOp::Sinh => math(b, "sinh"),
        UnaryOp::Cosh => math(b, "cosh"),
        UnaryOp::Asinh => math(b, "asinh"),
        UnaryOp::Acosh => math(b, "acosh"),
        UnaryOp::Atanh => math(b, "atanh"),
        UnaryOp::Sign => {
            let (z, one, m1) = (b.cst(dt, 0.0), b.cst(dt, 1.0), b.cst(dt, -1.0));
            let pos = b.op(format!("arith.cmpf ogt, {x}, {z} : {t}"));
            let neg = b.op(format!("arith.cmpf olt, {x}, {z} : {t}"));
            let s = b.select(&neg, &m1, x, dt);
            b.select(&pos, &one, &s, dt)
        }
        UnaryOp::IsNaN => b.op(format!("arith.cmpf uno, {x}, {x} : {t}")),
        UnaryOp::Not => unreachable!("Not on floats is rejected by lower"),
    }
}

fn int(b: &mut Builder, u: UnaryOp, x: &str, dt: DType) -> String {
    let t = reg_ty(dt);
    match u {
        UnaryOp::Neg => {
            let z = b.cst(dt, 0.0);
            b.sub(&z, x, dt)
        }
        UnaryOp::Abs if dt.is_unsigned() => x.to_string(),
        UnaryOp::Abs => b.op(format!("math.absi {x} : {t}")),
        UnaryOp::Sign => {
            let (z, one, m1) = (b.cst(dt, 0.0), b.cst(dt, 1.0), b.cst(dt, -1.0));
            let pos = b.op(format!("arith.cmpi {}, {x}, {z} : {t}", ipred(dt, "gt")));
            let neg = b.op(format!("arith.cmpi {}, {x}, {z} : {t}", ipred(dt, "lt")));
            let s = b.select(&neg, &m1, &z, dt);
            b.select(&pos, &one, &s, dt)
        }
        // `Builder::cst` prints a bool as `true : i1`, which MLIR does not parse.
        UnaryOp::Not if dt == DType::Bool => {
            let ones = b.op("arith.constant true");
            b.op(format!("arith.xori {x}, {ones} : i1"))
        }
        UnaryOp::Not => {
            // All ones (`cst` would saturate -1 to 0 for unsigned dtypes).
            let ones = b.op(format!("arith.constant -1 : {t}"));
            b.op(format!("arith.xori {x}, {ones} : {t}"))
        }
        _ => unreachable!("{u:?} on integers is rejected by lower"),
    }
}
