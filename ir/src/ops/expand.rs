//! `Expand { shape }`: broadcast the input (numpy rules, only the input is stretched) to the
//! static result `shape` recorded at import (any dtype).

use super::broadcast::{broadcasts_to, view_as};
use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;

const NAME: &str = "Expand";

pub fn infer(shape: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    if !broadcasts_to(&x.shape, shape) {
        return Err(IrError::op(NAME, format!("{x} does not broadcast to {shape:?}")));
    }
    Ok(vec![TensorType::new(x.dtype, shape.to_vec())])
}

pub fn eval(shape: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(shape, &check::types_of(inputs))?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => expand::<T>(shape, inputs[0])?);
    Ok(vec![t])
}

fn expand<T: Elem>(shape: &[usize], x: &Tensor) -> Result<Tensor> {
    let v = view_as(NAME, array_of::<T>(NAME, x)?, shape)?;
    Ok(T::wrap(v.as_standard_layout().into_owned().into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn broadcasts() {
        let x = Tensor::from_bool(&[2, 1], vec![true, false]).unwrap();
        let r = eval(&[2, 2, 2], &[&x]).unwrap();
        let want = vec![true, true, false, false, true, true, false, false];
        assert_eq!(r[0], Tensor::from_bool(&[2, 2, 2], want).unwrap());
    }

    #[test]
    fn infer_errors() {
        let e = infer(&[3, 2], &[TensorType::new(DType::F32, vec![2, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "Expand: f32[2,3] does not broadcast to [3, 2]");
        assert!(infer(&[1], &[TensorType::new(DType::F32, vec![3, 1])]).is_err());
    }
}
