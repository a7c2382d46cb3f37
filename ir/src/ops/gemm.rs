//! `Gemm { alpha, beta, trans_a, trans_b }(A, B[, C])` = `alpha * op(A) @ op(B) + beta * C` on
//! f32/f64, A and B rank 2, C optional and unidirectionally broadcast to `[M, N]`. Computed in
//! f64 and rounded once per element.

use super::broadcast::{broadcasts_to, view_as};
use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "Gemm";

pub fn infer(trans_a: bool, trans_b: bool, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 3)?;
    let (a, b) = (&inputs[0], &inputs[1]);
    check::float(NAME, "A", a)?;
    check::same_dtype(NAME, "A", a, "B", b)?;
    check::rank(NAME, "A", a, 2)?;
    check::rank(NAME, "B", b, 2)?;
    let (m, k) = if trans_a { (a.shape[1], a.shape[0]) } else { (a.shape[0], a.shape[1]) };
    let (kb, n) = if trans_b { (b.shape[1], b.shape[0]) } else { (b.shape[0], b.shape[1]) };
    if k != kb {
        return Err(IrError::op(NAME, format!("inner dims differ: op(A) is [{m}, {k}], op(B) is [{kb}, {n}]")));
    }
    if let Some(c) = inputs.get(2) {
        check::same_dtype(NAME, "A", a, "C", c)?;
        if !broadcasts_to(&c.shape, &[m, n]) {
            return Err(IrError::op(NAME, format!("C {c} does not broadcast to [{m}, {n}]")));
        }
    }
    Ok(vec![TensorType::new(a.dtype, vec![m, n])])
}

pub fn eval(alpha: f32, beta: f32, trans_a: bool, trans_b: bool, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(trans_a, trans_b, &check::types_of(inputs))?.remove(0);
    let t = crate::with_float_dtype!(out.dtype, T => gemm::<T>(alpha as f64, beta as f64, trans_a, trans_b, inputs, &out.shape)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn gemm<T: Float>(alpha: f64, beta: f64, ta: bool, tb: bool, inputs: &[&Tensor], shape: &[usize]) -> Result<Tensor> {
    let (m, n) = (shape[0], shape[1]);
    let mut a = array_of::<T>(NAME, inputs[0])?.view();
    let mut b = array_of::<T>(NAME, inputs[1])?.view();
    if ta {
        a = a.reversed_axes();
    }
    if tb {
        b = b.reversed_axes();
    }
    let k = a.shape()[1];
    let c = match inputs.get(2) {
        Some(c) => Some(view_as(NAME, array_of::<T>(NAME, c)?, shape)?),
        None => None,
    };
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0f64;
            for kk in 0..k {
                acc += a[[i, kk].as_slice()].to_f64() * b[[kk, j].as_slice()].to_f64();
            }
            let mut v = alpha * acc;
            if let Some(c) = &c {
                v += beta * c[[i, j].as_slice()].to_f64();
            }
            out.push(T::from_f64(v));
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(shape), out).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn transposes_scales_and_bias() {
        // A^T with A = [[1, 3], [2, 4]] -> [[1, 2], [3, 4]]; B = I * 2 given transposed.
        let a = t(&[2, 2], &[1., 3., 2., 4.]);
        let b = t(&[2, 2], &[2., 0., 0., 2.]);
        let c = t(&[2], &[10., 20.]);
        let r = eval(0.5, 2.0, true, true, &[&a, &b, &c]).unwrap();
        // 0.5 * [[2, 4], [6, 8]] + 2 * [10, 20] = [[21, 42], [23, 44]]
        assert_eq!(r[0], t(&[2, 2], &[21., 42., 23., 44.]));
        let r = eval(1.0, 1.0, false, false, &[&a, &b]).unwrap();
        assert_eq!(r[0], t(&[2, 2], &[2., 6., 4., 8.]));
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(
            infer(false, false, &[ty(&[2, 3]), ty(&[2, 3])]).unwrap_err().to_string(),
            "Gemm: inner dims differ: op(A) is [2, 3], op(B) is [2, 3]"
        );
        assert_eq!(infer(false, true, &[ty(&[2, 3]), ty(&[4, 3])]).unwrap()[0].shape, vec![2, 4]);
        assert_eq!(
            infer(false, true, &[ty(&[2, 3]), ty(&[4, 3]), ty(&[3])]).unwrap_err().to_string(),
            "Gemm: C f32[3] does not broadcast to [2, 4]"
        );
        assert!(infer(false, false, &[ty(&[2, 3, 1]), ty(&[3, 1])]).is_err());
    }
}
