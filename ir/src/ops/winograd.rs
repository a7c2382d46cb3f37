//! Winograd F(2x2, 3x3): a 3x3 stride-1 convolution as 16 matrix products over 4x4 input tiles
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2x2 block of
//! output pixels `Y = A^T [ (G g G^T) . (B^T d B) ] A` from the 4x4 input patch `d` under it and
//! the 3x3 filter `g`: 16 multiplies per (output channel, input channel, tile) instead of 36.
//!
//! - `WinogradInput { pads }(x [N, C, H, W])` -> `[16, C, N*TH*TW]`: element `(4i + j, c, t)` is
//!   `(B^T d B)[i, j]` of tile `t = (n, ty, tx)`, `d[a, b] = x[n, c, 2ty + a - pt, 2tx + b - pl]`
//!   (zero outside the image). `OH = H + pt + pb - 2`, `OW = W + pl + pr - 2`, `TH = ceil(OH/2)`,
//!   `TW = ceil(OW/2)`.
//! - The product: `M[e] = U[e] @ V[e]` with the filters transformed at compile time,
//!   `U[4i + j, m, c] = (G g[m, c] G^T)[i, j]` ([`filter`]), `[16, M, C]`.
//! - `WinogradOutput { out: [OH, OW] }(m [16, M, N*TH*TW][, b [M]])` -> `[N, M, OH, OW]`: pixel
//!   `(2ty + i, 2tx + j)` is `(A^T m_t A)[i, j] + b[m]` (pixels past `OH`/`OW` are dropped).
//!
//! The transforms' coefficients are 0, +-1 and +-1/2, so the result matches the direct sum to a
//! few ulps of its terms. The conv-winograd pass rewrites eligible convolutions so.

use super::check;
use super::elem::{array_of, Float};
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

/// `B^T`: the input tile transform.
pub const BT: [[f64; 4]; 4] =
    [[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]];
/// `G`: the filter transform.
pub const G: [[f64; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];
/// `A^T`: the output tile transform.
pub const AT: [[f64; 4]; 2] = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];

/// The transformed filters `U [16, M, C]` of `w [M, C, 3, 3]` (row-major), in f64.
pub fn filter(w: &[f64], m: usize, c: usize) -> Vec<f64> {
    let mut u = vec![0.0; 16 * m * c];
    for mi in 0..m {
        for ci in 0..c {
            let g = &w[(mi * c + ci) * 9..][..9];
            // G g G^T: (4x3)(3x3)(3x4).
            let mut gg = [[0.0; 3]; 4];
            for (i, row) in gg.iter_mut().enumerate() {
                for (b, v) in row.iter_mut().enumerate() {
                    *v = (0..3).map(|a| G[i][a] * g[a * 3 + b]).sum();
                }
            }
            for i in 0..4 {
                for j in 0..4 {
                    let v: f64 = (0..3).map(|b| gg[i][b] * G[j][b]).sum();
                    u[((i * 4 + j) * m + mi) * c + ci] = v;
                }
            }
        }
    }
    u
}

/// The tile grid `[TH, TW]` of an `[OH, OW]` output.
pub fn tiles([oh, ow]: [usize; 2]) -> [usize; 2] {
    [oh.div_ceil(2), ow.div_ceil(2)]
}

/// The output extents `[OH, OW]` of input extents `[H, W]` under `pads` (3x3 window, stride 1).
pub fn out_extents(op: &str, hw: [usize; 2], pads: &[usize]) -> Result<[usize; 2]> {
    if pads.len() != 4 || pads.iter().any(|p| *p > 2) {
        return Err(IrError::op(op, format!("pads must be [top, left, bottom, right], each at most 2, got {pads:?}")));
    }
    let mut out = [0; 2];
    for d in 0..2 {
        let padded = hw[d] + pads[d] + pads[d + 2];
        if padded < 3 {
            return Err(IrError::op(op, format!("padded input extent {padded} is below the 3x3 window (dim {d})")));
        }
        out[d] = padded - 2;
    }
    Ok(out)
}

pub fn infer_input(pads: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    const NAME: &str = "WinogradInput";
    check::count(NAME, inputs, 1, 1)?;
    let x = &inputs[0];
    check::float(NAME, "x", x)?;
    check::rank(NAME, "x", x, 4)?;
    let [th, tw] = tiles(out_extents(NAME, [x.shape[2], x.shape[3]], pads)?);
    Ok(vec![TensorType::new(x.dtype, vec![16, x.shape[1], x.shape[0] * th * tw])])
}

pub fn infer_output(out: &[usize], inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    const NAME: &str = "WinogradOutput";
    check::count(NAME, inputs, 1, 2)?;
    let m = &inputs[0];
    check::float(NAME, "m", m)?;
    check::rank(NAME, "m", m, 3)?;
    let [oh, ow] = match out {
        [oh, ow] if *oh > 0 && *ow > 0 => [*oh, *ow],
        _ => return Err(IrError::op(NAME, format!("out must be [OH, OW], both positive, got {out:?}"))),
    };
    let [th, tw] = tiles([oh, ow]);
    if m.shape[0] != 16 || !m.shape[2].is_multiple_of(th * tw) {
        return Err(IrError::op(
            NAME,
            format!("m must be [16, M, N*{th}*{tw}] for a {oh}x{ow} output, got {:?}", m.shape),
        ));
    }
    if let Some(b) = inputs.get(1) {
        check::same_dtype(NAME, "m", m, "b", b)?;
        if b.shape != [m.shape[1]] {
            return Err(IrError::op(NAME, format!("b must be [{}], got {:?}", m.shape[1], b.shape)));
        }
    }
    Ok(vec![TensorType::new(m.dtype, vec![m.shape[2] / (th * tw), m.shape[1], oh, ow])])
}

pub fn eval_input(pads: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let out = infer_input(pads, &check::types_of(inputs))?.remove(0);
    let t = crate::with_float_dtype!(out.dtype, T => input_tiles::<T>(pads, inputs[0], &out.shape)?,
        _ => return Err(IrError::Eval("WinogradInput: unsupported dtype".into())));
    Ok(vec![t])
}

pub fn eval_output(out: &[usize], inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let ty = infer_output(out, &check::types_of(inputs))?.remove(0);
    let t = crate::with_float_dtype!(ty.dtype, T => output_tiles::<T>(inputs, &ty.shape)?,
        _ => return Err(IrError::Eval("WinogradOutput: unsupported dtype".into())));
    Ok(vec![t])
}

fn input_tiles<T: Float>(pads: &[usize], x: &Tensor, shape: &[usize]) -> Result<Tensor> {
    let x = array_of::<T>("WinogradInput", x)?;
    let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let [th, tw] = tiles(out_extents("WinogradInput", [h, w], pads)?);
    let nt = n * th * tw;
    let mut out = vec![T::from_f64(0.0); 16 * c * nt];
    for ni in 0..n {
        for ci in 0..c {
            for ty in 0..th {
                for tx in 0..tw {
                    let mut d = [[0.0f64; 4]; 4];
                    for (a, row) in d.iter_mut().enumerate() {
                        for (b, v) in row.iter_mut().enumerate() {
                            let iy = (2 * ty + a).checked_sub(pads[0]).filter(|i| *i < h);
                            let ix = (2 * tx + b).checked_sub(pads[1]).filter(|i| *i < w);
                            if let (Some(iy), Some(ix)) = (iy, ix) {
                                *v = x[[ni, ci, iy, ix]].to_f64();
                            }
                        }
                    }
                    let t = (ni * th + ty) * tw + tx;
                    for i in 0..4 {
                        for j in 0..4 {
                            let mut v = 0.0;
                            for a in 0..4 {
                                for b in 0..4 {
                                    v += BT[i][a] * d[a][b] * BT[j][b];
                                }
                            }
                            out[((i * 4 + j) * c + ci) * nt + t] = T::from_f64(v);
                        }
                    }
                }
            }
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(shape), out).map_err(|e| IrError::Eval(format!("WinogradInput: {e}")))?;
    Ok(T::wrap(arr))
}

fn output_tiles<T: Float>(inputs: &[&Tensor], shape: &[usize]) -> Result<Tensor> {
    let m = array_of::<T>("WinogradOutput", inputs[0])?;
    let bias = inputs.get(1).map(|b| array_of::<T>("WinogradOutput", b)).transpose()?;
    let (n, mc, oh, ow) = (shape[0], shape[1], shape[2], shape[3]);
    let [th, tw] = tiles([oh, ow]);
    let mut out = vec![T::from_f64(0.0); n * mc * oh * ow];
    for ni in 0..n {
        for mi in 0..mc {
            let b = bias.map_or(0.0, |b| b[[mi]].to_f64());
            for ty in 0..th {
                for tx in 0..tw {
                    let t = (ni * th + ty) * tw + tx;
                    for (i, ati) in AT.iter().enumerate() {
                        for (j, atj) in AT.iter().enumerate() {
                            let (y, x) = (2 * ty + i, 2 * tx + j);
                            if y >= oh || x >= ow {
                                continue;
                            }
                            let mut v = b;
                            for (a, ata) in ati.iter().enumerate() {
                                for (bb, atb) in atj.iter().enumerate() {
                                    v += ata * m[[a * 4 + bb, mi, t]].to_f64() * atb;
                                }
                            }
                            out[((ni * mc + mi) * oh + y) * ow + x] = T::from_f64(v);
                        }
                    }
                }
            }
        }
    }
    let arr = ArcArray::from_shape_vec(IxDyn(shape), out).map_err(|e| IrError::Eval(format!("WinogradOutput: {e}")))?;
    Ok(T::wrap(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    /// Input transform, product with the transformed filters, output transform: the direct
    /// convolution (odd extents and uneven pads, so partial tiles and both borders are covered).
    #[test]
    fn three_stages_are_the_convolution() {
        let (n, c, m, h, w) = (2, 3, 2, 5, 6);
        let pads = [1, 0, 2, 1];
        let xs: Vec<f32> = (0..n * c * h * w).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect();
        let ws: Vec<f32> = (0..m * c * 9).map(|i| ((i * 5 % 13) as f32 - 6.0) / 8.0).collect();
        let bs = [0.5f32, -0.25];
        let x = Tensor::from_f32(&[n, c, h, w], xs.clone()).unwrap();
        let [oh, ow] = out_extents("t", [h, w], &pads).unwrap();
        let v = eval_input(&pads, &[&x]).unwrap().remove(0);
        let nt = v.shape()[2];
        let u = filter(&ws.iter().map(|v| *v as f64).collect::<Vec<_>>(), m, c);
        let vv = array_of::<f32>("t", &v).unwrap();
        let mut prod = vec![0f32; 16 * m * nt];
        for e in 0..16 {
            for mi in 0..m {
                for t in 0..nt {
                    prod[(e * m + mi) * nt + t] =
                        (0..c).map(|ci| u[(e * m + mi) * c + ci] * vv[[e, ci, t]] as f64).sum::<f64>() as f32;
                }
            }
        }
        let p = Tensor::from_f32(&[16, m, nt], prod).unwrap();
        let b = Tensor::from_f32(&[m], bs.to_vec()).unwrap();
        let y = eval_output(&[oh, ow], &[&p, &b]).unwrap().remove(0);
        let want = super::super::conv::eval(
            &[1, 1],
            &pads,
            &[1, 1],
            1,
            &[&x, &Tensor::from_f32(&[m, c, 3, 3], ws).unwrap(), &b],
        )
        .unwrap()
        .remove(0);
        assert_eq!(y.shape(), want.shape());
        let (got, exp) = (array_of::<f32>("t", &y).unwrap(), array_of::<f32>("t", &want).unwrap());
        for (g, e) in got.iter().zip(exp.iter()) {
            assert!((g - e).abs() <= 1e-5 * (1.0 + e.abs()), "{g} vs {e}");
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        let x = TensorType::new(DType::F32, vec![1, 2, 4, 4]);
        assert!(infer_input(&[1, 1, 1], std::slice::from_ref(&x)).is_err());
        assert!(infer_input(&[3, 1, 1, 1], std::slice::from_ref(&x)).is_err());
        assert_eq!(infer_input(&[1, 1, 1, 1], &[x]).unwrap()[0].shape, vec![16, 2, 4]);
        let m = TensorType::new(DType::F32, vec![16, 8, 9]);
        assert_eq!(infer_output(&[5, 6], std::slice::from_ref(&m)).unwrap()[0].shape, vec![1, 8, 5, 6]);
        assert!(infer_output(&[4, 4], std::slice::from_ref(&m)).is_err());
        let b = TensorType::new(DType::F32, vec![7]);
        assert!(infer_output(&[5, 6], &[m, b]).is_err());
    }
}
