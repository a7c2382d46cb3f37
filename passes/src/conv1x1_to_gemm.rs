//! A pointwise convolution as a matrix product: `Conv(x, w[, b])` with a 1x1 kernel, stride 1, no
//! padding, dilation 1 and one group, on a single image (`x` is `[1, C, H, W]`), computes
//! `y[o, p] = sum_c w[o, c] * x[c, p] + b[o]` over the `H*W` pixels `p`: that is
//! `Gemm(w[O, C], x[C, H*W], b[O, 1])` between two free reshapes. The tiled GEMM kernel then runs
//! it instead of the direct convolution loops.
//!
//! Exact up to float summation order. Only f32 (the dtype the tiled kernel serves) and only batch
//! 1 (a batched right operand would not take the tiled path). Images of fewer than
//! [`MIN_PIXELS`] pixels stay Conv: the GEMM's 64-wide column strips would leave many lanes idle
//! (a 7x7 image fills 49 of 64), while the codegen's direct convolution runs such an image with
//! the pixels as the tile's rows (measured on ResNet-50's 7x7 pointwise layers).

use crate::rewrite::{add_op, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{DType, Graph, Op, ValueRef};

const NAME: &str = "conv1x1-to-gemm";
/// Pointwise convs on images with fewer pixels than this stay Conv (see the module doc).
pub const MIN_PIXELS: usize = 64;

pub struct Conv1x1ToGemm;

impl Pass for Conv1x1ToGemm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            let Op::Conv { strides, pads, dilations, group } = &graph.node(n).op else { continue };
            let ins = graph.inputs_of(n);
            let (x, w) = (ins[0], ins[1]);
            let (xt, wt) = (graph.value_type(x).clone(), graph.value_type(w).clone());
            let pointwise = wt.shape.len() == 4 && wt.shape[2..] == [1, 1];
            let plain = strides.iter().all(|s| *s == 1)
                && pads.iter().all(|p| *p == 0)
                && dilations.iter().all(|d| *d == 1)
                && *group == 1;
            if !pointwise || !plain || xt.dtype != DType::F32 || xt.rank() != 4 || xt.shape[0] != 1 {
                continue;
            }
            if xt.shape[2] * xt.shape[3] < MIN_PIXELS {
                continue;
            }
            let (c, h, wd, o) = (xt.shape[1], xt.shape[2], xt.shape[3], wt.shape[0]);
            let out = ValueRef::new(n, 0);
            let name = graph.value_name(out).to_string();
            let x2 = add_op(graph, NAME, Op::Reshape { shape: vec![c, h * wd] }, &[x], &format!("{name}.pixels"))?;
            let w2 = add_op(graph, NAME, Op::Reshape { shape: vec![o, c] }, &[w], &format!("{name}.w2d"))?;
            let mut gin = vec![w2, x2];
            if let Some(b) = ins.get(2) {
                gin.push(add_op(graph, NAME, Op::Reshape { shape: vec![o, 1] }, &[*b], &format!("{name}.b2d"))?);
            }
            let gemm = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false };
            let y = add_op(graph, NAME, gemm, &gin, &format!("{name}.gemm"))?;
            let y4 = add_op(graph, NAME, Op::Reshape { shape: vec![1, o, h, wd] }, &[y], &name)?;
            swap_in(graph, out, y4, &[n]);
            changed = true;
        }
        Ok(changed)
    }
}
