//! `Pad { pads, mode }(x[, value])`: `pads` = `[begin_0.., end_0..]` (2 * rank entries; negative
//! entries crop). Output dim `d + begin + end`; output index `o` reads source `s = o - begin`:
//! - `constant`: `x[s]` when in range, else `value` (a scalar of x's dtype; 0 when absent);
//! - `edge`: `s` clamped into `0..d`;
//! - `reflect`: `s` mirrored at both ends without repeating the edge (period `2(d-1)`);
//! - `wrap`: `s` modulo `d`.
//!
//! Non-constant modes need a non-empty source dim wherever the output is non-empty.

use super::check;
use super::elem::{array_of, Elem};
use super::index::{ravel, strides, unravel};
use crate::error::{IrError, Result};
use crate::op::PadMode;
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "Pad";

pub fn infer(pads: &[i64], mode: PadMode, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 2)?;
    let x = &inputs[0];
    let r = x.rank();
    if pads.len() != 2 * r {
        return Err(IrError::op(NAME, format!("pads {pads:?} must have 2 * rank = {} entries", 2 * r)));
    }
    if let Some(v) = inputs.get(1) {
        check::same_dtype(NAME, "input", x, "value", v)?;
        if v.num_elements() != 1 {
            return Err(IrError::op(NAME, format!("value must be a single element, got {v}")));
        }
    }
    let mut shape = Vec::with_capacity(r);
    for d in 0..r {
        let n = x.shape[d] as i64 + pads[d] + pads[d + r];
        if n < 0 {
            return Err(IrError::op(NAME, format!("pads {pads:?} crop dim {d} of {x} below zero")));
        }
        if n > 0 && x.shape[d] == 0 && mode != PadMode::Constant {
            return Err(IrError::op(NAME, format!("{} padding of the empty dim {d} of {x}", mode.name())));
        }
        shape.push(n as usize);
    }
    Ok(vec![TensorType::new(x.dtype, shape)])
}

/// The source index for source position `s` on a dim of extent `d`, or `None` for the
/// constant value (see the module doc).
pub fn source(mode: PadMode, s: i64, d: i64) -> Option<i64> {
    match mode {
        PadMode::Constant => (0..d).contains(&s).then_some(s),
        PadMode::Edge => Some(s.clamp(0, d - 1)),
        PadMode::Wrap => Some(s.rem_euclid(d)),
        PadMode::Reflect if d == 1 => Some(0),
        PadMode::Reflect => {
            let p = 2 * (d - 1);
            let j = s.rem_euclid(p);
            Some(if j >= d { p - j } else { j })
        }
    }
}

pub fn eval(pads: &[i64], mode: PadMode, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer(pads, mode, &check::types_of(inputs))?.remove(0);
    let x = inputs[0];
    let (xs, r) = (x.shape(), x.shape().len());
    let st = strides(xs);
    // Per output element: the flat source position, or None for the constant.
    let mut src = Vec::with_capacity(out.num_elements());
    'elems: for p in 0..out.num_elements() {
        let o = unravel(p, &out.shape);
        let mut pos = Vec::with_capacity(r);
        for d in 0..r {
            match source(mode, o[d] as i64 - pads[d], xs[d] as i64) {
                Some(s) => pos.push(s as usize),
                None => {
                    src.push(None);
                    continue 'elems;
                }
            }
        }
        src.push(Some(ravel(&pos, &st)));
    }
    let t = crate::with_any_dtype!(x.dtype(), T => {
        let flat: Vec<T> = array_of::<T>(NAME, x)?.iter().copied().collect();
        let value = match inputs.get(1) {
            Some(v) => array_of::<T>(NAME, v)?.iter().copied().next().unwrap_or_default(),
            None => T::default(),
        };
        let vals: Vec<T> = src.iter().map(|s| s.map_or(value, |s| flat[s])).collect();
        T::wrap(ArcArray::from_shape_vec(IxDyn(&out.shape), vals).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?)
    });
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn modes_on_a_row() {
        let x = Tensor::from_i32(&[1, 3], vec![1, 2, 3]).unwrap();
        let pads = [0, 2, 0, 3];
        let run = |m| eval(&pads, m, &[&x]).unwrap().remove(0);
        assert_eq!(run(PadMode::Constant), Tensor::from_i32(&[1, 8], vec![0, 0, 1, 2, 3, 0, 0, 0]).unwrap());
        assert_eq!(run(PadMode::Edge), Tensor::from_i32(&[1, 8], vec![1, 1, 1, 2, 3, 3, 3, 3]).unwrap());
        assert_eq!(run(PadMode::Reflect), Tensor::from_i32(&[1, 8], vec![3, 2, 1, 2, 3, 2, 1, 2]).unwrap());
        assert_eq!(run(PadMode::Wrap), Tensor::from_i32(&[1, 8], vec![2, 3, 1, 2, 3, 1, 2, 3]).unwrap());
        let v = Tensor::from_i32(&[], vec![9]).unwrap();
        let r = eval(&[1, -1, 0, 0], PadMode::Constant, &[&x, &v]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2, 2], vec![9, 9, 2, 3]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let x = TensorType::new(DType::F32, vec![2, 3]);
        assert!(infer(&[0, 0], PadMode::Constant, std::slice::from_ref(&x)).is_err());
        assert!(infer(&[0, -2, 0, -2], PadMode::Constant, std::slice::from_ref(&x)).is_err());
        assert!(infer(&[0, 0, 0, 0], PadMode::Constant, &[x.clone(), TensorType::new(DType::I32, vec![])]).is_err());
        assert!(infer(&[0, 1, 0, 0], PadMode::Edge, &[TensorType::new(DType::F32, vec![2, 0])]).is_err());
    }
}
