//! `Where(cond, x, y)`: picks `x` where the bool `cond` is true, else `y`; numpy broadcasting of
//! all three; `x` and `y` share any one dtype, which the result has.

use super::broadcast::{broadcast_all, view_as};
use super::check;
use super::elem::{array_of, Elem};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Zip;

const NAME: &str = "Where";

pub fn infer(inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 3, 3)?;
    let (c, x, y) = (&inputs[0], &inputs[1], &inputs[2]);
    if c.dtype != DType::Bool {
        return Err(IrError::op(NAME, format!("condition must be bool, got {}", c.dtype)));
    }
    check::same_dtype(NAME, "x", x, "y", y)?;
    let shape = broadcast_all(NAME, &[&c.shape, &x.shape, &y.shape])?;
    Ok(vec![TensorType::new(x.dtype, shape)])
}

pub fn eval(inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(&check::types_of(inputs))?.remove(0);
    let t = crate::with_any_dtype!(out.dtype, T => select::<T>(inputs, &out.shape)?);
    Ok(vec![t])
}

fn select<T: Elem>(inputs: &[&Tensor], shape: &[usize]) -> Result<Tensor> {
    let c = view_as(NAME, array_of::<bool>(NAME, inputs[0])?, shape)?;
    let x = view_as(NAME, array_of::<T>(NAME, inputs[1])?, shape)?;
    let y = view_as(NAME, array_of::<T>(NAME, inputs[2])?, shape)?;
    let out = Zip::from(&c).and(&x).and(&y).map_collect(|c, x, y| if *c { *x } else { *y });
    Ok(T::wrap(out.into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_with_broadcast() {
        let c = Tensor::from_bool(&[2, 1], vec![true, false]).unwrap();
        let x = Tensor::from_i64(&[3], vec![1, 2, 3]).unwrap();
        let y = Tensor::from_i64(&[], vec![-1]).unwrap();
        let r = eval(&[&c, &x, &y]).unwrap();
        assert_eq!(r[0], Tensor::from_i64(&[2, 3], vec![1, 2, 3, -1, -1, -1]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let f = TensorType::new(DType::F32, vec![2]);
        let b = TensorType::new(DType::Bool, vec![2]);
        let e = infer(&[f.clone(), f.clone(), f.clone()]).unwrap_err();
        assert_eq!(e.to_string(), "Where: condition must be bool, got f32");
        let i = TensorType::new(DType::I32, vec![2]);
        assert_eq!(
            infer(&[b.clone(), f.clone(), i]).unwrap_err().to_string(),
            "Where: y dtype i32 differs from x dtype f32"
        );
        assert!(infer(&[b, f]).is_err());
    }
}
