//! `GatherND { batch_dims }(data, indices)`: with `b = batch_dims` and `m = indices.shape[-1]`,
//! `out[B.., I.., R..] = data[B.., indices[B.., I.., 0..m], R..]`; the output shape is
//! `indices.shape[..q-1] ++ data.shape[b+m..]`. The leading `b` dims of data and indices must
//! agree. Negative indices count from the end; one still out of range is an evaluation error.

use super::check;
use super::elem::{array_of, Elem};
use super::index::{fix_index, ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "GatherND";

pub fn infer(batch_dims: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 2)?;
    let (data, idx) = (&inputs[0], &inputs[1]);
    if !idx.dtype.is_int() {
        return Err(IrError::op(NAME, format!("indices must be i32 or i64, got {}", idx.dtype)));
    }
    let (r, q, b) = (data.rank(), idx.rank(), batch_dims);
    if q < 1 || b >= q || b >= r {
        return Err(IrError::op(NAME, format!("batch_dims {b} needs ranks above it, got data {data}, indices {idx}")));
    }
    let m = idx.shape[q - 1];
    if m < 1 || b + m > r {
        return Err(IrError::op(NAME, format!("index depth {m} is out of range for data {data}, batch_dims {b}")));
    }
    if data.shape[..b] != idx.shape[..b] {
        return Err(IrError::op(NAME, format!("batch dims of data {data} and indices {idx} differ")));
    }
    let mut shape = idx.shape[..q - 1].to_vec();
    shape.extend(&data.shape[b + m..]);
    Ok(vec![TensorType::new(data.dtype, shape)])
}

pub fn eval(batch_dims: usize, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(batch_dims, &check::types_of(inputs))?.remove(0);
    let (data, ind) = (inputs[0], inputs[1]);
    let (ds, is) = (data.shape(), ind.shape());
    let (b, q) = (batch_dims, is.len());
    let m = is[q - 1];
    let idx = ind.to_i64_vec()?;
    let dst = strides(ds);
    let mut src = Vec::with_capacity(out.num_elements());
    for p in 0..out.num_elements() {
        let o = unravel(p, &out.shape);
        // o = [B.., I.., R..]: the index tuple lives at indices[o[..q-1], 0..m].
        let row = ravel(&o[..q - 1], &strides(&is[..q - 1])) * m;
        let mut pos = o[..b].to_vec();
        for j in 0..m {
            pos.push(fix_index(NAME, idx[row + j], ds[b + j])?);
        }
        pos.extend(&o[q - 1..]);
        src.push(ravel(&pos, &dst));
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
        // spec example 1: data [[0, 1], [2, 3]], indices [[0, 0], [1, 1]] -> [0, 3]
        let data = Tensor::from_i32(&[2, 2], vec![0, 1, 2, 3]).unwrap();
        let idx = Tensor::from_i64(&[2, 2], vec![0, 0, 1, 1]).unwrap();
        assert_eq!(eval(0, &[&data, &idx]).unwrap()[0], Tensor::from_i32(&[2], vec![0, 3]).unwrap());
        // example 2: indices [[1], [0]] -> [[2, 3], [0, 1]]
        let idx = Tensor::from_i64(&[2, 1], vec![1, -2]).unwrap();
        assert_eq!(eval(0, &[&data, &idx]).unwrap()[0], Tensor::from_i32(&[2, 2], vec![2, 3, 0, 1]).unwrap());
        // example 5 (batch_dims 1): data [[[0,1],[2,3]],[[4,5],[6,7]]], indices [[1],[0]] -> [[2,3],[4,5]]
        let data = Tensor::from_i32(&[2, 2, 2], (0..8).collect()).unwrap();
        let idx = Tensor::from_i64(&[2, 1], vec![1, 0]).unwrap();
        assert_eq!(eval(1, &[&data, &idx]).unwrap()[0], Tensor::from_i32(&[2, 2], vec![2, 3, 4, 5]).unwrap());
        let bad = Tensor::from_i64(&[2, 1], vec![2, 0]).unwrap();
        assert!(eval(1, &[&data, &bad]).is_err());
    }

    #[test]
    fn infer_errors() {
        let d = TensorType::new(DType::F32, vec![2, 2]);
        assert!(infer(0, &[d.clone(), TensorType::new(DType::I64, vec![1, 3])]).is_err());
        assert!(infer(1, &[d.clone(), TensorType::new(DType::I64, vec![3, 1])]).is_err());
        assert!(infer(0, &[d, TensorType::new(DType::F32, vec![1, 1])]).is_err());
    }
}
