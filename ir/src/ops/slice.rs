//! `Slice { axes, starts, ends, steps }`, normalized at import (any dtype). Per listed axis of
//! extent `d` the walk is `start, start + step, ...` while `step > 0 ? i < end : i > end`:
//! - `step > 0`: `0 <= start <= d`, `0 <= end <= d`;
//! - `step < 0`: `-1 <= start < d`, `-1 <= end < d` (`end = -1` runs down to index 0).
//!
//! Unlisted axes are kept whole.

use super::check;
use super::elem::{array_of, Elem};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::Axis;

const NAME: &str = "Slice";

/// The indices selected along one axis of extent `d` (the attributes are validated first).
pub fn indices(start: i64, end: i64, step: i64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(i as usize);
        match i.checked_add(step) {
            Some(next) => i = next,
            None => break,
        }
    }
    out
}

fn check_axis(d: usize, start: i64, end: i64, step: i64) -> Option<String> {
    let d = d as i64;
    let ok = match step {
        0 => return Some("step must not be 0".into()),
        s if s > 0 => (0..=d).contains(&start) && (0..=d).contains(&end),
        _ => (-1..d).contains(&start) && (-1..d).contains(&end),
    };
    (!ok).then(|| format!("start {start}, end {end}, step {step} are not normalized for extent {d}"))
}

pub fn infer(
    axes: &[usize],
    starts: &[i64],
    ends: &[i64],
    steps: &[i64],
    inputs: &[TensorType],
) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    if starts.len() != axes.len() || ends.len() != axes.len() || steps.len() != axes.len() {
        return Err(IrError::op(
            NAME,
            format!(
                "axes, starts, ends and steps must have one length, got {}, {}, {}, {}",
                axes.len(),
                starts.len(),
                ends.len(),
                steps.len()
            ),
        ));
    }
    let mut shape = x.shape.clone();
    for (i, a) in axes.iter().enumerate() {
        check::axis(NAME, *a, x.rank())?;
        if axes[..i].contains(a) {
            return Err(IrError::op(NAME, format!("axis {a} is listed twice")));
        }
        if let Some(msg) = check_axis(x.shape[*a], starts[i], ends[i], steps[i]) {
            return Err(IrError::op(NAME, format!("axis {a}: {msg}")));
        }
        shape[*a] = indices(starts[i], ends[i], steps[i]).len();
    }
    Ok(vec![TensorType::new(x.dtype, shape)])
}

pub fn eval(axes: &[usize], starts: &[i64], ends: &[i64], steps: &[i64], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(axes, starts, ends, steps, &check::types_of(inputs))?;
    let t = crate::with_any_dtype!(inputs[0].dtype(), T => {
        let mut a = array_of::<T>(NAME, inputs[0])?.to_owned();
        for (i, ax) in axes.iter().enumerate() {
            a = a.select(Axis(*ax), &indices(starts[i], ends[i], steps[i]));
        }
        T::wrap(a.into_shared())
    });
    Ok(vec![t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn forward_and_backward() {
        // [[0, 1, 2, 3], [4, 5, 6, 7]]
        let x = Tensor::from_i32(&[2, 4], (0..8).collect()).unwrap();
        let r = eval(&[1], &[1], &[4], &[2], &[&x]).unwrap();
        assert_eq!(r[0], Tensor::from_i32(&[2, 2], vec![1, 3, 5, 7]).unwrap());
        let r = eval(&[0, 1], &[1, 3], &[-1, -1], &[-1, -2], &[&x]).unwrap();
        // rows 1, 0; cols 3, 1
        assert_eq!(r[0], Tensor::from_i32(&[2, 2], vec![7, 5, 3, 1]).unwrap());
        let r = eval(&[1], &[2], &[2], &[1], &[&x]).unwrap();
        assert_eq!(r[0].shape(), &[2, 0]);
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![2, 4]);
        assert_eq!(
            infer(&[1], &[0], &[5], &[1], std::slice::from_ref(&ty)).unwrap_err().to_string(),
            "Slice: axis 1: start 0, end 5, step 1 are not normalized for extent 4"
        );
        assert_eq!(
            infer(&[1], &[0], &[4], &[0], std::slice::from_ref(&ty)).unwrap_err().to_string(),
            "Slice: axis 1: step must not be 0"
        );
        assert!(infer(&[0, 0], &[0, 0], &[1, 1], &[1, 1], std::slice::from_ref(&ty)).is_err());
        assert!(infer(&[0], &[0, 1], &[1], &[1], &[ty]).is_err());
    }
}
