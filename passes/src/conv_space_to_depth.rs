//! A strided convolution as a stride-1 one over the input's phases (space-to-depth):
//! `Conv(x, w[, b]) {strides = [s, s], pads = p}` becomes
//! `Conv(Reshape(Im2Col(x) {kernel = strides = [s, s], pads = p'}), w'[, b]) {strides = 1, pads = 0}`:
//! the non-overlapping `s x s` patches of the padded input, row `c*s*s + by*s + bx` holding
//! phase `x[c, s*i + by, s*j + bx]` over `[H', W']`, and
//! `w'[m, c*s*s + by*s + bx, u, v] = w[m, c, s*u + by, s*v + bx]` (zero past the kernel), a
//! `ceil(kH/s) x ceil(kW/s)` kernel. Then `y[oy, ox] = sum w[ky, kx] x[s*oy + ky, s*ox + kx]`
//! with `ky = s*u + by` reads phase `(by, bx)` at `(oy + u, ox + v)`: a stride-1 window. One
//! copy kernel writes the padded phases. Where the frame must crop the input (a negative end,
//! which Im2Col's pads cannot say), the phases come from ONNX's SpaceToDepth instead: `Pad`,
//! Reshape `[N, C, H', s, W', s]`, Transpose `[0, 3, 5, 1, 2, 4]`, Reshape `[N, s*s*C, H', W']`
//! (channel `(by*s + bx)*C + c`), with `w'` ordered to match.
//!
//! The codegen runs the new Conv directly, reading the phase planes in place, and skips the
//! taps whose weights are zero in every phase block (`conv_direct::ConvTaps`), so it does the
//! original `C*kH*kW` multiply-adds per output, with no patch gather: one copy of the input
//! into its padded, phase-split frame instead (measured on ResNet-50's and YOLOv8n's stride-2
//! 3x3 layers and the 7x7/2 stem). The graph-level FLOP count rises by the zero taps
//! (`(s*ceil(k/s))^2 / k^2`: 16/9 for a 3x3) that the kernel never computes.
//!
//! Exact: every product of the original sum appears once, the zero taps add zeros. Applies to
//! f32 one-group 4-D convolutions with equal strides 2 or 3, dilation 1, constant weights, a
//! kernel at least the stride wide. The frame is `s*H' x s*W'` with `H' = OH + ceil(kH/s) - 1`:
//! the Conv's pads in front, and at the end whatever fills (or, negative, crops) it to that
//! size. A pointwise strided conv (a subsample) keeps its own path.

use crate::rewrite::{add_float_const, add_op, const_f64, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::op::PadMode;
use kiln_ir::{DType, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "conv-space-to-depth";

pub struct ConvSpaceToDepth;

/// The rewrite's geometry: stride, the phase kernel `[kH', kW']`, the phase planes `[H', W']`
/// and the Pad's `[top, left, bottom, right]` (a negative end crops rows or columns the strided
/// windows never reached).
struct Phases {
    s: usize,
    kernel: [usize; 2],
    plane: [usize; 2],
    pads: [i64; 4],
}

/// The geometry when `n` is a Conv this pass rewrites.
fn phases(graph: &Graph, n: NodeIndex) -> Option<Phases> {
    let Op::Conv { strides, pads, dilations, group } = &graph.node(n).op else { return None };
    let ins = graph.inputs_of(n);
    let (xt, wt) = (graph.value_type(ins[0]), graph.value_type(ins[1]));
    let yt = graph.value_type(ValueRef::new(n, 0));
    let s = strides[0];
    let plain = *group == 1 && xt.dtype == DType::F32 && xt.rank() == 4 && dilations.iter().all(|d| *d == 1);
    if !plain || !(2..=3).contains(&s) || strides[1] != s || graph.constant_value(ins[1]).is_none() {
        return None;
    }
    let (kh, kw) = (wt.shape[2], wt.shape[3]);
    if kh < s || kw < s {
        return None;
    }
    let kernel = [kh.div_ceil(s), kw.div_ceil(s)];
    let plane = [yt.shape[2] + kernel[0] - 1, yt.shape[3] + kernel[1] - 1];
    let (h, w) = (xt.shape[2] as i64, xt.shape[3] as i64);
    let (top, left) = (pads[0] as i64, pads[1] as i64);
    let bottom = (s * plane[0]) as i64 - h - top;
    let right = (s * plane[1]) as i64 - w - left;
    Some(Phases { s, kernel, plane, pads: [top, left, bottom, right] })
}

/// `w [M, C, kH, kW]` as the phase kernel `[M, s*s*C, kH', kW']`, phase `ph` of channel `c` at
/// `c*s*s + ph` (`interleaved`, Im2Col's rows) or `ph*C + c` (SpaceToDepth's channels).
fn phase_weights(w: &[f64], [m, c, kh, kw]: [usize; 4], p: &Phases, interleaved: bool) -> Vec<f64> {
    let (s, [kh2, kw2]) = (p.s, p.kernel);
    let mut out = vec![0.0; m * s * s * c * kh2 * kw2];
    for o in 0..m {
        for ci in 0..c {
            for ky in 0..kh {
                for kx in 0..kw {
                    let ph = (ky % s) * s + kx % s;
                    let ch = if interleaved { ci * s * s + ph } else { ph * c + ci };
                    let at = ((o * s * s * c + ch) * kh2 + ky / s) * kw2 + kx / s;
                    out[at] = w[((o * c + ci) * kh + ky) * kw + kx];
                }
            }
        }
    }
    out
}

impl Pass for ConvSpaceToDepth {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            let Some(p) = phases(graph, n) else { continue };
            let ins = graph.inputs_of(n);
            let (wshape, wdata) = const_f64(graph, ins[1]).expect("phases() checked the weights are constant");
            let [images, c] = [graph.value_type(ins[0]).shape[0], wshape[1]];
            let out = ValueRef::new(n, 0);
            let name = graph.value_name(out).to_string();
            let [top, left, bottom, right] = p.pads;
            let (s, [h2, w2]) = (p.s, p.plane);
            let interleaved = bottom >= 0 && right >= 0;
            let xs = if interleaved {
                let pads = vec![top as usize, left as usize, bottom as usize, right as usize];
                let op = Op::Im2Col { kernel: vec![s, s], strides: vec![s, s], pads, dilations: vec![1, 1] };
                let col = add_op(graph, NAME, op, &[ins[0]], &format!("{name}.patches"))?;
                let merge = Op::Reshape { shape: vec![images, c * s * s, h2, w2] };
                add_op(graph, NAME, merge, &[col], &format!("{name}.phases"))?
            } else {
                let pads = vec![0, 0, top, left, 0, 0, bottom, right];
                let xp =
                    add_op(graph, NAME, Op::Pad { pads, mode: PadMode::Constant }, &[ins[0]], &format!("{name}.pad"))?;
                let split = Op::Reshape { shape: vec![images, c, h2, s, w2, s] };
                let blocks = add_op(graph, NAME, split, &[xp], &format!("{name}.blocks"))?;
                let moved = Op::Transpose { perm: vec![0, 3, 5, 1, 2, 4] };
                let moved = add_op(graph, NAME, moved, &[blocks], &format!("{name}.phases6"))?;
                let merge = Op::Reshape { shape: vec![images, s * s * c, h2, w2] };
                add_op(graph, NAME, merge, &[moved], &format!("{name}.phases"))?
            };
            let shape = [wshape[0], wshape[1], wshape[2], wshape[3]];
            let wp_shape = [shape[0], s * s * c, p.kernel[0], p.kernel[1]];
            let wp = phase_weights(&wdata, shape, &p, interleaved);
            let wp = add_float_const(graph, NAME, &format!("{name}.w_phases"), DType::F32, &wp_shape, wp)?;
            let conv = Op::Conv { strides: vec![1, 1], pads: vec![0; 4], dilations: vec![1, 1], group: 1 };
            let rest: Vec<ValueRef> = [xs, wp].into_iter().chain(ins[2..].iter().copied()).collect();
            let y = add_op(graph, NAME, conv, &rest, &name)?;
            swap_in(graph, out, y, &[n]);
            changed = true;
        }
        Ok(changed)
    }
}
