//! `CumSum { axis, exclusive, reverse }`: running sums along `axis` (ONNX CumSum; its axis
//! operand is folded into the attribute at import). `exclusive` leaves out the element itself
//! (the first output is 0); `reverse` sums from the end. Floats accumulate in f64, integers in
//! i64 with wrapping. `CumProd` is the same scan with products (the empty product is 1).

use super::check;
use super::index::{ravel, strides, unravel};
use crate::error::Result;
use crate::tensor::Tensor;
use crate::types::TensorType;

const NAME: &str = "CumSum";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    check::numeric(NAME, "input", x)?;
    check::axis(NAME, axis, x.rank())?;
    Ok(vec![x.clone()])
}

/// The running sums of `data` (row-major, `shape`) along `axis`, with `add` and `zero`.
fn scan<A: Copy>(
    shape: &[usize],
    axis: usize,
    exclusive: bool,
    reverse: bool,
    data: &[A],
    zero: A,
    add: impl Fn(A, A) -> A,
) -> Vec<A> {
    let st = strides(shape);
    let mut rows = shape.to_vec();
    rows[axis] = 1;
    let mut out = vec![zero; data.len()];
    let n = shape[axis];
    for r in 0..rows.iter().product() {
        let base = ravel(&unravel(r, &rows), &st);
        let mut acc = zero;
        for j in 0..n {
            let i = if reverse { n - 1 - j } else { j };
            let p = base + i * st[axis];
            if exclusive {
                out[p] = acc;
                acc = add(acc, data[p]);
            } else {
                acc = add(acc, data[p]);
                out[p] = acc;
            }
        }
    }
    out
}

pub fn eval(axis: usize, exclusive: bool, reverse: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let ty = infer(axis, &check::types_of(inputs))?.remove(0);
    let x = inputs[0];
    let t = if ty.dtype.is_float() {
        let s = scan(&ty.shape, axis, exclusive, reverse, &x.to_f64_vec(), 0.0, |a, b| a + b);
        super::cast::cast(&Tensor::from_f64(&ty.shape, s)?, ty.dtype)
    } else {
        // Wrapping in i64 then truncating is wrapping in the narrower type (any signedness).
        let s = scan(&ty.shape, axis, exclusive, reverse, &x.to_i64_vec()?, 0i64, i64::wrapping_add);
        super::cast::cast(&Tensor::from_i64(&ty.shape, s)?, ty.dtype)
    };
    Ok(vec![t])
}

/// `CumProd`: the same scan with products (empty product 1); floats in f64, integers wrapping.
pub fn eval_prod(axis: usize, exclusive: bool, reverse: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let ty = infer(axis, &check::types_of(inputs))?.remove(0);
    let x = inputs[0];
    let t = if ty.dtype.is_float() {
        let s = scan(&ty.shape, axis, exclusive, reverse, &x.to_f64_vec(), 1.0, |a, b| a * b);
        super::cast::cast(&Tensor::from_f64(&ty.shape, s)?, ty.dtype)
    } else {
        let s = scan(&ty.shape, axis, exclusive, reverse, &x.to_i64_vec()?, 1i64, i64::wrapping_mul);
        super::cast::cast(&Tensor::from_i64(&ty.shape, s)?, ty.dtype)
    };
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn modes() {
        let x = Tensor::from_f64(&[5], vec![1., 2., 3., 4., 5.]).unwrap();
        let r = |e, rv| eval(0, e, rv, &[&x]).unwrap().remove(0);
        assert_eq!(r(false, false), Tensor::from_f64(&[5], vec![1., 3., 6., 10., 15.]).unwrap());
        assert_eq!(r(true, false), Tensor::from_f64(&[5], vec![0., 1., 3., 6., 10.]).unwrap());
        assert_eq!(r(false, true), Tensor::from_f64(&[5], vec![15., 14., 12., 9., 5.]).unwrap());
        assert_eq!(r(true, true), Tensor::from_f64(&[5], vec![14., 12., 9., 5., 0.]).unwrap());
        // 2-D along axis 0: [[1, 2], [3, 4]]
        let m = Tensor::from_i32(&[2, 2], vec![1, 2, 3, 4]).unwrap();
        assert_eq!(eval(0, false, false, &[&m]).unwrap()[0], Tensor::from_i32(&[2, 2], vec![1, 2, 4, 6]).unwrap());
        assert_eq!(eval(1, false, false, &[&m]).unwrap()[0], Tensor::from_i32(&[2, 2], vec![1, 3, 3, 7]).unwrap());
    }

    #[test]
    fn products() {
        let x = Tensor::from_f64(&[4], vec![1., 2., 3., 4.]).unwrap();
        let r = |e, rv| eval_prod(0, e, rv, &[&x]).unwrap().remove(0);
        assert_eq!(r(false, false), Tensor::from_f64(&[4], vec![1., 2., 6., 24.]).unwrap());
        assert_eq!(r(true, false), Tensor::from_f64(&[4], vec![1., 1., 2., 6.]).unwrap());
        assert_eq!(r(false, true), Tensor::from_f64(&[4], vec![24., 24., 12., 4.]).unwrap());
        assert_eq!(r(true, true), Tensor::from_f64(&[4], vec![24., 12., 4., 1.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        assert!(infer(1, &[TensorType::new(DType::F32, vec![2])]).is_err());
        assert!(infer(0, &[TensorType::new(DType::Bool, vec![2])]).is_err());
    }
}
