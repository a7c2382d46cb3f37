//! `RmsNorm { axis, epsilon }(x, scale[, bias])` on floats: `x / sqrt(mean(x^2) + eps) * scale +
//! bias` over dims `axis..rank`, with no mean subtraction. Typing is LayerNorm's (same operands,
//! same broadcasting). Computed in f64.
//!
//! RMSNorm equals LayerNorm on rows whose mean is zero; the `pre-ln-to-rmsnorm` pass relies on
//! that identity.

use super::check;
use super::layer_norm;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;

const NAME: &str = "RmsNorm";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    layer_norm::infer(axis, inputs).map_err(|e| match e {
        IrError::Op { msg, .. } => IrError::op(NAME, msg),
        e => e,
    })
}

pub fn eval(axis: usize, epsilon: f32, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, &check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => layer_norm::normalize::<T>(NAME, false, axis, epsilon as f64, inputs)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
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
