//! `Reduce { op, axes, keep_dims }`: Sum, Mean, Prod, Max, Min over sorted, unique `axes`
//! (empty `axes` is the identity). Sum/Mean/Prod take f32/f64/i32/i64; Max/Min also take bool
//! (Max = any, Min = all). Floats accumulate in f64 and round once; Max/Min propagate NaN.
//! Integers accumulate in i64 with wrapping; Mean divides truncating toward zero. Empty
//! reductions follow ONNX: Sum 0, Prod 1, Max -inf (ints: the dtype's minimum, bool: false),
//! Min +inf (ints: the dtype's maximum, bool: true), float Mean NaN, integer Mean an error.

use super::check;
use super::elem::{array_of, Elem, Float, Int};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::ReduceOp;
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, Dimension, IxDyn};

const NAME: &str = "Reduce";

pub fn infer(op: ReduceOp, axes: &[usize], keep_dims: bool, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    if !(x.dtype == DType::Bool && matches!(op, ReduceOp::Max | ReduceOp::Min)) {
        check::numeric(NAME, "input", x)?;
    }
    for (i, a) in axes.iter().enumerate() {
        check::axis(NAME, *a, x.rank())?;
        if i > 0 && axes[i - 1] >= *a {
            return Err(IrError::op(NAME, format!("axes {axes:?} must be sorted and unique")));
        }
    }
    Ok(vec![TensorType::new(x.dtype, out_shape(&x.shape, axes, keep_dims))])
}

fn out_shape(shape: &[usize], axes: &[usize], keep_dims: bool) -> Vec<usize> {
    if axes.is_empty() {
        return shape.to_vec();
    }
    let mut out = Vec::new();
    for (i, d) in shape.iter().enumerate() {
        if !axes.contains(&i) {
            out.push(*d);
        } else if keep_dims {
            out.push(1);
        }
    }
    out
}

pub fn eval(op: ReduceOp, axes: &[usize], keep_dims: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(op, axes, keep_dims, &check::types_of(inputs))?.remove(0);
    if axes.is_empty() {
        return Ok(vec![inputs[0].clone()]);
    }
    let x = inputs[0];
    let t = crate::with_float_dtype!(x.dtype(), T => reduce_float::<T>(op, axes, x, &out.shape)?,
        _ => crate::with_int_dtype!(x.dtype(), T => reduce_int::<T>(op, axes, x, &out.shape)?,
            _ => reduce_bool(op, axes, x, &out.shape)?));
    Ok(vec![t])
}

/// Group the input elements by output position (row-major), calling `f(out_pos, element)`.
fn for_each_group<T: Elem>(x: &ArcArray<T, IxDyn>, axes: &[usize], mut f: impl FnMut(usize, T)) {
    let shape = x.shape();
    // Strides of the output with reduced dims collapsed to extent 1.
    let mut stride = vec![0usize; shape.len()];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        if !axes.contains(&i) {
            stride[i] = s;
            s *= shape[i];
        }
    }
    for (idx, v) in x.indexed_iter() {
        let pos: usize = idx.slice().iter().zip(&stride).map(|(i, s)| i * s).sum();
        f(pos, *v);
    }
}

fn group_size(shape: &[usize], axes: &[usize]) -> usize {
    axes.iter().map(|a| shape[*a]).product()
}

fn finish<T: Elem>(out: &[usize], vals: Vec<T>) -> Result<Tensor> {
    let arr = ArcArray::from_shape_vec(IxDyn(out), vals).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

fn reduce_float<T: Float>(op: ReduceOp, axes: &[usize], x: &Tensor, out: &[usize]) -> Result<Tensor> {
    let x = array_of::<T>(NAME, x)?;
    let init = match op {
        ReduceOp::Sum | ReduceOp::Mean => 0.0,
        ReduceOp::Prod => 1.0,
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
    };
    let mut acc = vec![init; out.iter().product()];
    for_each_group(x, axes, |p, v| {
        let (a, v) = (acc[p], v.to_f64());
        acc[p] = match op {
            ReduceOp::Sum | ReduceOp::Mean => a + v,
            ReduceOp::Prod => a * v,
            _ if a.is_nan() || v.is_nan() => f64::NAN,
            ReduceOp::Max => a.max(v),
            ReduceOp::Min => a.min(v),
        }
    });
    let n = group_size(x.shape(), axes) as f64;
    let vals = acc.into_iter().map(|s| T::from_f64(if op == ReduceOp::Mean { s / n } else { s })).collect();
    finish(out, vals)
}

/// Integers accumulate in their own type, wrapping (as compiled code does); Mean then divides
/// truncating (unsigned types as unsigned).
fn reduce_int<T: Int>(op: ReduceOp, axes: &[usize], x: &Tensor, out: &[usize]) -> Result<Tensor> {
    let x = array_of::<T>(NAME, x)?;
    let init = match op {
        ReduceOp::Sum | ReduceOp::Mean => T::ZERO,
        ReduceOp::Prod => T::ONE,
        ReduceOp::Max => T::MIN,
        ReduceOp::Min => T::MAX,
    };
    let mut acc = vec![init; out.iter().product()];
    for_each_group(x, axes, |p, v| {
        let a = acc[p];
        acc[p] = match op {
            ReduceOp::Sum | ReduceOp::Mean => a.wrapping_add(v),
            ReduceOp::Prod => a.wrapping_mul(v),
            ReduceOp::Max => a.max(v),
            ReduceOp::Min => a.min(v),
        }
    });
    let n = group_size(x.shape(), axes) as i64;
    if op == ReduceOp::Mean && n == 0 && !acc.is_empty() {
        return Err(IrError::Eval("ReduceMean: mean of an empty integer reduction".into()));
    }
    // The count saturates at the type's maximum, as `Builder::cst` does in compiled code.
    let count = if T::from_i64(n).to_i64() == n { T::from_i64(n) } else { T::MAX };
    let vals = acc
        .into_iter()
        .map(|s| if op == ReduceOp::Mean { s.checked_trunc_div(count).unwrap_or(s) } else { s })
        .collect();
    finish(out, vals)
}

fn reduce_bool(op: ReduceOp, axes: &[usize], x: &Tensor, out: &[usize]) -> Result<Tensor> {
    let x = array_of::<bool>(NAME, x)?;
    let init = op == ReduceOp::Min;
    let mut acc = vec![init; out.iter().product()];
    for_each_group(x, axes, |p, v| acc[p] = if op == ReduceOp::Max { acc[p] || v } else { acc[p] && v });
    finish(out, acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_and_mean() {
        // [[1, 2, 3], [4, 5, 6]]
        let x = Tensor::from_f32(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        let r = eval(ReduceOp::Sum, &[1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2], vec![6., 15.]).unwrap());
        let r = eval(ReduceOp::Mean, &[0], true, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 3], vec![2.5, 3.5, 4.5]).unwrap());
        let r = eval(ReduceOp::Sum, &[0, 1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[], vec![21.]).unwrap());
        let r = eval(ReduceOp::Mean, &[], false, &[&x]).unwrap();
        assert_eq!(r[0], x);
    }

    #[test]
    fn max_min_prod() {
        // [[1, -2, 3], [4, 5, -6]]
        let x = Tensor::from_f32(&[2, 3], vec![1., -2., 3., 4., 5., -6.]).unwrap();
        let r = eval(ReduceOp::Max, &[1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2], vec![3., 5.]).unwrap());
        let r = eval(ReduceOp::Min, &[0], true, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 3], vec![1., -2., -6.]).unwrap());
        let r = eval(ReduceOp::Prod, &[0, 1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[], vec![720.]).unwrap());
        let n = Tensor::from_f64(&[3], vec![1., f64::NAN, 2.]).unwrap();
        assert!(eval(ReduceOp::Max, &[0], false, &[&n]).unwrap()[0].to_f64_vec()[0].is_nan());
        let i = Tensor::from_i32(&[2, 2], vec![3, -7, 2, 5]).unwrap();
        let r = eval(ReduceOp::Min, &[1], false, &[&i]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2], vec![-7, 2]).unwrap());
        let r = eval(ReduceOp::Prod, &[0], false, &[&i]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2], vec![6, -35]).unwrap());
        let b = Tensor::from_bool(&[2, 2], vec![true, false, true, true]).unwrap();
        assert_eq!(
            eval(ReduceOp::Max, &[1], false, &[&b]).unwrap()[0],
            Tensor::from_bool(&[2], vec![true, true]).unwrap()
        );
        assert_eq!(
            eval(ReduceOp::Min, &[1], false, &[&b]).unwrap()[0],
            Tensor::from_bool(&[2], vec![false, true]).unwrap()
        );
    }

    #[test]
    fn empty_reductions_follow_onnx() {
        let x = Tensor::from_f32(&[2, 0], vec![]).unwrap();
        let r = eval(ReduceOp::Max, &[1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2], vec![f32::NEG_INFINITY; 2]).unwrap());
        let r = eval(ReduceOp::Min, &[1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2], vec![f32::INFINITY; 2]).unwrap());
        let r = eval(ReduceOp::Prod, &[1], true, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2, 1], vec![1.; 2]).unwrap());
        let i = Tensor::from_i32(&[0, 2], vec![]).unwrap();
        let r = eval(ReduceOp::Max, &[0], false, &[&i]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2], vec![i32::MIN; 2]).unwrap());
    }

    #[test]
    fn integer_mean_truncates() {
        let x = Tensor::from_i32(&[2, 2], vec![1, 2, -1, -2]).unwrap();
        let r = eval(ReduceOp::Mean, &[1], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2], vec![1, -1]).unwrap());
        let r = eval(ReduceOp::Sum, &[0], false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2], vec![0, 0]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![2, 3]);
        assert_eq!(
            infer(ReduceOp::Sum, &[1, 0], false, std::slice::from_ref(&ty)).unwrap_err().to_string(),
            "Reduce: axes [1, 0] must be sorted and unique"
        );
        assert_eq!(
            infer(ReduceOp::Sum, &[2], false, &[ty]).unwrap_err().to_string(),
            "Reduce: axis 2 is out of range for rank 2"
        );
        assert!(infer(ReduceOp::Sum, &[0], false, &[TensorType::new(DType::Bool, vec![2])]).is_err());
        assert!(infer(ReduceOp::Max, &[0], false, &[TensorType::new(DType::Bool, vec![2])]).is_ok());
    }
}
