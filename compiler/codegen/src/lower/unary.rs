//! Elementwise float unary ops. Exp/Log/Sqrt/Tanh become LLVM intrinsics, Erf a libm call (`erff`/
//! `erf`); Sigmoid is `1/(1+exp(-x))` and Relu `maximumf(x, 0)` (NaN stays NaN, as the interpreter).

use super::elementwise::map;
use super::expect_float;
use crate::emit::{reg_ty, Kernel};
use crate::error::Result;
use kiln_ir::{Op, UnaryOp};

pub fn lower(u: UnaryOp, k: &mut Kernel) -> Result<()> {
    let dt = k.param(0).dtype;
    expect_float(Op::Unary(u).name(), dt)?;
    let t = reg_ty(dt);
    map(k, &[0], 1, &mut |b, v| {
        let x = &v[0];
        match u {
            UnaryOp::Neg => b.op(format!("arith.negf {x} : {t}")),
            UnaryOp::Sqrt => b.sqrt(x, dt),
            UnaryOp::Reciprocal => {
                let one = b.cst(dt, 1.0);
                b.divf(&one, x, dt)
            }
            UnaryOp::Exp => b.exp(x, dt),
            UnaryOp::Log => b.op(format!("math.log {x} : {t}")),
            UnaryOp::Erf => b.op(format!("math.erf {x} : {t}")),
            UnaryOp::Tanh => b.op(format!("math.tanh {x} : {t}")),
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
        }
    });
    Ok(())
}
