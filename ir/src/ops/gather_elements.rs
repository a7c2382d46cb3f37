//! `GatherElements { axis }(data, indices)`: `out[i] = data[i with dim axis replaced by
//! indices[i]]`; indices (i32/i64) have the data's rank and `indices.shape[d] <= data.shape[d]`
//! off the axis; the output has the indices' shape. Negative indices count from the end; an
//! index still out of range is an evaluation error. Data may have any dtype.

use super::check;
use super::elem::{array_of, Elem};
use super::index::{fix_index, ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "GatherElements";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 2)?;
    let (data, idx) = (&inputs[0], &inputs[1]);
    check::axis(NAME, axis, data.rank())?;
    if !idx.dtype.is_int() {
        return Err(IrError::op(NAME, format!("indices must be i32 or i64, got {}", idx.dtype)));
    }
    check::rank(NAME, "indices", idx, data.rank())?;
    for d in 0..data.rank() {
        if d != axis && idx.shape[d] > data.shape[d] {
            return Err(IrError::op(NAME, format!("indices {idx} exceed data {data} on dim {d}")));
        }
    }
    Ok(vec![TensorType::new(data.dtype, idx.shape.clone())])
}

pub fn eval(axis: usize, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(axis, &check::types_of(inputs))?.remove(0);
    let (data, dim) = (inputs[0], inputs[0].shape()[axis]);
    let st = strides(data.shape());
    let mut src = Vec::with_capacity(out.num_elements());
    for (p, i) in inputs[1].to_i64_vec()?.into_iter().enumerate() {
        let mut pos = unravel(p, &out.shape);
        pos[axis] = fix_index(NAME, i, dim)?;
        src.push(ravel(&pos, &st));
    }
    let t = crate::with_any_dtype!(data.dtype(), T => {
        let flat: Vec<T> = array_of::<T>(NAME, data)?.iter().copied().collect();
        let vals: Vec<T> = src.iter().map(|&s| flat[s]).collect();
        T::wrap(ArcArray::from_shape_vec(IxDyn(&out.shape), vals).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?)
    });
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn onnx_examples() {
        // spec example: data [[1, 2], [3, 4]], indices [[0, 0], [1, 0]], axis 1 -> [[1, 1], [4, 3]]
        let data = Tensor::from_f32(&[2, 2], vec![1., 2., 3., 4.]).unwrap();
        let idx = Tensor::from_i64(&[2, 2], vec![0, 0, 1, 0]).unwrap();
        assert_eq!(eval(1, &[&data, &idx]).unwrap()[0], Tensor::from_f32(&[2, 2], vec![1., 1., 4., 3.]).unwrap());
        // axis 0 with negative indices: [[-1, 0]] -> [[3, 2]]
        let idx = Tensor::from_i32(&[1, 2], vec![-1, 0]).unwrap();
        assert_eq!(eval(0, &[&data, &idx]).unwrap()[0], Tensor::from_f32(&[1, 2], vec![3., 2.]).unwrap());
        let bad = Tensor::from_i32(&[1, 2], vec![2, 0]).unwrap();
        assert!(eval(0, &[&data, &bad]).is_err());
    }

    #[test]
    fn infer_errors() {
        let d = TensorType::new(DType::F32, vec![2, 2]);
        assert!(infer(0, &[d.clone(), TensorType::new(DType::I64, vec![2])]).is_err());
        assert!(infer(0, &[d.clone(), TensorType::new(DType::I64, vec![1, 3])]).is_err());
        assert!(infer(0, &[d, TensorType::new(DType::F32, vec![1, 2])]).is_err());
    }
}
