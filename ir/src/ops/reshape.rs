//! `Reshape { shape }`: the same elements in row-major order under a new static shape (any
//! dtype). Flatten, Squeeze and Unsqueeze import as this op.

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::IxDyn;

const NAME: &str = "Reshape";

pub fn infer(shape: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    let n = shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d));
    if n != Some(x.num_elements()) {
        let n = n.map_or("too many".to_string(), |n| n.to_string());
        return Err(IrError::op(
            NAME,
            format!("cannot reshape {x} ({} elements) to {shape:?} ({n} elements)", x.num_elements()),
        ));
    }
    Ok(vec![TensorType::new(x.dtype, shape.to_vec())])
}

pub fn eval(shape: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(shape, &check::types_of(inputs))?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => reshape::<T>(shape, inputs[0])?);
    Ok(vec![t])
}

/// Row-major reshape of a tensor of element type `T` (also used by Gather).
pub(crate) fn reshape<T: Elem>(shape: &[usize], x: &Tensor) -> Result<Tensor> {
    let a = array_of::<T>(NAME, x)?;
    let data: Vec<T> = a.iter().copied().collect();
    let arr =
        ndarray::ArcArray::from_shape_vec(IxDyn(shape), data).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn keeps_row_major_order() {
        let x = Tensor::from_i64(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        let r = eval(&[3, 1, 2], &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[3, 1, 2], vec![1, 2, 3, 4, 5, 6]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let e = infer(&[4], &[TensorType::new(DType::F32, vec![2, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "Reshape: cannot reshape f32[2,3] (6 elements) to [4] (4 elements)");
    }
}
