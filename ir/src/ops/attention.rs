//! `Attention { scale, mask }(q, kt, v[, mask])`: fused scaled dot-product attention,
//! `softmax(mask(scale * q @ kt)) @ v` with the softmax over the key axis T. `q [..., S, D]`,
//! `kt [..., D, T]` (keys already transposed, as models compute them), `v [..., T, Dv]` share
//! their leading dims; the output is `[..., S, Dv]`. The mask, when present, broadcasts to
//! `[..., S, T]` and has T as its last dim: a float added to the scores (`add`), or a bool
//! keeping the score where true and putting `fill` where false (`where`). Made by the
//! fuse-attention pass; the codegen runs it without writing the `[S, T]` scores to memory.
//!
//! The reference is the unfused sequence itself (MatMul, Mul by the scale, Add or Where,
//! Softmax, MatMul), so the interpreter's answer is by construction the one before fusion.

use super::broadcast::broadcast_shapes;
use super::{binary, check, matmul, softmax, where_};
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::{AttentionMask, BinaryOp};
use crate::tensor::Tensor;
use crate::types::TensorType;

const NAME: &str = "Attention";

pub fn infer(mask: AttentionMask, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    let n = if mask == AttentionMask::None { 3 } else { 4 };
    check::count(NAME, inputs, n, n)?;
    let (q, kt, v) = (&inputs[0], &inputs[1], &inputs[2]);
    check::float(NAME, "q", q)?;
    check::same_dtype(NAME, "q", q, "kt", kt)?;
    check::same_dtype(NAME, "q", q, "v", v)?;
    let r = q.rank();
    if r < 2 || kt.rank() != r || v.rank() != r {
        return Err(IrError::op(NAME, format!("q, kt and v must share a rank of at least 2, got {q}, {kt}, {v}")));
    }
    let lead = &q.shape[..r - 2];
    if kt.shape[..r - 2] != *lead || v.shape[..r - 2] != *lead {
        return Err(IrError::op(NAME, format!("q, kt and v must share their leading dims, got {q}, {kt}, {v}")));
    }
    let (s, d, t, dv) = (q.shape[r - 2], q.shape[r - 1], kt.shape[r - 1], v.shape[r - 1]);
    if kt.shape[r - 2] != d || v.shape[r - 2] != t {
        return Err(IrError::op(NAME, format!("q [.., S, D], kt [.., D, T], v [.., T, Dv] disagree: {q}, {kt}, {v}")));
    }
    if let Some(m) = inputs.get(3) {
        match mask {
            AttentionMask::Add => check::same_dtype(NAME, "q", q, "mask", m)?,
            _ if m.dtype != DType::Bool => {
                return Err(IrError::op(NAME, format!("a where mask must be bool, got {}", m.dtype)));
            }
            _ => {}
        }
        let scores: Vec<usize> = lead.iter().copied().chain([s, t]).collect();
        let fits = m.rank() <= r && m.shape.last() == Some(&t) && broadcast_shapes(&m.shape, &scores) == Some(scores);
        if !fits {
            return Err(IrError::op(
                NAME,
                format!("mask {m} must broadcast to the scores {lead:?} x [{s}, {t}] with last dim {t}"),
            ));
        }
    }
    let mut out = q.shape.clone();
    out[r - 1] = dv;
    Ok(vec![TensorType::new(q.dtype, out)])
}

pub fn eval(scale: f32, mask: AttentionMask, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(mask, &check::types_of(inputs))?;
    let dt = inputs[0].dtype();
    let scalar = |x: f32| match dt {
        DType::F64 => Tensor::from_f64(&[], vec![x as f64]),
        _ => Tensor::from_f32(&[], vec![x]),
    };
    if !matches!(dt, DType::F32 | DType::F64) {
        return Err(IrError::Eval(format!("{NAME}: unsupported dtype {dt}")));
    }
    let s = matmul::eval(&[inputs[0], inputs[1]])?.remove(0);
    let s = binary::eval(BinaryOp::Mul, &[&s, &scalar(scale)?])?.remove(0);
    let s = match mask {
        AttentionMask::None => s,
        AttentionMask::Add => binary::eval(BinaryOp::Add, &[&s, inputs[3]])?.remove(0),
        AttentionMask::Where { fill } => where_::eval(&[inputs[3], &s, &scalar(fill)?])?.remove(0),
    };
    let p = softmax::eval(s.shape().len() - 1, &[&s])?.remove(0);
    matmul::eval(&[&p, inputs[2]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_query_two_keys() {
        // q = [1, 0], keys k0 = [1, 0], k1 = [0, 1]: scores [1, 0] * 2 = [2, 0].
        let q = Tensor::from_f32(&[1, 2], vec![1.0, 0.0]).unwrap();
        let kt = Tensor::from_f32(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        let v = Tensor::from_f32(&[2, 1], vec![10.0, 20.0]).unwrap();
        let r = eval(2.0, AttentionMask::None, &[&q, &kt, &v]).unwrap();
        let p0 = 1.0 / (1.0 + (-2.0f64).exp());
        let want = 10.0 * p0 + 20.0 * (1.0 - p0);
        assert!((r[0].to_f64_vec()[0] - want).abs() < 1e-5);
        // Masking key 0 out leaves key 1 alone.
        let m = Tensor::from_bool(&[1, 2], vec![false, true]).unwrap();
        let r = eval(2.0, AttentionMask::Where { fill: -1e9 }, &[&q, &kt, &v, &m]).unwrap();
        assert_eq!(r[0].to_f64_vec(), vec![20.0]);
    }

    #[test]
    fn rejects_bad_shapes() {
        let f = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        let (q, kt, v) = (f(&[2, 3, 4]), f(&[2, 4, 5]), f(&[2, 5, 6]));
        assert_eq!(infer(AttentionMask::None, &[q.clone(), kt.clone(), v.clone()]).unwrap()[0].shape, vec![2, 3, 6]);
        assert!(infer(AttentionMask::None, &[q.clone(), f(&[2, 3, 5]), v.clone()]).is_err());
        assert!(infer(AttentionMask::None, &[q.clone(), kt.clone(), f(&[1, 5, 6])]).is_err());
        // Mask: last dim must be T, the rest broadcast.
        assert!(infer(AttentionMask::Add, &[q.clone(), kt.clone(), v.clone(), f(&[1, 1, 5])]).is_ok());
        assert!(infer(AttentionMask::Add, &[q.clone(), kt.clone(), v.clone(), f(&[3, 1])]).is_err());
        let b = TensorType::new(DType::Bool, vec![3, 5]);
        assert!(infer(AttentionMask::Add, &[q.clone(), kt.clone(), v.clone(), b.clone()]).is_err());
        assert!(infer(AttentionMask::Where { fill: 0.0 }, &[q, kt, v, b]).is_ok());
    }
}
