//! `LayerNorm { axis, epsilon }(x, scale[, bias])` on f32/f64: normalizes over dims
//! `axis..rank` with the population variance, `(x - mean) / sqrt(var + eps) * scale + bias`;
//! scale and bias broadcast (numpy, unidirectionally) to `x.shape[axis..]`. Computed in f64.

use super::broadcast::{broadcasts_to, view_as};
use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "LayerNorm";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 3)?;
    let x = &inputs[0];
    check::float(NAME, "x", x)?;
    check::axis(NAME, axis, x.rank())?;
    let norm = &x.shape[axis..];
    for (i, what) in [(1, "scale"), (2, "bias")] {
        if let Some(t) = inputs.get(i) {
            check::same_dtype(NAME, "x", x, what, t)?;
            if !broadcasts_to(&t.shape, norm) {
                return Err(IrError::op(
                    NAME,
                    format!("{what} {t} does not broadcast to the normalized dims {norm:?}"),
                ));
            }
        }
    }
    Ok(vec![x.clone()])
}

pub fn eval(axis: usize, epsilon: f32, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, &check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => normalize::<T>(NAME, true, axis, epsilon as f64, inputs)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

/// Rows over dims `axis..` normalized, in f64: `(x - mean) / sqrt(var + eps)` when `center`
/// (LayerNorm), `x / sqrt(mean(x^2) + eps)` otherwise (RmsNorm); then `* scale + bias`.
pub(super) fn normalize<T: Float>(
    name: &str,
    center: bool,
    axis: usize,
    eps: f64,
    inputs: &[&Tensor],
) -> Result<Tensor> {
    let x = array_of::<T>(name, inputs[0])?;
    let norm: Vec<usize> = x.shape()[axis..].to_vec();
    let inner: usize = norm.iter().product();
    let outer: usize = x.shape()[..axis].iter().product();
    let flat = |t: &Tensor| -> Result<Vec<f64>> {
        Ok(view_as(name, array_of::<T>(name, t)?, &norm)?.iter().map(|v| v.to_f64()).collect())
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
        let mean = if center { row.iter().sum::<f64>() / inner as f64 } else { 0.0 };
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / inner as f64;
        let inv = 1.0 / (var + eps).sqrt();
        for (i, v) in row.iter().enumerate() {
            out.push(T::from_f64((v - mean) * inv * scale[i] + bias[i]));
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(x.shape()), out).map_err(|e| IrError::Eval(format!("{name}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn normalizes_last_dim() {
        // row [1, 3]: mean 2, var 1 -> [-1, 1] / sqrt(1 + 0) ; scale [2, 3], bias [0.5, 0]
        let x = Tensor::from_f32(&[2, 2], vec![1., 3., 5., 5.]).unwrap();
        let s = Tensor::from_f32(&[2], vec![2., 3.]).unwrap();
        let b = Tensor::from_f32(&[2], vec![0.5, 0.]).unwrap();
        let r = eval(1, 0.0, &[&x, &s, &b]).unwrap();
        // (the second row is constant: 0 / sqrt(0 + 0) is NaN with eps 0, so only row 0 is checked)
        assert_eq!(r[0].to_f64_vec()[..2], [-1.5, 3.0]);
        let r = eval(1, 1.0, &[&x, &s]).unwrap();
        // var 1 + eps 1 -> divide by sqrt(2); second row -> 0
        let v = r[0].to_f64_vec();
        let want = [-2.0 / 2f64.sqrt(), 3.0 / 2f64.sqrt(), 0.0, 0.0];
        for (g, w) in v.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
    }

    #[test]
    fn normalizes_several_dims() {
        // x [1, 2, 2] over axis 1: values 0, 1, 2, 3 -> mean 1.5, var 1.25
        let x = Tensor::from_f64(&[1, 2, 2], vec![0., 1., 2., 3.]).unwrap();
        let s = Tensor::from_f64(&[], vec![1.0]).unwrap();
        let r = eval(1, 0.0, &[&x, &s]).unwrap()[0].to_f64_vec();
        let sd = 1.25f64.sqrt();
        assert_eq!(r, vec![-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(
            infer(2, &[ty(&[2, 3]), ty(&[3])]).unwrap_err().to_string(),
            "LayerNorm: axis 2 is out of range for rank 2"
        );
        assert_eq!(
            infer(1, &[ty(&[2, 3]), ty(&[2])]).unwrap_err().to_string(),
            "LayerNorm: scale f32[2] does not broadcast to the normalized dims [3]"
        );
        assert!(infer(1, &[ty(&[2, 3])]).is_err());
    }
}
