//! `Conv { strides, pads, dilations, group }(x, w[, b])`: 2-D convolution, NCHW, f32/f64.
//! `w` is `[M, C / group, kH, kW]`, `b` is `[M]`, `pads` = [top, left, bottom, right]; output
//! extent `floor((H + pt + pb - dil * (k - 1) - 1) / stride) + 1`. Accumulates in f64.

use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

const NAME: &str = "Conv";

/// Checks the 2-D window attributes shared by Conv and the pools and returns the output
/// spatial extents for input extents `hw` and kernel `k`.
pub fn window_out(
    op: &str,
    hw: [usize; 2],
    k: [usize; 2],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
) -> Result<[usize; 2]> {
    if strides.len() != 2 || strides.contains(&0) {
        return Err(IrError::op(op, format!("strides must be 2 positive values, got {strides:?}")));
    }
    if dilations.len() != 2 || dilations.contains(&0) {
        return Err(IrError::op(op, format!("dilations must be 2 positive values, got {dilations:?}")));
    }
    if pads.len() != 4 {
        return Err(IrError::op(op, format!("pads must be [top, left, bottom, right], got {pads:?}")));
    }
    if k.contains(&0) {
        return Err(IrError::op(op, format!("kernel extents must be positive, got {k:?}")));
    }
    let mut out = [0; 2];
    for i in 0..2 {
        let eff = dilations[i].saturating_mul(k[i] - 1).saturating_add(1);
        let padded = hw[i].saturating_add(pads[i]).saturating_add(pads[i + 2]);
        if padded < eff {
            return Err(IrError::op(
                op,
                format!("dilated kernel extent {eff} exceeds padded input extent {padded} (spatial dim {i})"),
            ));
        }
        out[i] = (padded - eff) / strides[i] + 1;
    }
    Ok(out)
}

/// The one float NCHW input of a windowed op (pools, Im2Col), checked with its 2-D `kernel`,
/// and the output spatial extents.
pub fn window_input<'a>(
    op: &str,
    kernel: &[usize],
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    inputs: &'a [TensorType],
) -> Result<(&'a TensorType, [usize; 2])> {
    check::count(op, inputs, 1, 1)?;
    let x = &inputs[0];
    check::float(op, "x", x)?;
    check::rank(op, "x", x, 4)?;
    if kernel.len() != 2 {
        return Err(IrError::op(op, format!("kernel must be [kH, kW], got {kernel:?}")));
    }
    let out = window_out(op, [x.shape[2], x.shape[3]], [kernel[0], kernel[1]], strides, pads, dilations)?;
    Ok((x, out))
}

pub fn infer(
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    group: usize,
    inputs: &[TensorType],
) -> Result<Vec<TensorType>> {
    check::count(NAME, inputs, 2, 3)?;
    let (x, w) = (&inputs[0], &inputs[1]);
    check::float(NAME, "x", x)?;
    check::same_dtype(NAME, "x", x, "w", w)?;
    check::rank(NAME, "x", x, 4)?;
    check::rank(NAME, "w", w, 4)?;
    let (c, m) = (x.shape[1], w.shape[0]);
    if group == 0 || c % group != 0 || m % group != 0 {
        return Err(IrError::op(NAME, format!("group {group} must divide input channels {c} and output channels {m}")));
    }
    if w.shape[1] != c / group {
        return Err(IrError::op(
            NAME,
            format!("w {w} must have {} input channels (x has {c}, group {group})", c / group),
        ));
    }
    if let Some(b) = inputs.get(2) {
        check::same_dtype(NAME, "x", x, "b", b)?;
        if b.shape != [m] {
            return Err(IrError::op(NAME, format!("bias must be [{m}], got {b}")));
        }
    }
    let [oh, ow] = window_out(NAME, [x.shape[2], x.shape[3]], [w.shape[2], w.shape[3]], strides, pads, dilations)?;
    Ok(vec![TensorType::new(x.dtype, vec![x.shape[0], m, oh, ow])])
}

pub fn eval(
    strides: &[usize],
    pads: &[usize],
    dilations: &[usize],
    group: usize,
    inputs: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let out = infer(strides, pads, dilations, group, &check::types_of(inputs))?.remove(0);
    let t = crate::with_float_dtype!(out.dtype, T => conv::<T>(strides, pads, dilations, group, inputs, &out.shape)?,
        _ => return Err(IrError::Eval(format!("{NAME}: unsupported dtype"))));
    Ok(vec![t])
}

fn conv<T: Float>(
    strides: &[usize],
    pads: &[usize],
    dil: &[usize],
    group: usize,
    inputs: &[&Tensor],
    shape: &[usize],
) -> Result<Tensor> {
    let x = array_of::<T>(NAME, inputs[0])?;
    let w = array_of::<T>(NAME, inputs[1])?;
    let (c_in, h, wd) = (x.shape()[1], x.shape()[2], x.shape()[3]);
    let (cg, kh, kw) = (w.shape()[1], w.shape()[2], w.shape()[3]);
    // Row-major f64 copies, indexed by hand below.
    let xs: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
    let ws: Vec<f64> = w.iter().map(|v| v.to_f64()).collect();
    let bs: Option<Vec<f64>> =
        inputs.get(2).map(|b| array_of::<T>(NAME, b).map(|b| b.iter().map(|v| v.to_f64()).collect())).transpose()?;
    let (n, m, oh, ow) = (shape[0], shape[1], shape[2], shape[3]);
    let mg = m / group;
    // Input coordinate of kernel tap `k` for output position `o` along spatial dim `d`, if in bounds.
    let tap = |o: usize, k: usize, d: usize, extent: usize| -> Option<usize> {
        (o * strides[d] + k * dil[d]).checked_sub(pads[d]).filter(|i| *i < extent)
    };
    let mut out = Vec::with_capacity(shape.iter().product());
    for ni in 0..n {
        for mi in 0..m {
            let g = mi / mg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = bs.as_ref().map_or(0.0, |b| b[mi]);
                    for ci in 0..cg {
                        let c = g * cg + ci;
                        for ky in 0..kh {
                            let Some(iy) = tap(oy, ky, 0, h) else { continue };
                            for kx in 0..kw {
                                let Some(ix) = tap(ox, kx, 1, wd) else { continue };
                                let xv = xs[((ni * c_in + c) * h + iy) * wd + ix];
                                acc += xv * ws[((mi * cg + ci) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    out.push(T::from_f64(acc));
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

    #[test]
    fn padded_strided_conv() {
        // x 1x1x3x3 = 1..9, w 1x1x2x2 = [[1, 0], [0, -1]], pads 1 all round, stride 2, bias 10
        let x = Tensor::from_f32(&[1, 1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
        let w = Tensor::from_f32(&[1, 1, 2, 2], vec![1., 0., 0., -1.]).unwrap();
        let b = Tensor::from_f32(&[1], vec![10.]).unwrap();
        let r = eval(&[2, 2], &[1, 1, 1, 1], &[1, 1], 1, &[&x, &w, &b]).unwrap();
        // onnxruntime: out[i,j] = xp[2i,2j] - xp[2i+1,2j+1] + 10 on the zero-padded 5x5 input
        assert_eq!(r[0], Tensor::from_f32(&[1, 1, 2, 2], vec![9., 7., 3., 6.]).unwrap());
    }

    #[test]
    fn grouped_and_dilated() {
        // 2 channels, group 2 (depthwise), each 1x1 kernel scaling its channel; dilation 2 with 2x2 kernel on 3x3
        let x = Tensor::from_f64(&[1, 2, 3, 3], (0..18).map(|v| v as f64).collect()).unwrap();
        let w = Tensor::from_f64(&[2, 1, 2, 2], vec![1., 0., 0., 0., 0., 0., 0., 2.]).unwrap();
        let r = eval(&[1, 1], &[0, 0, 0, 0], &[2, 2], 2, &[&x, &w]).unwrap();
        // ch0: x[0,0] = 0 ; ch1: 2 * x[1][2,2] = 2 * 17 = 34
        assert_eq!(r[0], Tensor::from_f64(&[1, 2, 1, 1], vec![0., 34.]).unwrap());
    }

    #[test]
    fn infer_errors() {
        let ty = |s: &[usize]| TensorType::new(DType::F32, s.to_vec());
        let e = infer(&[1, 1], &[0; 4], &[1, 1], 1, &[ty(&[1, 3, 4, 4]), ty(&[2, 2, 3, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "Conv: w f32[2,2,3,3] must have 3 input channels (x has 3, group 1)");
        let e = infer(&[1, 1], &[0; 4], &[1, 1], 2, &[ty(&[1, 3, 4, 4]), ty(&[2, 1, 3, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "Conv: group 2 must divide input channels 3 and output channels 2");
        let e = infer(&[1, 1], &[0; 4], &[1, 1], 1, &[ty(&[1, 1, 2, 2]), ty(&[1, 1, 3, 3])]).unwrap_err();
        assert_eq!(e.to_string(), "Conv: dilated kernel extent 3 exceeds padded input extent 2 (spatial dim 0)");
        assert!(infer(&[0, 1], &[0; 4], &[1, 1], 1, &[ty(&[1, 1, 4, 4]), ty(&[1, 1, 3, 3])]).is_err());
        assert!(infer(&[1, 1], &[0; 4], &[1, 1], 1, &[ty(&[1, 1, 4, 4]), ty(&[1, 1, 3, 3]), ty(&[2])]).is_err());
    }
}
