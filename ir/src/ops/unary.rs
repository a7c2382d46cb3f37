//! Elementwise ops with one input. Dtype classes:
//! - float math (Sqrt Reciprocal Exp Log Erf Tanh Sigmoid Relu Ceil Floor Round Sin Cos Tan Asin
//!   Acos Atan Sinh Cosh Asinh Acosh Atanh): f32/f64 in, same type out;
//! - Neg, Abs, Sign: floats and integers (integer Neg/Abs wrap: `Abs(MIN) == MIN`; on unsigned
//!   types Abs is the identity and Neg wraps);
//! - IsNaN: floats in, bool out;
//! - Not: bool (logical) or integers (bitwise).
//!
//! f16 / bf16 compute in f32 and round once.
//!
//! Silu, Gelu and GeluTanh are the activations that canonicalization recognizes in primitive form;
//! Gelu/GeluTanh are computed in f64 and rounded once.
//!
//! Exp/Log/Sqrt/Erf/Tanh/Sigmoid are computed in the input's own precision; the other
//! transcendental functions in f64, rounded once to the input's type. Round is half to even;
//! Sign(±0) is ±0 and Sign(NaN) is NaN (numpy).

use super::check;
use super::elem::{array_of, Elem, Float, Int};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::{Op, UnaryOp};
use crate::tensor::Tensor;
use crate::types::TensorType;

/// Which dtypes `u` takes.
enum Class {
    Float,
    Numeric,
    FloatToBool,
    BoolOrInt,
}

fn class(u: UnaryOp) -> Class {
    match u {
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => Class::Numeric,
        UnaryOp::IsNaN => Class::FloatToBool,
        UnaryOp::Not => Class::BoolOrInt,
        _ => Class::Float,
    }
}

pub fn infer(u: UnaryOp, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    let name = Op::Unary(u).name();
    check::count(name, inputs, 1, 1)?;
    let x = &inputs[0];
    match class(u) {
        Class::Float => check::float(name, "input", x)?,
        Class::Numeric => check::numeric(name, "input", x)?,
        Class::FloatToBool => {
            check::float(name, "input", x)?;
            return Ok(vec![TensorType::new(DType::Bool, x.shape.clone())]);
        }
        Class::BoolOrInt => {
            if !(x.dtype == DType::Bool || x.dtype.is_int()) {
                return Err(IrError::op(name, format!("input must be bool or an integer, got {}", x.dtype)));
            }
        }
    }
    Ok(vec![x.clone()])
}

pub fn eval(u: UnaryOp, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(u, &check::types_of(inputs))?;
    let name = Op::Unary(u).name();
    let x = inputs[0];
    let unsupported = || IrError::Eval(format!("{name}: unsupported dtype {}", x.dtype()));
    let out = match (u, x.dtype()) {
        (UnaryOp::IsNaN, _) => {
            crate::with_float_dtype!(x.dtype(), T => map::<T, bool>(name, x, |v| v.is_nan())?, _ => return Err(unsupported()))
        }
        (UnaryOp::Not, DType::Bool) => map::<bool, bool>(name, x, |v| !v)?,
        (_, dt) if dt.is_int() => {
            crate::with_int_dtype!(dt, T => map::<T, T>(name, x, |v| apply_int(u, v))?, _ => return Err(unsupported()))
        }
        _ => {
            crate::with_float_dtype!(x.dtype(), T => map::<T, T>(name, x, |v| apply(u, v))?, _ => return Err(unsupported()))
        }
    };
    Ok(vec![out])
}

fn map<A: Elem, R: Elem>(name: &str, x: &Tensor, f: impl Fn(A) -> R) -> Result<Tensor> {
    Ok(R::wrap(array_of::<A>(name, x)?.map(|v| f(*v)).into_shared()))
}

/// The scalar function of `u` on integers, wrapping in the type itself (Abs is the identity and
/// Sign 0 / 1 on unsigned types).
pub fn apply_int<T: Int>(u: UnaryOp, x: T) -> T {
    match u {
        UnaryOp::Neg => x.wrapping_neg(),
        UnaryOp::Abs => x.wrapping_abs(),
        UnaryOp::Sign => x.signum(),
        UnaryOp::Not => T::from_i64(!x.to_i64()),
        _ => unreachable!("{u:?} is not an integer op (infer rejects it)"),
    }
}

/// The scalar function of `u` on floats.
pub fn apply<T: Float>(u: UnaryOp, x: T) -> T {
    let f64_fn = |f: fn(f64) -> f64| T::from_f64(f(x.to_f64()));
    match u {
        UnaryOp::Neg => -x,
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Reciprocal => T::ONE / x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Erf => x.erf(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        UnaryOp::Silu => x / (T::ONE + (-x).exp()),
        UnaryOp::Gelu => {
            let v = x.to_f64();
            T::from_f64(0.5 * v * (1.0 + libm::erf(v * std::f64::consts::FRAC_1_SQRT_2)))
        }
        UnaryOp::GeluTanh => {
            let v = x.to_f64();
            let c = (2.0 / std::f64::consts::PI).sqrt();
            T::from_f64(0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh()))
        }
        // `x < 0` is false for NaN, so NaN passes through.
        UnaryOp::Relu => {
            if x < T::ZERO {
                T::ZERO
            } else {
                x
            }
        }
        UnaryOp::Sign => {
            if x > T::ZERO {
                T::ONE
            } else if x < T::ZERO {
                -T::ONE
            } else {
                x
            }
        }
        UnaryOp::Abs => f64_fn(f64::abs),
        UnaryOp::Ceil => f64_fn(f64::ceil),
        UnaryOp::Floor => f64_fn(f64::floor),
        UnaryOp::Round => f64_fn(f64::round_ties_even),
        UnaryOp::Sin => f64_fn(f64::sin),
        UnaryOp::Cos => f64_fn(f64::cos),
        UnaryOp::Tan => f64_fn(f64::tan),
        UnaryOp::Asin => f64_fn(f64::asin),
        UnaryOp::Acos => f64_fn(f64::acos),
        UnaryOp::Atan => f64_fn(f64::atan),
        UnaryOp::Sinh => f64_fn(f64::sinh),
        UnaryOp::Cosh => f64_fn(f64::cosh),
        UnaryOp::Asinh => f64_fn(f64::asinh),
        UnaryOp::Acosh => f64_fn(f64::acosh),
        UnaryOp::Atanh => f64_fn(f64::atanh),
        UnaryOp::IsNaN | UnaryOp::Not => unreachable!("{u:?} is not a float -> float op (eval handles it)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(u: UnaryOp, xs: &[f32]) -> Vec<f32> {
        let t = Tensor::from_f32(&[xs.len()], xs.to_vec()).unwrap();
        match &eval(u, &[&t]).unwrap()[0] {
            Tensor::F32(a) => a.iter().copied().collect(),
            _ => panic!("wrong dtype"),
        }
    }

    fn run_f64(u: UnaryOp, xs: &[f64]) -> Vec<f64> {
        let t = Tensor::from_f64(&[xs.len()], xs.to_vec()).unwrap();
        eval(u, &[&t]).unwrap()[0].to_f64_vec()
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
    fn rounding_family() {
        let xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2, -1.7];
        assert_eq!(run(UnaryOp::Round, &xs), vec![-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 1.0, -2.0]);
        assert_eq!(run(UnaryOp::Ceil, &xs), vec![-2.0, -1.0, -0.0, 1.0, 2.0, 3.0, 2.0, -1.0]);
        assert_eq!(run(UnaryOp::Floor, &xs), vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 1.0, -2.0]);
        assert_eq!(run(UnaryOp::Abs, &[-2.5, 0.0, 3.0]), vec![2.5, 0.0, 3.0]);
        let s = run(UnaryOp::Sign, &[-2.5, 0.0, 3.0, f32::NAN]);
        assert_eq!(&s[..3], &[-1.0, 0.0, 1.0]);
        assert!(s[3].is_nan());
    }

    #[test]
    fn trigonometric_and_hyperbolic() {
        // numpy float64 values.
        let cases: [(UnaryOp, f64, f64); 12] = [
            (UnaryOp::Sin, 0.5, 0.479425538604203),
            (UnaryOp::Cos, 0.5, 0.8775825618903728),
            (UnaryOp::Tan, 0.5, 0.5463024898437905),
            (UnaryOp::Asin, 0.5, std::f64::consts::FRAC_PI_6),
            (UnaryOp::Acos, 0.5, std::f64::consts::FRAC_PI_3),
            (UnaryOp::Atan, 0.5, 0.4636476090008061),
            (UnaryOp::Sinh, 0.5, 0.5210953054937474),
            (UnaryOp::Cosh, 0.5, 1.1276259652063807),
            (UnaryOp::Asinh, 0.5, 0.48121182505960347),
            (UnaryOp::Acosh, 1.5, 0.9624236501192069),
            (UnaryOp::Atanh, 0.5, 0.5493061443340549),
            (UnaryOp::Atanh, -0.5, -0.5493061443340549),
        ];
        for (u, x, want) in cases {
            let got = run_f64(u, &[x])[0];
            assert!((got - want).abs() <= 1e-15, "{u:?}({x}) = {got}, want {want}");
        }
        assert!(run(UnaryOp::Asin, &[2.0])[0].is_nan());
        assert!(run(UnaryOp::Acosh, &[0.5])[0].is_nan());
    }

    #[test]
    fn integer_ops_wrap() {
        let t = Tensor::from_i32(&[4], vec![-3, 0, 5, i32::MIN]).unwrap();
        let go = |u| eval(u, &[&t]).unwrap()[0].to_i64_vec().unwrap();
        assert_eq!(go(UnaryOp::Abs), vec![3, 0, 5, i32::MIN as i64]);
        assert_eq!(go(UnaryOp::Neg), vec![3, 0, -5, i32::MIN as i64]);
        assert_eq!(go(UnaryOp::Sign), vec![-1, 0, 1, -1]);
        assert_eq!(go(UnaryOp::Not), vec![2, -1, -6, i32::MAX as i64]);
        let t = Tensor::from_i64(&[2], vec![i64::MIN, -7]).unwrap();
        assert_eq!(eval(UnaryOp::Abs, &[&t]).unwrap()[0].to_i64_vec().unwrap(), vec![i64::MIN, 7]);
    }

    #[test]
    fn bool_results_and_not() {
        let t = Tensor::from_f32(&[3], vec![f32::NAN, 1.0, f32::INFINITY]).unwrap();
        let r = eval(UnaryOp::IsNaN, &[&t]).unwrap();
        assert_eq!(r[0], Tensor::from_bool(&[3], vec![true, false, false]).unwrap());
        let b = Tensor::from_bool(&[2], vec![true, false]).unwrap();
        assert_eq!(eval(UnaryOp::Not, &[&b]).unwrap()[0], Tensor::from_bool(&[2], vec![false, true]).unwrap());
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
    fn rejects_wrong_dtypes_and_arity() {
        let i = TensorType::new(DType::I32, vec![2]);
        let f = TensorType::new(DType::F32, vec![2]);
        let b = TensorType::new(DType::Bool, vec![2]);
        let e = infer(UnaryOp::Exp, std::slice::from_ref(&i)).unwrap_err();
        assert_eq!(e.to_string(), "Exp: input must be a float, got i32");
        let e = infer(UnaryOp::Relu, &[i.clone(), i.clone()]).unwrap_err();
        assert_eq!(e.to_string(), "Relu: expects 1 inputs, got 2");
        let e = infer(UnaryOp::Not, std::slice::from_ref(&f)).unwrap_err();
        assert_eq!(e.to_string(), "Not: input must be bool or an integer, got f32");
        assert!(infer(UnaryOp::Abs, std::slice::from_ref(&b)).is_err());
        assert!(infer(UnaryOp::IsNaN, std::slice::from_ref(&i)).is_err());
        assert_eq!(infer(UnaryOp::IsNaN, &[f]).unwrap()[0].dtype, DType::Bool);
        assert_eq!(infer(UnaryOp::Sign, &[i]).unwrap()[0].dtype, DType::I32);
    }
}
