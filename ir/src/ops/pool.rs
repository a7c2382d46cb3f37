//! `MaxPool` and `AvgPool` (2-D, NCHW, f32/f64), sharing Conv's window arithmetic. Padding is
//! virtual: MaxPool ignores padded cells; AvgPool divides by `kH * kW` when
//! `count_include_pad`, else by the count of in-bounds cells (sums in f64). Each pad must be
//! smaller than the dilated kernel extent, so every window holds a real cell.

use super::check;
use super::conv::window_input;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "Pool";

pub fn infer(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    inputs: &[TensorType],
) -> Result<Vec<TensorType>> {
    let (x, [oh, ow]) = window_input(NAME, kernel, strides, pads, dilations, inputs)?;
    for (i, p) in pads.iter().enumerate() {
        let eff = dilations[i % 2].saturating_mul(kernel[i % 2] - 1).saturating_add(1);
        if *p >= eff {
            return Err(IrError::op(NAME, format!("pad {p} (pads[{i}]) must be smaller than the kernel extent {eff}")));
        }
    }
    Ok(vec![TensorType::new(x.dtype, vec![x.shape[0], x.shape[1], oh, ow])])
}

pub fn eval_max(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    inputs: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let out = infer(kernel, strides, pads, dilations, &check::types_of(inputs))?.remove(0);
    let t = crate::with_float_dtype!(out.dtype, T => pool::<T>(kernel, strides, pads, dilations, inputs[0], &out.shape, |cells, _| {
        // NaN propagates (once `m` is NaN no comparison replaces it), as in numpy's max
        cells.iter().fold(T::NEG_INFINITY, |m, v| if *v > m || v.is_nan() { *v } else { m })
    })?, _ => return Err(IrError::Eval("MaxPool: unsupported dtype".into())));
    Ok(vec![t])
}

pub fn eval_avg(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    count_include_pad: bool,
    inputs: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let out = infer(kernel, strides, pads, &[1, 1], &check::types_of(inputs))?.remove(0);
    let full = (kernel[0] * kernel[1]) as f64;
    let t = crate::with_float_dtype!(out.dtype, T => pool::<T>(kernel, strides, pads, &[1, 1], inputs[0], &out.shape, |cells, _| {
        let sum: f64 = cells.iter().map(|v| v.to_f64()).sum();
        T::from_f64(sum / if count_include_pad { full } else { cells.len() as f64 })
    })?, _ => return Err(IrError::Eval("AvgPool: unsupported dtype".into())));
    Ok(vec![t])
}

/// Apply `f` to the in-bounds cells of every window.
fn pool<T: Float>(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dil: &[usize],
    x: &Tensor,
    shape: &[usize],
    f: impl Fn(&[T], usize) -> T,
) -> Result<Tensor> {
    let x = array_of::<T>(NAME, x)?;
    let (h, w) = (x.shape()[2] as isize, x.shape()[3] as isize);
    let mut out = Vec::with_capacity(shape.iter().product());
    let mut cells = Vec::with_capacity(kernel[0] * kernel[1]);
    for n in 0..shape[0] {
        for c in 0..shape[1] {
            for oy in 0..shape[2] {
                for ox in 0..shape[3] {
                    cells.clear();
                    for ky in 0..kernel[0] {
                        let iy = (oy * strides[0] + ky * dil[0]) as isize - pads[0] as isize;
                        for kx in 0..kernel[1] {
                            let ix = (ox * strides[1] + kx * dil[1]) as isize - pads[1] as isize;
                            if (0..h).contains(&iy) && (0..w).contains(&ix) {
                                cells.push(x[[n, c, iy as usize, ix as usize].as_slice()]);
                            }
                        }
                    }
                    out.push(f(&cells, kernel[0] * kernel[1]));
                }
            }
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(shape), out).map_err(|e| IrError::Eval(format!("{NAME}: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    fn x() -> Tensor {
        // 1x1x3x3: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
        Tensor::from_f32(&[1, 1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn max_with_padding() {
        let r = eval_max(&[2, 2], &[2, 2], &[1, 1, 1, 1], &[1, 1], &[&x()]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 2, 2], vec![1., 3., 7., 9.]).unwrap());
        let neg = Tensor::from_f32(&[1, 1, 1, 2], vec![-5., -7.]).unwrap();
        let r = eval_max(&[1, 2], &[1, 1], &[0, 1, 0, 1], &[1, 1], &[&neg]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 1, 3], vec![-5., -5., -7.]).unwrap());
    }

    #[test]
    fn avg_with_and_without_pad_count() {
        let r = eval_avg(&[2, 2], &[2, 2], &[1, 1, 1, 1], false, &[&x()]).unwrap();
        // windows: {1}, {2,3}, {4,7}, {5,6,8,9}
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 2, 2], vec![1., 2.5, 5.5, 7.]).unwrap());
        let r = eval_avg(&[2, 2], &[2, 2], &[1, 1, 1, 1], true, &[&x()]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 2, 2], vec![0.25, 1.25, 2.75, 7.]).unwrap());
        let r = eval_avg(&[3, 3], &[1, 1], &[0; 4], false, &[&x()]).unwrap();
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 1, 1], vec![5.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = TensorType::new(DType::F32, vec![1, 1, 3, 3]);
        let e = infer(&[2, 2], &[1, 1], &[2, 0, 0, 0], &[1, 1], std::slice::from_ref(&ty)).unwrap_err();
        assert_eq!(e.to_string(), "Pool: pad 2 (pads[0]) must be smaller than the kernel extent 2");
        assert!(infer(&[2], &[1, 1], &[0; 4], &[1, 1], std::slice::from_ref(&ty)).is_err());
        assert!(infer(&[4, 4], &[1, 1], &[0; 4], &[1, 1], &[ty]).is_err());
        assert!(infer(&[2, 2], &[1, 1], &[0; 4], &[1, 1], &[TensorType::new(DType::F32, vec![3, 3])]).is_err());
    }
}
