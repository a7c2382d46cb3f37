//! Elementwise float ops with one input (Neg, Sqrt, Reciprocal, Exp, Log, Erf, Tanh, Sigmoid,
//! Relu): f32/f64 in, same type out, computed in the input's own precision.

use super::check;
use super::elem::{array_of, Elem, Float};
use crate::error::{IrError, Result};
use crate::op::{Op, UnaryOp};
use crate::tensor::Tensor;
use crate::types::TensorType;

pub fn infer(u: UnaryOp, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    let name = Op::Unary(u).name();
    check::count(name, inputs, 1, 1)?;
    check::float(name, "input", &inputs[0])?;
    Ok(vec![inputs[0].clone()])
}

pub fn eval(u: UnaryOp, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(u, &check::types_of(inputs))?;
    let name = Op::Unary(u).name();
    let out = crate::with_float_dtype!(inputs[0].dtype(), T => {
        let a = array_of::<T>(name, inputs[0])?;
        T::wrap(a.map(|x| apply(u, *x)).into_shared())
    }, _ => return Err(IrError::Eval(format!("{name}: unsupported dtype"))));
    Ok(vec![out])
}

/// The scalar function of `u`.
pub fn apply<T: Float>(u: UnaryOp, x: T) -> T {
    match u {
        UnaryOp::Neg => -x,
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Reciprocal => T::ONE / x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Erf => x.erf(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        // `x < 0` is false for NaN, so NaN passes through.
        UnaryOp::Relu => {
            if x < T::ZERO {
                T::ZERO
            } else {
                x
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn run(u: UnaryOp, xs: &[f32]) -> Vec<f32> {
        let t = Tensor::from_f32(&[xs.len()], xs.to_vec()).unwrap();
        match &eval(u, &[&t]).unwrap()[0] {
            Tensor::F32(a) => a.iter().copied().collect(),
            _ => panic!("wrong dtype"),
        }
    }

    #[test]
    fn values() {
        assert_eq!(run(UnaryOp::Neg, &[1.5, -2.0]), vec![-1.5, 2.0]);
        assert_eq!(run(UnaryOp::Sqrt, &[4.0, 2.25]), vec![2.0, 1.5]);
        assert_eq!(run(UnaryOp::Reciprocal, &[4.0, -0.5]), vec![0.25, -2.0]);
        assert_eq!(run(UnaryOp::Exp, &[0.0]), vec![1.0]);
        assert_eq!(run(UnaryOp::Log, &[1.0]), vec![0.0]);
        assert_eq!(run(UnaryOp::Sigmoid, &[0.0]), vec![0.5]);
        let r = run(UnaryOp::Relu, &[-1.0, 2.0, f32::NAN]);
        assert_eq!(&r[..2], &[0.0, 2.0]);
        assert!(r[2].is_nan());
        // numpy / scipy: erf(0.5) = 0.5204998778130465, tanh(1) = 0.7615941559557649
        let e = run(UnaryOp::Erf, &[0.5, -0.5, 0.0]);
        assert_eq!(e, vec![0.5204999_f32, -0.5204999, 0.0]);
        assert_eq!(run(UnaryOp::Tanh, &[1.0]), vec![0.7615942_f32]);
    }

    #[test]
    fn erf_f64_is_precise() {
        let t = Tensor::from_f64(&[3], vec![0.5, 1.0, 2.0]).unwrap();
        let want = [0.5204998778130465, 0.8427007929497149, 0.9953222650189527];
        let got = eval(UnaryOp::Erf, &[&t]).unwrap()[0].to_f64_vec();
        for (g, w) in got.iter().zip(want) {
            assert!(((g - w) / w).abs() < 1e-15, "{g} vs {w}");
        }
    }

    #[test]
    fn rejects_ints_and_arity() {
        let i = TensorType::new(DType::I32, vec![2]);
        let e = infer(UnaryOp::Exp, std::slice::from_ref(&i)).unwrap_err();
        assert_eq!(e.to_string(), "Exp: input must be f32 or f64, got i32");
        let e = infer(UnaryOp::Relu, &[i.clone(), i]).unwrap_err();
        assert_eq!(e.to_string(), "Relu: expects 1 inputs, got 2");
    }
}
