//! Row-major index arithmetic shared by the indexing ops (GatherElements, GatherND, Scatter*,
//! Pad, CumSum, TopK, ArgMax): strides, flat <-> multi-index, and ONNX index normalization.

use crate::error::{IrError, Result};

/// Row-major strides of `shape` (in elements).
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of flat position `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        if shape[d] > 0 {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
    }
    idx
}

/// The flat position of `idx` given `strides`.
pub fn ravel(idx: &[usize], strides: &[usize]) -> usize {
    idx.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// An ONNX index into an extent `dim`: negative counts from the end; out of range is an error.
pub fn fix_index(op: &str, i: i64, dim: usize) -> Result<usize> {
    let d = dim as i64;
    let j = if i < 0 { i + d } else { i };
    if (0..d).contains(&j) {
        Ok(j as usize)
    } else {
        Err(IrError::Eval(format!("{op}: index {i} is out of range for extent {dim}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let shape = [2, 3, 4];
        let s = strides(&shape);
        assert_eq!(s, vec![12, 4, 1]);
        assert_eq!(unravel(17, &shape), vec![1, 1, 1]);
        assert_eq!(ravel(&[1, 1, 1], &s), 17);
        assert_eq!(fix_index("T", -1, 3).unwrap(), 2);
        assert!(fix_index("T", 3, 3).is_err());
        assert!(fix_index("T", -4, 3).is_err());
    }
}
