//! `Im2Col { kernel, strides, pads, dilations }(x)`: the patch matrix of a 2-D convolution input,
//! `x [N, C, H, W]` to `[N, C*kH*kW, OH*OW]`, row `(c, ky, kx)` and column `(oy, ox)` holding
//! `x[n, c, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw]`, zero where that reads padding. Output
//! extents follow Conv's window formula. A one-group Conv is `w[M, C*kH*kW] @ Im2Col(x)`; the
//! conv-im2col pass rewrites it so, and the product then runs on the tiled GEMM.

use super::check;
use super::conv::{window_input, window_out};
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "Im2Col";

pub fn infer(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    inputs: &[TensorType],
) -> Result<Vec<TensorType>> {
    let (x, [oh, ow]) = window_input(NAME, kernel, strides, pads, dilations, inputs)?;
    Ok(vec![TensorType::new(x.dtype, vec![x.shape[0], x.shape[1] * kernel[0] * kernel[1], oh * ow])])
}

pub fn eval(
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    inputs: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let out = infer(kernel, strides, pads, dilations, &check::types_of(inputs))?.remove(0);
    let hw = [inputs[0].shape()[2], inputs[0].shape()[3]];
    let [oh, ow] = window_out(NAME, hw, [kernel[0], kernel[1]], strides, pads, dilations)?;
    let geo = Geometry { kernel, strides, pads, dilations, out: [oh, ow] };
    let t = crate::with_float_dtype!(out.dtype, T => patches::<T>(&geo, inputs[0], &out.shape)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

struct Geometry<'a> {
    kernel: &'a [usize],
    strides: &'a [usize],
    pads: &'a [usize],
    dilations: &'a [usize],
    out: [usize; 2],
}

fn patches<T: Float>(g: &Geometry, x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let x = array_of::<T>(NAME, x)?;
    let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let xs: Vec<T> = x.iter().cloned().collect();
    let [oh, ow] = g.out;
    // Input coordinate of tap `k` for output position `o` along spatial dim `d`, if in bounds.
    let tap = |o: usize, k: usize, d: usize, extent: usize| -> Option<usize> {
        (o * g.strides[d] + k * g.dilations[d]).checked_sub(g.pads[d]).filter(|i| *i < extent)
    };
    let mut out = Vec::with_capacity(shape.iter().product());
    for ni in 0..n {
        for ci in 0..c {
            for ky in 0..g.kernel[0] {
                for kx in 0..g.kernel[1] {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let v = match (tap(oy, ky, 0, h), tap(ox, kx, 1, w)) {
                                (Some(iy), Some(ix)) => xs[((ni * c + ci) * h + iy) * w + ix],
                                _ => T::from_f64(0.0),
                            };
                            out.push(v);
                        }
                    }
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

    #[test]
    fn padded_strided_patches() {
        // x 1x1x3x3 = 1..9, 2x2 kernel, pads 1 all round, stride 2: out 2x2, rows = the 4 taps.
        let x = Tensor::from_f32(&[1, 1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        let r = eval(&[2, 2], &[2, 2], &[1, 1, 1, 1], &[1, 1], &[&x]).unwrap();
        // Padded 5x5 input xp; column (oy, ox) reads xp[2oy + ky, 2ox + kx].
        #[rustfmt::skip]
        let want = vec![
            0., 0., 0., 5.,  // (ky, kx) = (0, 0)
            0., 0., 4., 6.,  // (0, 1)
            0., 2., 0., 8.,  // (1, 0)
            1., 3., 7., 9.,  // (1, 1)
        ];
        assert_eq!(r[0], Tensor::from_f32(&[1, 4, 4], want).unwrap());
    }

    #[test]
    fn rejects_bad_geometry() {
        let ty = TensorType::new(crate::dtype::DType::F32, vec![1, 2, 3, 3]);
        assert!(infer(&[4, 4], &[1, 1], &[0; 4], &[1, 1], std::slice::from_ref(&ty)).is_err());
        assert!(infer(&[2], &[1, 1], &[0; 4], &[1, 1], std::slice::from_ref(&ty)).is_err());
        let r3 = TensorType::new(crate::dtype::DType::F32, vec![2, 3, 3]);
        assert!(infer(&[1, 1], &[1, 1], &[0; 4], &[1, 1], &[r3]).is_err());
    }
}
