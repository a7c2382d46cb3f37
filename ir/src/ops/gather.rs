//! `Gather { axis }(data, indices)`: output shape `data.shape[..axis] ++ indices.shape ++
//! data.shape[axis + 1..]`; indices are i32/i64, negative ones count from the end, and an index
//! still out of range is an evaluation error. Data may have any dtype.

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Axis;

const NAME: &str = "Gather";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 2)?;
    let (data, idx) = (&inputs[0], &inputs[1]);
    check::axis(NAME, axis, data.rank())?;
    if !idx.dtype.is_int() {
        return Err(IrError::op(NAME, format!("indices must be i32 or i64, got {}", idx.dtype)));
    }
    let mut shape = data.shape[..axis].to_vec();
    shape.extend(&idx.shape);
    shape.extend(&data.shape[axis + 1..]);
    Ok(vec![TensorType::new(data.dtype, shape)])
}

pub fn eval(axis: usize, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(axis, &check::types_of(inputs))?.remove(0);
    let d = inputs[0].shape()[axis] as i64;
    let idx = inputs[1]
        .to_i64_vec()?
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + d } else { i };
            if (0..d).contains(&j) {
                Ok(j as usize)
            } else {
                Err(IrError::Eval(format!("{NAME}: index {i} is out of range for extent {d} on axis {axis}")))
            }
        })
        .collect::<Result<Vec<usize>>>()?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => {
        let picked = array_of::<T>(NAME, inputs[0])?.select(Axis(axis), &idx);
        super::reshape::reshape::<T>(&out.shape, &T::wrap(picked.into_shared()))?
    });
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn gathers_rows_and_scalars() {
        // data [[1, 2], [3, 4], [5, 6]]
        let data = Tensor::from_f32(&[3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        let idx = Tensor::from_i64(&[2, 2], vec![0, -1, 1, 1]).unwrap();
        let r = eval(0, &[&data, &idx]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2, 2, 2], vec![1., 2., 5., 6., 3., 4., 3., 4.]).unwrap());
        let s = Tensor::from_i32(&[], vec![1]).unwrap();
        let r = eval(1, &[&data, &s]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[3], vec![2., 4., 6.]).unwrap());
        let bad = Tensor::from_i32(&[1], vec![3]).unwrap();
        assert_eq!(
            eval(0, &[&data, &bad]).unwrap_err().to_string(),
            "interpreter: Gather: index 3 is out of range for extent 3 on axis 0"
        );
    }

    #[test]
    fn infer_errors() {
        let d = TensorType::new(DType::F32, vec![3, 2]);
        let e = infer(0, &[d.clone(), TensorType::new(DType::F32, vec![1])]).unwrap_err();
        assert_eq!(e.to_string(), "Gather: indices must be i32 or i64, got f32");
        assert!(infer(2, &[d, TensorType::new(DType::I64, vec![1])]).is_err());
    }
}
