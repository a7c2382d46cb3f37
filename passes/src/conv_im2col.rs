//! A one-group convolution as a matrix product over its im2col matrix: `Conv(x, w[, b])` with
//! `w [M, C, kH, kW]` computes `y[n, m, p] = sum_k w[m, k] * Im2Col(x)[n, k, p] + b[m]` over the
//! `OH*OW` output pixels `p` and the `C*kH*kW` (channel, tap) rows `k`. On one image that is
//! `Gemm(w[M, K], Im2Col(x)[K, P], b[M, 1])`, on several `MatMul(w[M, K], Im2Col(x)) (+ b[M, 1])`,
//! between free reshapes. The patch matrix is written once by a vectorized copy kernel and the
//! product runs on the tiled GEMM, instead of the direct convolution loops.
//!
//! Exact up to float summation order. f32 only (the dtype the tiled kernel serves). It sees the
//! strided convs conv-space-to-depth left (pointwise subsamples, dilated ones, computed weights,
//! unequal strides). Stride-1 convolutions are left alone: the codegen runs them directly, reading each patch row in place
//! (after conv-pad-input; pointwise ones become GEMMs in conv1x1-to-gemm); grouped ones stay Conv
//! (the codegen gathers their patches while packing).
//!
//! Only small products are rewritten: fewer than [`MIN_IMAGES_TO_GATHER`] images of fewer than
//! [`MIN_PIXELS_TO_GATHER`] output pixels. A larger Conv stays Conv, and the codegen gathers
//! its patches straight into the GEMM's packed panels (never writing the patch matrix), with
//! the workgroups splitting the images or the pixel columns, so each gathers only its share.
//! A small one is split by output-channel rows instead, where every workgroup would gather the
//! whole patch matrix; writing it once here and copying it while packing is faster (measured on
//! ResNet-50 and YOLOv8n layers: 7x7, 10x10 and 14x14 outputs gain, 20x20 and larger lose).

use crate::rewrite::{add_op, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{BinaryOp, DType, Graph, Op, ValueRef};

const NAME: &str = "conv-im2col";
/// Convs with at least this many images keep the gathered form (the workgroups split images).
pub const MIN_IMAGES_TO_GATHER: usize = 4;
/// Convs with at least this many output pixels keep the gathered form (the workgroups split
/// pixel columns: eight 32-wide strips on AVX-512).
pub const MIN_PIXELS_TO_GATHER: usize = 256;

pub struct ConvIm2Col;

impl Pass for ConvIm2Col {
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
            let (xt, wt) = (graph.value_type(x).clone(), graph.value_type(w).clone());
            let pointwise_plain = wt.shape[2..] == [1, 1]
                && strides.iter().all(|s| *s == 1)
                && pads.iter().all(|p| *p == 0)
                && dilations.iter().all(|d| *d == 1);
            if group != 1 || xt.dtype != DType::F32 || xt.rank() != 4 || pointwise_plain {
                continue;
            }
            if crate::conv_pad_input::direct_candidate(graph, &graph.node(n).op, x) {
                // Stride 1: the codegen's direct convolution reads the patches in place.
                continue;
            }
            let out = ValueRef::new(n, 0);
            let yt = graph.value_type(out).clone();
            let (images, m, oh, ow) = (yt.shape[0], yt.shape[1], yt.shape[2], yt.shape[3]);
            if images >= MIN_IMAGES_TO_GATHER || oh * ow >= MIN_PIXELS_TO_GATHER {
                continue;
            }
            let depth = wt.shape[1] * wt.shape[2] * wt.shape[3];
            let name = graph.value_name(out).to_string();
            let kernel = wt.shape[2..].to_vec();
            let col =
                add_op(graph, NAME, Op::Im2Col { kernel, strides, pads, dilations }, &[x], &format!("{name}.col"))?;
            let w2 = add_op(graph, NAME, Op::Reshape { shape: vec![m, depth] }, &[w], &format!("{name}.w2d"))?;
            let b2 = match ins.get(2) {
                Some(b) => Some(add_op(graph, NAME, Op::Reshape { shape: vec![m, 1] }, &[*b], &format!("{name}.b2d"))?),
                None => None,
            };
            let y = if images == 1 {
                let col2 =
                    add_op(graph, NAME, Op::Reshape { shape: vec![depth, oh * ow] }, &[col], &format!("{name}.col2d"))?;
                let gemm = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false };
                let gin: Vec<ValueRef> = [w2, col2].into_iter().chain(b2).collect();
                add_op(graph, NAME, gemm, &gin, &format!("{name}.gemm"))?
            } else {
                let mm = add_op(graph, NAME, Op::MatMul, &[w2, col], &format!("{name}.matmul"))?;
                match b2 {
                    Some(b2) => add_op(graph, NAME, Op::Binary(BinaryOp::Add), &[mm, b2], &format!("{name}.bias"))?,
                    None => mm,
                }
            };
            let y4 = add_op(graph, NAME, Op::Reshape { shape: vec![images, m, oh, ow] }, &[y], &name)?;
            swap_in(graph, out, y4, &[n]);
            changed = true;
        }
        Ok(changed)
    }
}
