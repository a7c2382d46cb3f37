//! `ArgReduce { op: Max | Min, axis, keep_dims, select_last_index }` (ONNX ArgMax / ArgMin): the
//! i64 index of the largest (smallest) element along `axis`. Ties go to the first index, or to
//! the last with `select_last_index`. Comparisons are ordered (`>` / `<`, or `>=` / `<=` for the
//! last index), so a NaN never replaces the running best and wins only in position 0. Input
//! f32/f64/i32/i64; the axis must not be empty.

use super::check;
use super::elem::{array_of, Elem};
use super::index::{ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::op::ArgOp;
use crate::tensor::Tensor;
use crate::types::TensorType;
use crate::DType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "ArgReduce";

pub fn infer(axis: usize, keep_dims: bool, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    check::numeric(NAME, "input", x)?;
    check::axis(NAME, axis, x.rank())?;
    if x.shape[axis] == 0 {
        return Err(IrError::op(NAME, format!("axis {axis} of {x} is empty")));
    }
    let mut shape = x.shape.clone();
    if keep_dims {
        shape[axis] = 1;
    } else {
        shape.remove(axis);
    }
    Ok(vec![TensorType::new(DType::I64, shape)])
}

pub fn eval(op: ArgOp, axis: usize, keep_dims: bool, last: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(axis, keep_dims, &check::types_of(inputs))?.remove(0);
    let x = inputs[0];
    let idx = crate::with_float_dtype!(x.dtype(), T => arg::<T>(op, axis, last, x)?,
        _ => crate::with_int_dtype!(x.dtype(), T => arg::<T>(op, axis, last, x)?,
            _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype")))));
    let arr = ArcArray::from_shape_vec(IxDyn(&out.shape), idx).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(vec![Tensor::I64(arr)])
}

/// Whether `v` replaces the running best `b` (see the module doc).
pub fn beats<T: PartialOrd>(op: ArgOp, last: bool, v: T, b: T) -> bool {
    match (op, last) {
        (ArgOp::Max, false) => v > b,
        (ArgOp::Max, true) => v >= b,
        (ArgOp::Min, false) => v < b,
        (ArgOp::Min, true) => v <= b,
    }
}

fn arg<T: Elem + PartialOrd>(op: ArgOp, axis: usize, last: bool, x: &Tensor) -> Result<Vec<i64>> {
    let a = array_of::<T>(NAME, x)?;
    let shape = a.shape().to_vec();
    let data: Vec<T> = a.iter().copied().collect();
    let st = strides(&shape);
    let mut rows = shape.clone();
    rows[axis] = 1;
    let n: usize = rows.iter().product();
    let mut out = Vec::with_capacity(n);
    for r in 0..n {
        let base = ravel(&unravel(r, &rows), &st);
        let (mut best, mut bi) = (data[base], 0usize);
        for i in 1..shape[axis] {
            let v = data[base + i * st[axis]];
            if beats(op, last, v, best) {
                (best, bi) = (v, i);
            }
        }
        out.push(bi as i64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_argmin_ties() {
        // [[2, 1, 2], [0, 5, 5]]
        let x = Tensor::from_f32(&[2, 3], vec![2., 1., 2., 0., 5., 5.]).unwrap();
        let r = eval(ArgOp::Max, 1, false, false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[2], vec![0, 1]).unwrap());
        let r = eval(ArgOp::Max, 1, true, true, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[2, 1], vec![2, 2]).unwrap());
        let r = eval(ArgOp::Min, 0, true, false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[1, 3], vec![1, 0, 0]).unwrap());
        let i = Tensor::from_i32(&[3], vec![-4, 7, -4]).unwrap();
        let r = eval(ArgOp::Min, 0, false, true, &[&i]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[], vec![2]).unwrap());
    }

    #[test]
    fn infer_errors() {
        assert!(infer(0, false, &[TensorType::new(DType::F32, vec![0, 2])]).is_err());
        assert!(infer(2, false, &[TensorType::new(DType::F32, vec![1, 2])]).is_err());
        assert!(infer(0, false, &[TensorType::new(DType::Bool, vec![2])]).is_err());
    }
}
