//! `TopK { k, axis, largest, sorted }(x)` -> (values, i64 indices): the `k` largest (or
//! smallest) elements along `axis`, in order (best first; `sorted = false` gives the same
//! order, which ONNX allows). Ties go to the lower index. NaN ranks above +inf, so it comes
//! first with `largest` and last otherwise. `k` is static (ONNX's K operand, folded at import).

use super::check;
use super::elem::{array_of, Elem};
use super::index::{ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use crate::DType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "TopK";

pub fn infer(k: usize, axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    check::numeric(NAME, "input", x)?;
    check::axis(NAME, axis, x.rank())?;
    if k > x.shape[axis] {
        return Err(IrError::op(NAME, format!("k = {k} exceeds extent {} of axis {axis}", x.shape[axis])));
    }
    let mut shape = x.shape.clone();
    shape[axis] = k;
    Ok(vec![TensorType::new(x.dtype, shape.clone()), TensorType::new(DType::I64, shape)])
}

/// Whether `(a, ia)` comes before `(b, ib)` in TopK's order (see the module doc).
pub fn before<T: PartialOrd>(largest: bool, a: T, ia: usize, b: T, ib: usize) -> bool {
    #[allow(clippy::eq_op)]
    let (an, bn) = (a != a, b != b);
    let first = if largest { (an && !bn) || a > b } else { (bn && !an) || a < b };
    let equal = (an && bn) || a == b;
    first || (equal && ia < ib)
}

pub fn eval(k: usize, axis: usize, largest: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let outs = infer(k, axis, &check::types_of(inputs))?;
    let x = inputs[0];
    let (vals, idx) = crate::with_float_dtype!(x.dtype(), T => topk::<T>(k, axis, largest, x, &outs[0].shape)?,
        _ => crate::with_int_dtype!(x.dtype(), T => topk::<T>(k, axis, largest, x, &outs[0].shape)?,
            _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype")))));
    let idx =
        ArcArray::from_shape_vec(IxDyn(&outs[1].shape), idx).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(vec![vals, Tensor::I64(idx)])
}

fn topk<T: Elem + PartialOrd>(
    k: usize,
    axis: usize,
    largest: bool,
    x: &Tensor,
    out_shape: &[usize],
) -> Result<(Tensor, Vec<i64>)> {
    let a = array_of::<T>(NAME, x)?;
    let shape = a.shape().to_vec();
    let data: Vec<T> = a.iter().copied().collect();
    let (st, ost) = (strides(&shape), strides(out_shape));
    let mut rows = shape.clone();
    rows[axis] = 1;
    let n_out: usize = out_shape.iter().product();
    let (mut vals, mut idx) = (vec![T::default(); n_out], vec![0i64; n_out]);
    for r in 0..rows.iter().product() {
        let pos = unravel(r, &rows);
        let (base, obase) = (ravel(&pos, &st), ravel(&pos, &ost));
        let mut order: Vec<usize> = (0..shape[axis]).collect();
        let at = |i: usize| data[base + i * st[axis]];
        order.sort_by(|&i, &j| {
            if before(largest, at(i), i, at(j), j) {
                std::cmp::Ordering::Less
            } else if before(largest, at(j), j, at(i), i) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        for (j, &i) in order.iter().take(k).enumerate() {
            vals[obase + j * ost[axis]] = at(i);
            idx[obase + j * ost[axis]] = i as i64;
        }
    }
    let vals = ArcArray::from_shape_vec(IxDyn(out_shape), vals).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok((T::wrap(vals), idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_and_smallest_with_ties() {
        // [[3, 1, 3, 2], [0, 9, -1, 9]]
        let x = Tensor::from_f32(&[2, 4], vec![3., 1., 3., 2., 0., 9., -1., 9.]).unwrap();
        let r = eval(2, 1, true, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2, 2], vec![3., 3., 9., 9.]).unwrap());
        assert_eq!(r[1], Tensor::from_i64(&[2, 2], vec![0, 2, 1, 3]).unwrap());
        let r = eval(3, 1, false, &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2, 3], vec![1., 2., 3., -1., 0., 9.]).unwrap());
        assert_eq!(r[1], Tensor::from_i64(&[2, 3], vec![1, 3, 0, 2, 0, 1]).unwrap());
        let r = eval(1, 0, true, &[&x]).unwrap();
        assert_eq!(r[1], Tensor::from_i64(&[1, 4], vec![0, 1, 0, 1]).unwrap());
    }

    #[test]
    fn nan_ranks_highest() {
        let x = Tensor::from_f64(&[3], vec![1., f64::NAN, 2.]).unwrap();
        assert_eq!(eval(1, 0, true, &[&x]).unwrap()[1], Tensor::from_i64(&[1], vec![1]).unwrap());
        assert_eq!(eval(3, 0, false, &[&x]).unwrap()[1], Tensor::from_i64(&[3], vec![0, 2, 1]).unwrap());
    }

    #[test]
    fn infer_errors() {
        assert!(infer(3, 0, &[TensorType::new(DType::F32, vec![2])]).is_err());
        assert!(infer(1, 1, &[TensorType::new(DType::F32, vec![2])]).is_err());
    }
}
