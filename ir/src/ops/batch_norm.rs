//! `BatchNorm { epsilon }(x, scale, bias, mean, var)` on f32/f64, inference form over dim 1:
//! `(x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c]`, computed in the input precision.

use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "BatchNorm";
const PARAMS: [&str; 4] = ["scale", "bias", "mean", "var"];

pub fn infer(inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 5, 5)?;
    let x = &inputs[0];
    check::float(NAME, "x", x)?;
    if x.rank() < 2 {
        return Err(IrError::op(NAME, format!("x must have rank >= 2 (N, C, ...), got {x}")));
    }
    let c = x.shape[1];
    for (p, what) in inputs[1..].iter().zip(PARAMS) {
        check::same_dtype(NAME, "x", x, what, p)?;
        if p.shape != [c] {
            return Err(IrError::op(NAME, format!("{what} must be [{c}] (the channel count of x), got {p}")));
        }
    }
    Ok(vec![x.clone()])
}

pub fn eval(epsilon: f32, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(&check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => batch_norm::<T>(epsilon, inputs)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn batch_norm<T: Float>(epsilon: f32, inputs: &[&Tensor]) -> Result<Tensor> {
    let x = array_of::<T>(NAME, inputs[0])?;
    let p: Vec<Vec<T>> = inputs[1..]
        .iter()
        .map(|t| array_of::<T>(NAME, t).map(|a| a.iter().copied().collect()))
        .collect::<Result<_>>()?;
    let eps = T::from_f64(epsilon as f64);
    let c = x.shape()[1];
    let inner: usize = x.shape()[2..].iter().product();
    let out: Vec<T> = x
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let ch = (i / inner.max(1)) % c.max(1);
            (*v - p[2][ch]) / (p[3][ch] + eps).sqrt() * p[0][ch] + p[1][ch]
        })
        .collect();
    let arr = ArcArray::from_shape_vec(IxDyn(x.shape()), out).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn per_channel() {
        // x [1, 2, 2]: channel 0 = [1, 3], channel 1 = [10, 20]
        let x = Tensor::from_f32(&[1, 2, 2], vec![1., 3., 10., 20.]).unwrap();
        let v = |a: f32, b: f32| Tensor::from_f32(&[2], vec![a, b]).unwrap();
        let (scale, bias, mean, var) = (v(2., 1.), v(0., -1.), v(1., 10.), v(4., 25.));
        let r = eval(0.0, &[&x, &scale, &bias, &mean, &var]).unwrap();
        // ch0: (x-1)/2*2+0 = [0, 2]; ch1: (x-10)/5*1-1 = [-1, 1]
        assert_eq!(r[0], Tensor::from_f32(&[1, 2, 2], vec![0., 2., -1., 1.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        let p = ty(&[3]);
        let e = infer(&[ty(&[1, 2, 4]), p.clone(), p.clone(), p.clone(), p.clone()]).unwrap_err();
        assert_eq!(e.to_string(), "BatchNorm: scale must be [2] (the channel count of x), got f32[3]");
        assert!(infer(&[ty(&[3]), p.clone(), p.clone(), p.clone(), p]).is_err());
    }
}
