//! `Softmax { axis }` on f32/f64 (ONNX >= 13): `exp(x - max) / sum(exp(x - max))` along one
//! axis, computed in f64 and rounded once.

use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Axis;

const NAME: &str = "Softmax";

pub fn infer(axis: usize, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    check::float(NAME, "input", &inputs[0])?;
    check::axis(NAME, axis, inputs[0].rank())?;
    Ok(vec![inputs[0].clone()])
}

pub fn eval(axis: usize, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axis, &check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => softmax::<T>(axis, inputs[0])?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn softmax<T: Float>(axis: usize, x: &Tensor) -> Result<Tensor> {
    let x = array_of::<T>(NAME, x)?;
    let mut y = x.map(|v| v.to_f64());
    for mut lane in y.lanes_mut(Axis(axis)) {
        let max = lane.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        lane.mapv_inplace(|v| (v - max).exp());
        let sum: f64 = lane.sum();
        lane.mapv_inplace(|v| v / sum);
    }
    Ok(T::wrap(y.mapv(T::from_f64).into_shared()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn values_along_each_axis() {
        let x = Tensor::from_f32(&[2, 2], vec![0.0, 2f32.ln(), 1000.0, 1000.0]).unwrap();
        let r = eval(1, &[&x]).unwrap()[0].to_f64_vec();
        let want = [1.0 / 3.0, 2.0 / 3.0, 0.5, 0.5];
        for (g, w) in r.iter().zip(want) {
            assert!((g - w).abs() < 1e-7, "{g} vs {w}");
        }
        // along axis 0: column [0, 1000] -> [~0, 1]
        let r = eval(0, &[&x]).unwrap()[0].to_f64_vec();
        assert_eq!(r[0], 0.0);
        assert_eq!(r[2], 1.0);
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![2, 3]);
        assert_eq!(infer(2, &[ty]).unwrap_err().to_string(), "Softmax: axis 2 is out of range for rank 2");
        assert!(infer(0, &[TensorType::new(DType::I64, vec![2])]).is_err());
    }
}
