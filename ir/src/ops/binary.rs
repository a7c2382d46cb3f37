//! Elementwise binary ops with numpy broadcasting: Add/Sub/Mul/Div on every float and integer
//! dtype (integer ops wrap, integer Div truncates toward zero and fails on a zero divisor;
//! unsigned types divide and compare as unsigned; f16/bf16 compute in f32), Max/Min
//! (NaN-propagating, `-0 < +0`), Mod (integers, sign of the divisor), Fmod (sign of the
//! dividend), Pow (float base, any numeric exponent, result typed like the base); comparisons
//! (`compare.rs`) and logical/bitwise ops (`bitwise.rs`) share the dispatch here.

use super::broadcast::{broadcast_all, view_as};
use super::check;
use super::elem::{array_of, Elem, Float, Int};
use super::{bitwise, compare};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::{BinaryOp, Op};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Zip;

pub fn infer(b: BinaryOp, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    let name = Op::Binary(b).name();
    check::count(name, inputs, 2, 2)?;
    let (x, y) = (&inputs[0], &inputs[1]);
    match b {
        BinaryOp::Pow => {
            check::float(name, "base", x)?;
            check::numeric(name, "exponent", y)?;
        }
        BinaryOp::Equal => check::same_dtype(name, "lhs", x, "rhs", y)?,
        BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => {
            if !(x.dtype == DType::Bool || x.dtype.is_int()) {
                return Err(IrError::op(name, format!("lhs must be bool or an integer, got {}", x.dtype)));
            }
            check::same_dtype(name, "lhs", x, "rhs", y)?;
        }
        BinaryOp::Mod | BinaryOp::BitShiftLeft | BinaryOp::BitShiftRight => {
            if !x.dtype.is_int() {
                return Err(IrError::op(name, format!("lhs must be an integer, got {}", x.dtype)));
            }
            check::same_dtype(name, "lhs", x, "rhs", y)?;
        }
        _ => {
            check::numeric(name, "lhs", x)?;
            check::same_dtype(name, "lhs", x, "rhs", y)?;
        }
    }
    let shape = broadcast_all(name, &[&x.shape, &y.shape])?;
    let dtype = if compare::is_comparison(b) { DType::Bool } else { x.dtype };
    Ok(vec![TensorType::new(dtype, shape)])
}

pub fn eval(b: BinaryOp, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(b, &check::types_of(inputs))?.remove(0);
    let name = Op::Binary(b).name();
    let (x, y) = (inputs[0], inputs[1]);
    let unsupported = || IrError::Eval(format!("{name}: unsupported dtype {}", x.dtype()));
    if compare::is_comparison(b) {
        return Ok(vec![compare::eval(b, name, x, y, &out.shape)?]);
    }
    if bitwise::is_bitwise(b) {
        return Ok(vec![bitwise::eval(b, name, x, y, &out.shape)?]);
    }
    let t = match b {
        BinaryOp::Pow => {
            crate::with_float_dtype!(x.dtype(), T => pow::<T>(name, x, y, &out.shape)?, _ => return Err(unsupported()))
        }
        _ => {
            crate::with_float_dtype!(x.dtype(), T => zip::<T, T, T>(name, x, y, &out.shape, |p, q| Ok(float_op(b, p, q)))?,
            _ => crate::with_int_dtype!(x.dtype(), T => zip::<T, T, T>(name, x, y, &out.shape, |p, q| int_op(name, b, p, q))?,
                _ => return Err(unsupported())))
        }
    };
    Ok(vec![t])
}

fn float_op<T: Float>(b: BinaryOp, x: T, y: T) -> T {
    match b {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        BinaryOp::Max | BinaryOp::Min => min_max(b == BinaryOp::Max, x, y),
        // Rust's float `%` is C fmod, exact in f64 for f32 operands.
        BinaryOp::Fmod => T::from_f64(x.to_f64() % y.to_f64()),
        _ => unreachable!("{b:?} is not float arithmetic (eval dispatches it elsewhere)"),
    }
}

/// IEEE maximum / minimum: NaN if either is NaN, and `-0 < +0`.
fn min_max<T: Float>(max: bool, x: T, y: T) -> T {
    if x.is_nan() {
        return x;
    }
    if y.is_nan() {
        return y;
    }
    if x == y {
        // Equal values differ only in the sign of zero: max prefers +0, min -0.
        let x_neg = x.to_f64().is_sign_negative();
        return if x_neg == max { y } else { x };
    }
    if (x > y) == max {
        x
    } else {
        y
    }
}

fn int_op<T: Int>(name: &str, b: BinaryOp, x: T, y: T) -> Result<T> {
    let zero_div = || IrError::Eval(format!("{name}: integer division by zero"));
    Ok(match b {
        BinaryOp::Add => x.wrapping_add(y),
        BinaryOp::Sub => x.wrapping_sub(y),
        BinaryOp::Mul => x.wrapping_mul(y),
        BinaryOp::Div => x.checked_trunc_div(y).ok_or_else(zero_div)?,
        BinaryOp::Max => {
            if x >= y {
                x
            } else {
                y
            }
        }
        BinaryOp::Min => {
            if x <= y {
                x
            } else {
                y
            }
        }
        BinaryOp::Mod | BinaryOp::Fmod => x.checked_rem(y, b == BinaryOp::Mod).ok_or_else(zero_div)?,
        _ => unreachable!("{b:?} is not integer arithmetic (eval dispatches it elsewhere)"),
    })
}

/// Pow: the exponent is converted to the base's float type first.
fn pow<T: Float>(name: &str, x: &Tensor, y: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let e: Vec<f64> = y.to_f64_vec();
    let e = Tensor::F64(
        ndarray::ArcArray::from_shape_vec(ndarray::IxDyn(y.shape()), e)
            .map_err(|err| IrError::Eval(format!("{name}: {err}")))?,
    );
    zip::<T, f64, T>(name, x, &e, shape, |p, q| Ok(p.powf(T::from_f64(q))))
}

/// Apply `f` to each broadcast pair of `x` (element type `A`) and `y` (element type `B`),
/// producing a tensor of element type `R`; the first error `f` reports wins.
pub(super) fn zip<A: Elem, B: Elem, R: Elem>(
    name: &str,
    x: &Tensor,
    y: &Tensor,
    shape: &[usize],
    f: impl Fn(A, B) -> Result<R>,
) -> Result<Tensor> {
    let xa = view_as(name, array_of::<A>(name, x)?, shape)?;
    let ya = view_as(name, array_of::<B>(name, y)?, shape)?;
    let mut err = None;
    let out = Zip::from(&xa).and(&ya).map_collect(|p, q| match f(*p, *q) {
        Ok(v) => v,
        Err(e) => {
            err.get_or_insert(e);
            R::default()
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(R::wrap(out.into_shared())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn broadcast_add_and_sub() {
        let a = f32t(&[2, 1], &[1.0, 2.0]);
        let b = f32t(&[3], &[10.0, 20.0, 30.0]);
        let r = eval(BinaryOp::Add, &[&a, &b]).unwrap();
        assert_eq!(r[0].shape(), &[2, 3]);
        assert_eq!(r[0].to_f64_vec(), vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
        let r = eval(BinaryOp::Sub, &[&b, &a]).unwrap();
        assert_eq!(r[0].to_f64_vec(), vec![9.0, 19.0, 29.0, 8.0, 18.0, 28.0]);
    }

    #[test]
    fn integer_div_truncates_and_checks_zero() {
        let a = Tensor::from_i32(&[4], vec![7, -7, 7, i32::MIN]).unwrap();
        let b = Tensor::from_i32(&[4], vec![2, 2, -2, -1]).unwrap();
        let r = eval(BinaryOp::Div, &[&a, &b]).unwrap();
        assert_eq!(r[0].to_i64_vec().unwrap(), vec![3, -3, -3, i32::MIN as i64]);
        let z = Tensor::from_i32(&[1], vec![0]).unwrap();
        let e = eval(BinaryOp::Div, &[&a, &z]).unwrap_err();
        assert_eq!(e.to_string(), "interpreter: Div: integer division by zero");
        let m = Tensor::from_i64(&[1], vec![i64::MAX]).unwrap();
        let r = eval(BinaryOp::Mul, &[&m, &Tensor::from_i64(&[1], vec![2]).unwrap()]).unwrap();
        assert_eq!(r[0].to_i64_vec().unwrap(), vec![-2]);
    }

    #[test]
    fn pow_and_equal() {
        let a = f32t(&[3], &[2.0, 3.0, 4.0]);
        let e = Tensor::from_i64(&[1], vec![2]).unwrap();
        let r = eval(BinaryOp::Pow, &[&a, &e]).unwrap();
        assert_eq!(r[0].dtype(), DType::F32);
        assert_eq!(r[0].to_f64_vec(), vec![4.0, 9.0, 16.0]);
        let h = f32t(&[], &[0.5]);
        assert_eq!(eval(BinaryOp::Pow, &[&a, &h]).unwrap()[0].to_f64_vec()[2], 2.0);
        let b = f32t(&[3], &[2.0, 0.0, 4.0]);
        let r = eval(BinaryOp::Equal, &[&a, &b]).unwrap();
        assert_eq!(r[0], Tensor::from_bool(&[3], vec![true, false, true]).unwrap());
    }

    #[test]
    fn max_min_propagate_nan_and_order_zeros() {
        let a = f32t(&[4], &[1.0, f32::NAN, -0.0, 2.0]);
        let b = f32t(&[4], &[3.0, 1.0, 0.0, f32::NAN]);
        let mx = eval(BinaryOp::Max, &[&a, &b]).unwrap().remove(0).to_f64_vec();
        let mn = eval(BinaryOp::Min, &[&a, &b]).unwrap().remove(0).to_f64_vec();
        assert_eq!((mx[0], mx[2]), (3.0, 0.0));
        assert!(mx[1].is_nan() && mx[3].is_nan() && mx[2].is_sign_positive());
        assert_eq!((mn[0], mn[2]), (1.0, 0.0));
        assert!(mn[1].is_nan() && mn[3].is_nan() && mn[2].is_sign_negative());
        let i = Tensor::from_i64(&[3], vec![-5, 7, 0]).unwrap();
        let j = Tensor::from_i64(&[1], vec![2]).unwrap();
        assert_eq!(eval(BinaryOp::Max, &[&i, &j]).unwrap()[0].to_i64_vec().unwrap(), vec![2, 7, 2]);
        assert_eq!(eval(BinaryOp::Min, &[&i, &j]).unwrap()[0].to_i64_vec().unwrap(), vec![-5, 2, 0]);
    }

    #[test]
    fn mod_and_fmod_signs() {
        // numpy: mod takes the divisor's sign, fmod the dividend's.
        let a = Tensor::from_i32(&[5], vec![-7, 7, 7, -7, i32::MIN]).unwrap();
        let b = Tensor::from_i32(&[5], vec![3, -3, 3, -3, -1]).unwrap();
        assert_eq!(eval(BinaryOp::Mod, &[&a, &b]).unwrap()[0].to_i64_vec().unwrap(), vec![2, -2, 1, -1, 0]);
        assert_eq!(eval(BinaryOp::Fmod, &[&a, &b]).unwrap()[0].to_i64_vec().unwrap(), vec![-1, 1, 1, -1, 0]);
        let z = Tensor::from_i32(&[1], vec![0]).unwrap();
        let e = eval(BinaryOp::Mod, &[&a, &z]).unwrap_err();
        assert_eq!(e.to_string(), "interpreter: Mod: integer division by zero");
        let x = f32t(&[3], &[5.5, -5.5, 6.0]);
        let y = f32t(&[3], &[-2.0, 2.0, 4.0]);
        assert_eq!(eval(BinaryOp::Fmod, &[&x, &y]).unwrap()[0].to_f64_vec(), vec![1.5, -1.5, 2.0]);
        let e = infer(BinaryOp::Mod, &[x.ty(), y.ty()]).unwrap_err();
        assert_eq!(e.to_string(), "Mod: lhs must be an integer, got f32");
    }

    #[test]
    fn infer_errors() {
        let f = TensorType::new(DType::F32, vec![2, 3]);
        let g = TensorType::new(DType::F32, vec![3, 2]);
        let i = TensorType::new(DType::I64, vec![2, 3]);
        let bl = TensorType::new(DType::Bool, vec![2, 3]);
        assert_eq!(
            infer(BinaryOp::Add, &[f.clone(), g]).unwrap_err().to_string(),
            "Add: shapes [2, 3], [3, 2] do not broadcast"
        );
        assert_eq!(
            infer(BinaryOp::Mul, &[f.clone(), i.clone()]).unwrap_err().to_string(),
            "Mul: rhs dtype i64 differs from lhs dtype f32"
        );
        assert_eq!(
            infer(BinaryOp::Pow, &[i.clone(), f.clone()]).unwrap_err().to_string(),
            "Pow: base must be a float, got i64"
        );
        assert!(infer(BinaryOp::Add, &[bl.clone(), bl.clone()]).is_err());
        assert_eq!(infer(BinaryOp::Equal, &[bl.clone(), bl]).unwrap()[0].dtype, DType::Bool);
        assert!(infer(BinaryOp::Add, &[f]).is_err());
    }
}
