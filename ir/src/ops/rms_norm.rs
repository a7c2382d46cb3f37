//! `RmsNorm { axis, epsilon }(x, scale[, bias])` on floats: `x / sqrt(mean(x^2) + eps) * scale +
//! bias` over dims `axis..rank`, with no mean subtraction. Typing is LayerNorm's (same operands,
//! same broadcasting). Computed in f64.
//!
//! RMSNorm equals LayerNorm on rows whose mean is zero; the `pre-ln-to-rmsnorm` pass relies on
//! that identity.

use super::broadcast::view_as;
use super::check;
use super::elem::{array_of, Float};
use super::layer_norm;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "RmsNorm";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    layer_norm::infer(axis, inputs).map_err(|e| match e {
        IrError::Op { msg, .. } => IrError::op(NAME, msg),
        e => e,
    })
}

pub fn eval(axis: usize, epsilon: f32, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, &check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => rms_norm::<T>(axis, epsilon as f64, inputs)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn rms_norm<T: Float>(axis: usize, eps: f64, inputs: &[&Tensor]) -> Result<Tensor> {
    let x = array_of::<T>(NAME, inputs[0])?;
    let norm: Vec<usize> = x.shape()[axis..].to_vec();
    let inner: usize = norm.iter().product();
    let outer: usize = x.shape()[..axis].iter().product();
    let flat = |t: &Tensor| -> Result<Vec<f64>> {
        Ok(view_as(NAME, array_of::<T>(NAME, t)?, &norm)?.iter().map(|v| v.to_f64()).collect())
    };
    let scale = flat(inputs[1])?;
    let bias = match inputs.get(2) {
        Some(b) => flat(b)?,
        None => vec![0.0; inner],
    };
    let xs: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
    let mut out = Vec::with_capacity(xs.len());
    for o in 0..outer {
        let row = &xs[o * inner..(o + 1) * inner];
        let ms = row.iter().map(|v| v * v).sum::<f64>() / inner as f64;
        let inv = 1.0 / (ms + eps).sqrt();
        for (i, v) in row.iter().enumerate() {
            out.push(T::from_f64(v * inv * scale[i] + bias[i]));
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(x.shape()), out).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn divides_by_root_mean_square() {
        // row [3, 4]: mean square 12.5 -> [3, 4] / sqrt(12.5); scale [1, 2], bias [0, 1]
        let x = Tensor::from_f64(&[1, 2], vec![3., 4.]).unwrap();
        let s = Tensor::from_f64(&[2], vec![1., 2.]).unwrap();
        let b = Tensor::from_f64(&[2], vec![0., 1.]).unwrap();
        let r = eval(1, 0.0, &[&x, &s, &b]).unwrap()[0].to_f64_vec();
        let d = 12.5f64.sqrt();
        assert_eq!(r, vec![3. / d, 8. / d + 1.]);
    }

    #[test]
    fn equals_layer_norm_on_zero_mean_rows() {
        let x = Tensor::from_f32(&[2, 3], vec![1., -2., 1., 0.5, 0., -0.5]).unwrap();
        let s = Tensor::from_f32(&[3], vec![1., 2., 3.]).unwrap();
        let a = eval(1, 1e-5, &[&x, &s]).unwrap()[0].to_f64_vec();
        let b = layer_norm::eval(1, 1e-5, &[&x, &s]).unwrap()[0].to_f64_vec();
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-6, "{p} vs {q}");
        }
    }

    #[test]
    fn infer_errors_name_rms_norm() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(
            infer(1, &[ty(&[2, 3]), ty(&[2])]).unwrap_err().to_string(),
            "RmsNorm: scale f32[2] does not broadcast to the normalized dims [3]"
        );
    }
}
