//! `Concat { axis }`: joins one or more tensors of one dtype and rank along `axis`; all other
//! dims must be equal.

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Axis;

const NAME: &str = "Concat";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    let Some(first) = inputs.first() else {
        return Err(IrError::op(NAME, "expects at least 1 input, got 0"));
    };
    check::axis(NAME, axis, first.rank())?;
    let mut shape = first.shape.clone();
    for (i, t) in inputs.iter().enumerate().skip(1) {
        check::same_dtype(NAME, "input 0", first, &format!("input {i}"), t)?;
        let same_other = t.rank() == first.rank() && (0..t.rank()).all(|d| d == axis || t.shape[d] == first.shape[d]);
        if !same_other {
            return Err(IrError::op(NAME, format!("input {i} {t} does not match input 0 {first} outside axis {axis}")));
        }
        shape[axis] += t.shape[axis];
    }
    Ok(vec![TensorType::new(first.dtype, shape)])
}

pub fn eval(axis: usize, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, &check::types_of(inputs))?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => concat::<T>(axis, inputs)?);
    Ok(vec![t])
}

fn concat<T: Elem>(axis: usize, inputs: &[&Tensor]) -> Result<Tensor> {
    let views = inputs.iter().map(|t| array_of::<T>(NAME, t).map(|a| a.view())).collect::<Result<Vec<_>>>()?;
    let out = ndarray::concatenate(Axis(axis), &views).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(out.into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn joins() {
        let a = Tensor::from_f32(&[2, 1], vec![1., 2.]).unwrap();
        let b = Tensor::from_f32(&[2, 2], vec![3., 4., 5., 6.]).unwrap();
        let r = eval(1, &[&a, &b]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[2, 3], vec![1., 3., 4., 2., 5., 6.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(
            infer(1, &[ty(&[2, 1]), ty(&[3, 1])]).unwrap_err().to_string(),
            "Concat: input 1 f32[3,1] does not match input 0 f32[2,1] outside axis 1"
        );
        assert!(infer(0, &[]).is_err());
        assert!(infer(2, &[ty(&[2, 1])]).is_err());
        assert!(infer(0, &[ty(&[2]), TensorType::new(DType::I32, vec![2])]).is_err());
    }
}
