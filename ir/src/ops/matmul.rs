//! `MatMul(a, b)` with numpy `matmul` semantics on f32/f64: rank-1 operands are promoted (a to
//! `[1, K]`, b to `[K, 1]`) and the added dim dropped from the result; batch dims broadcast.
//! Dot products accumulate in f64 and round once.

use super::broadcast::broadcast_shapes;
use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "MatMul";

/// The problem after promotion: batch shape, M, K, N, and the result shape.
struct Dims {
    batch: Vec<usize>,
    m: usize,
    k: usize,
    n: usize,
    out: Vec<usize>,
}

fn dims(a: &[usize], b: &[usize]) -> Result<Dims> {
    if a.is_empty() || b.is_empty() {
        return Err(IrError::op(NAME, format!("operands must have rank >= 1, got {a:?} and {b:?}")));
    }
    let pa: Vec<usize> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
    let pb: Vec<usize> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
    let (m, k) = (pa[pa.len() - 2], pa[pa.len() - 1]);
    let (kb, n) = (pb[pb.len() - 2], pb[pb.len() - 1]);
    if k != kb {
        return Err(IrError::op(NAME, format!("inner dims differ: {a:?} @ {b:?} ({k} vs {kb})")));
    }
    let batch = broadcast_shapes(&pa[..pa.len() - 2], &pb[..pb.len() - 2])
        .ok_or_else(|| IrError::op(NAME, format!("batch dims of {a:?} and {b:?} do not broadcast")))?;
    let mut out = batch.clone();
    if a.len() > 1 {
        out.push(m);
    }
    if b.len() > 1 {
        out.push(n);
    }
    Ok(Dims { batch, m, k, n, out })
}

pub fn infer(inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 2)?;
    check::float(NAME, "a", &inputs[0])?;
    check::same_dtype(NAME, "a", &inputs[0], "b", &inputs[1])?;
    let d = dims(&inputs[0].shape, &inputs[1].shape)?;
    Ok(vec![TensorType::new(inputs[0].dtype, d.out)])
}

pub fn eval(inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(&check::types_of(inputs))?;
    let t = crate::with_float_dtype!(inputs[0].dtype(), T => matmul::<T>(inputs[0], inputs[1])?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn matmul<T: Float>(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (a, b) = (array_of::<T>(NAME, a)?, array_of::<T>(NAME, b)?);
    let d = dims(a.shape(), b.shape())?;
    // Promoted operands, broadcast to the batch shape.
    let pa = promote(a, true)?;
    let pb = promote(b, false)?;
    let mut sa = d.batch.clone();
    sa.extend([d.m, d.k]);
    let mut sb = d.batch.clone();
    sb.extend([d.k, d.n]);
    // Materialize both operands row-major in f64, broadcast to the batch shape.
    let va: Vec<f64> = super::broadcast::view_as(NAME, &pa, &sa)?.iter().map(|v| v.to_f64()).collect();
    let vb: Vec<f64> = super::broadcast::view_as(NAME, &pb, &sb)?.iter().map(|v| v.to_f64()).collect();
    let nb: usize = d.batch.iter().product();
    let (m, k, n) = (d.m, d.k, d.n);
    let mut out = Vec::with_capacity(nb * m * n);
    for bi in 0..nb {
        let (a, b) = (&va[bi * m * k..(bi + 1) * m * k], &vb[bi * k * n..(bi + 1) * k * n]);
        for i in 0..m {
            for j in 0..n {
                let acc: f64 = (0..k).map(|kk| a[i * k + kk] * b[kk * n + j]).sum();
                out.push(T::from_f64(acc));
            }
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(&d.out), out).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

/// Rank-1 promotion: `[K]` becomes `[1, K]` for the left operand, `[K, 1]` for the right.
fn promote<T: Float>(x: &ArcArray<T, IxDyn>, left: bool) -> Result<ArcArray<T, IxDyn>> {
    if x.ndim() != 1 {
        return Ok(x.clone());
    }
    let k = x.len();
    let shape = if left { vec![1, k] } else { vec![k, 1] };
    x.clone().into_shape_with_order(IxDyn(&shape)).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn matrix_and_vector_products() {
        let a = t(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
        let b = t(&[3, 2], &[7., 8., 9., 10., 11., 12.]);
        assert_eq!(eval(&[&a, &b]).unwrap()[0], t(&[2, 2], &[58., 64., 139., 154.]));
        let v = t(&[3], &[1., 0., -1.]);
        assert_eq!(eval(&[&a, &v]).unwrap()[0], t(&[2], &[-2., -2.]));
        assert_eq!(eval(&[&v, &b]).unwrap()[0], t(&[2], &[-4., -4.]));
        assert_eq!(eval(&[&v, &v]).unwrap()[0], t(&[], &[2.]));
    }

    #[test]
    fn batch_broadcast() {
        // a: [2, 1, 2] (two 1x2 rows), b: [2, 2] shared
        let a = t(&[2, 1, 2], &[1., 2., 3., 4.]);
        let b = t(&[2, 2], &[1., 10., 100., 1000.]);
        assert_eq!(eval(&[&a, &b]).unwrap()[0], t(&[2, 1, 2], &[201., 2010., 403., 4030.]));
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(infer(&[ty(&[5, 1, 2, 3]), ty(&[4, 3, 7])]).unwrap()[0].shape, vec![5, 4, 2, 7]);
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        assert_eq!(
            infer(&[ty(&[2, 3]), ty(&[2, 3])]).unwrap_err().to_string(),
            "MatMul: inner dims differ: [2, 3] @ [2, 3] (3 vs 2)"
        );
        assert!(infer(&[ty(&[]), ty(&[2])]).is_err());
        assert!(infer(&[ty(&[2, 2, 2]), ty(&[3, 2, 2])]).is_err());
        let i = TensorType::new(DType::I32, vec![2, 2]);
        assert!(infer(&[i.clone(), i]).is_err());
    }
}
