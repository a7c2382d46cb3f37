//! A stride-1 convolution's zero padding made explicit: `Conv(x, w[, b]) {pads = p}` becomes
//! `Conv(Pad(x) {pads = p}, w[, b]) {pads = 0}`. The codegen runs an unpadded stride-1 Conv as
//! a direct convolution: the GEMM's right operand is read straight from the input, each
//! (channel, tap) row being the input plane shifted by the tap, so no im2col matrix is gathered
//! or written. One copy of the input into its padded frame costs far less than gathering every
//! patch (measured on ResNet-50's 56x56 3x3 layer: the gather was 29% of its time).
//!
//! Exact: the padded cells are the zeros the Conv would have read. Applies to f32 one-group 4-D
//! convolutions with all strides 1 and some padding (any kernel size and dilation); strided and
//! grouped ones keep their pads for the gathering path.

use crate::rewrite::{add_op, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::op::PadMode;
use kiln_ir::{DType, Graph, Op, ValueRef};

const NAME: &str = "conv-pad-input";

pub struct ConvPadInput;

/// Whether the codegen runs this Conv directly once its pads are zero: f32, one group, 4-D,
/// every stride 1.
pub fn direct_candidate(graph: &Graph, op: &Op, x: ValueRef) -> bool {
    let Op::Conv { strides, group, .. } = op else { return false };
    let xt = graph.value_type(x);
    *group == 1 && xt.dtype == DType::F32 && xt.rank() == 4 && strides.iter().all(|s| *s == 1)
}

impl Pass for ConvPadInput {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            let op = graph.node(n).op.clone();
            let ins = graph.inputs_of(n);
            if !matches!(op, Op::Conv { .. }) || !direct_candidate(graph, &op, ins[0]) {
                continue;
            }
            let Op::Conv { strides, pads, dilations, group } = op else { continue };
            if pads.iter().all(|p| *p == 0) {
                continue;
            }
            let out = ValueRef::new(n, 0);
            let name = graph.value_name(out).to_string();
            // ONNX Conv pads are [top, left, bottom, right]; Pad's are begins then ends per dim.
            let pad = vec![0, 0, pads[0] as i64, pads[1] as i64, 0, 0, pads[2] as i64, pads[3] as i64];
            let xp =
                add_op(graph, NAME, Op::Pad { pads: pad, mode: PadMode::Constant }, &[ins[0]], &format!("{name}.pad"))?;
            let conv = Op::Conv { strides, pads: vec![0; 4], dilations, group };
            let rest: Vec<ValueRef> = std::iter::once(xp).chain(ins[1..].iter().copied()).collect();
            let y = add_op(graph, NAME, conv, &rest, &name)?;
            swap_in(graph, out, y, &[n]);
            changed = true;
        }
        Ok(changed)
    }
}
