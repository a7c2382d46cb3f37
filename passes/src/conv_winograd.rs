//! A 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016):
//! `Conv(x, w[, b])` becomes `WinogradOutput(MatMul(U, WinogradInput(x)), b)`, where the filters
//! are transformed here, once, into `U [16, M, C]` (`kiln_ir::ops::winograd::filter`), the
//! input's 4x4 tiles into `V [16, C, tiles]` and the 16 products `U[e] @ V[e]` back into 2x2
//! output blocks. The products do 16 multiply-adds per (output channel, input channel, 2x2
//! block) where the direct convolution does 36: 2.25x fewer, on the tiled GEMM. The transforms
//! add ~2 passes over `V` and the products' result, which is why small layers keep the direct
//! path.
//!
//! Numerics: the transforms' coefficients are 0, +-1 and +-1/2; against the direct sum the
//! result differs by a few ulps of the summed terms (checked by the interpreter in the tests).
//!
//! Applies to f32 one-group Convs with a constant `[M, C, 3, 3]` weight, stride 1, dilation 1,
//! pads at most 2, at least [`MIN_CHANNELS`] input and output channels, at least
//! [`MIN_TILES`] 2x2 output blocks per image and transformed matrices of at most
//! [`MAX_MATRIX_BYTES`]. Measured on ResNet-50's 3x3 layers inside the
//! model (2 threads, best of 100 runs, AMD Zen 5): 56x56/64ch 0.56 -> 0.34-0.47 ms, 28x28/128ch
//! 0.54 -> 0.32, 14x14/256ch 0.54 -> 0.34 (the filters are 16/9 the bytes, and the model's
//! weights stream from memory); ResNet-50 as a whole 1.02x -> 0.92x onnxruntime's time. A 7x7
//! image (16 blocks) stays direct, where the products' 16-wide right operands would fill a
//! quarter of the GEMM's strips.

use crate::rewrite::{add_float_const, add_op, const_f64, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::ops::winograd::{filter, out_extents, tiles};
use kiln_ir::{DType, Graph, Op, ValueRef};

const NAME: &str = "conv-winograd";
/// Convs with fewer input or output channels than this stay direct (short products).
pub const MIN_CHANNELS: usize = 32;
/// Convs with fewer 2x2 output blocks per image than this stay direct.
pub const MIN_TILES: usize = 36;
/// Convs whose transformed input `[16, C, N*TH*TW]` (or products `[16, M, N*TH*TW]`) would take
/// more bytes than this stay direct: the two are 4x the input's and output's size, intermediates
/// of the arena (a 512x512 64-channel image would need 268 MB each).
pub const MAX_MATRIX_BYTES: usize = 32 << 20;

pub struct ConvWinograd;

impl Pass for ConvWinograd {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            let Op::Conv { strides, pads, dilations, group } = graph.node(n).op.clone() else { continue };
            let ins = graph.inputs_of(n);
            let (x, w) = (ins[0], ins[1]);
            let xt = graph.value_type(x).clone();
            if group != 1 || strides != [1, 1] || dilations != [1, 1] || xt.dtype != DType::F32 || xt.rank() != 4 {
                continue;
            }
            let Some((wshape, wdata)) = const_f64(graph, w) else { continue };
            let [m, c, 3, 3] = wshape[..] else { continue };
            let Ok([oh, ow]) = out_extents(NAME, [xt.shape[2], xt.shape[3]], &pads) else { continue };
            let [th, tw] = tiles([oh, ow]);
            let matrix_bytes = 16 * c.max(m) * xt.shape[0] * th * tw * 4;
            if c < MIN_CHANNELS || m < MIN_CHANNELS || th * tw < MIN_TILES || matrix_bytes > MAX_MATRIX_BYTES {
                continue;
            }
            let out = ValueRef::new(n, 0);
            let name = graph.value_name(out).to_string();
            let v = add_op(graph, NAME, Op::WinogradInput { pads }, &[x], &format!("{name}.wino_in"))?;
            let u =
                add_float_const(graph, NAME, &format!("{name}.wino_w"), DType::F32, &[16, m, c], filter(&wdata, m, c))?;
            let p = add_op(graph, NAME, Op::MatMul, &[u, v], &format!("{name}.wino_mm"))?;
            let oin: Vec<ValueRef> = std::iter::once(p).chain(ins.get(2).copied()).collect();
            let y = add_op(graph, NAME, Op::WinogradOutput { out: vec![oh, ow] }, &oin, &name)?;
            swap_in(graph, out, y, &[n]);
            changed = true;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::{Tensor, TensorType};
    use std::sync::Arc;

    /// A 32 -> 40 channel 3x3 conv on a 13x13 image (odd: partial blocks) with uneven pads
    /// becomes the three Winograd stages, and computes the same as before (the interpreter,
    /// within 1e-5 of the output's scale); a strided one and one on a small image stay.
    #[test]
    fn rewrites_eligible_convs_only() {
        let (c, m) = (32, 40);
        let mut g = Graph::new("wino");
        let x = g.add_input("x", TensorType::new(DType::F32, vec![1, c, 13, 13]));
        let ws: Vec<f32> = (0..m * c * 9).map(|i| ((i * 37 % 101) as f32 - 50.0) / 200.0).collect();
        let w = g.add_constant("w", Arc::new(Tensor::from_f32(&[m, c, 3, 3], ws).unwrap()));
        let bs: Vec<f32> = (0..m).map(|i| i as f32 / 10.0 - 2.0).collect();
        let b = g.add_constant("b", Arc::new(Tensor::from_f32(&[m], bs).unwrap()));
        let conv = |pads: Vec<usize>, s: usize| Op::Conv { strides: vec![s, s], pads, dilations: vec![1, 1], group: 1 };
        let y = g.add_node_named(conv(vec![1, 0, 1, 1], 1), &[x, w, b], &["y"]).unwrap()[0];
        let s = g.add_node_named(conv(vec![1, 1, 1, 1], 2), &[x, w], &["s"]).unwrap()[0];
        let xs = g.add_input("xs", TensorType::new(DType::F32, vec![1, c, 8, 8]));
        let t = g.add_node_named(conv(vec![1, 1, 1, 1], 1), &[xs, w], &["t"]).unwrap()[0];
        for (name, v) in [("y", y), ("s", s), ("t", t)] {
            g.add_output(name, v);
        }
        let before = g.clone();
        assert!(ConvWinograd.run(&mut g, &mut PassContext::default()).unwrap());
        kiln_ir::verify::verify(&g).unwrap();
        let ops: Vec<&str> = g.topo_order().unwrap().iter().map(|n| g.node(*n).op.name()).collect();
        assert_eq!(ops.iter().filter(|o| **o == "Conv").count(), 2, "{ops:?}");
        for o in ["WinogradInput", "MatMul", "WinogradOutput"] {
            assert_eq!(ops.iter().filter(|p| **p == o).count(), 1, "{ops:?}");
        }
        let inputs = [
            Tensor::from_f32(&[1, c, 13, 13], (0..c * 169).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect())
                .unwrap(),
            Tensor::from_f32(&[1, c, 8, 8], (0..c * 64).map(|i| ((i * 5 % 17) as f32 - 8.0) / 4.0).collect()).unwrap(),
        ];
        let want = kiln_ir::interp::evaluate(&before, &inputs).unwrap();
        let got = kiln_ir::interp::evaluate(&g, &inputs).unwrap();
        for (a, e) in got.iter().zip(&want) {
            let (a, e) = (a.to_f64_vec(), e.to_f64_vec());
            let scale = e.iter().fold(0f64, |s, v| s.max(v.abs()));
            let err = a.iter().zip(&e).fold(0f64, |s, (p, q)| s.max((p - q).abs()));
            assert!(err <= 1e-5 * scale, "max error {err} at scale {scale}");
        }
    }

    /// An image whose transformed matrices would pass MAX_MATRIX_BYTES (16 x 32 x 129^2 f32,
    /// 34 MB) stays direct.
    #[test]
    fn keeps_huge_images_direct() {
        let mut g = Graph::new("big");
        let x = g.add_input("x", TensorType::new(DType::F32, vec![1, 32, 258, 258]));
        let w = g.add_constant("w", Arc::new(Tensor::from_f32(&[32, 32, 3, 3], vec![0.01; 32 * 32 * 9]).unwrap()));
        let conv = Op::Conv { strides: vec![1, 1], pads: vec![1; 4], dilations: vec![1, 1], group: 1 };
        let y = g.add_node_named(conv, &[x, w], &["y"]).unwrap()[0];
        g.add_output("y", y);
        assert!(!ConvWinograd.run(&mut g, &mut PassContext::default()).unwrap());
    }
}
