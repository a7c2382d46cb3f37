//! Per-op shape/type inference and reference evaluation, one file per op (or op family).
//!
//! Every file exposes `infer(op attrs.., inputs: &[TensorType]) -> Result<Vec<TensorType>>` and
//! `eval(op attrs.., inputs: &[&Tensor]) -> Result<Vec<Tensor>>`; this module is the one
//! dispatch table from `Op` to those files. Evaluation is plain and obviously correct, not fast:
//! it is the oracle that compiled code and passes are checked against.

use crate::error::{IrError, Result};
use crate::op::Op;
use crate::tensor::Tensor;
use crate::types::TensorType;

pub mod arg_reduce;
pub mod attention;
pub mod batch_norm;
pub mod binary;
pub mod bitwise;
pub mod broadcast;
pub mod cast;
pub mod check;
pub mod compare;
pub mod concat;
pub mod conv;
pub mod cumsum;
pub mod elem;
pub mod expand;
pub mod gather;
pub mod gather_elements;
pub mod gather_nd;
pub mod gemm;
pub mod im2col;
pub mod index;
pub mod layer_norm;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod reshape;
pub mod rms_norm;
pub mod scatter;
pub mod slice;
pub mod softmax;
pub mod split;
pub mod topk;
pub mod transpose;
pub mod unary;
pub mod where_;
pub mod winograd;

/// Output types of `op` applied to inputs of types `inputs`, or why the op rejects them.
pub fn infer(op: &Op, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    match op {
        Op::Input { .. } | Op::Constant(_) => {
            expect_inputs(op, inputs.len(), 0, 0)?;
            Err(IrError::op(op.name(), "type comes from the node itself, not from inference"))
        }
        Op::Unary(u) => unary::infer(*u, inputs),
        Op::Binary(b) => binary::infer(*b, inputs),
        Op::Where => where_::infer(inputs),
        Op::Cast { to } => cast::infer(*to, inputs),
        Op::MatMul => matmul::infer(inputs),
        Op::Gemm { trans_a, trans_b, .. } => gemm::infer(*trans_a, *trans_b, inputs),
        Op::Softmax { axis } => softmax::infer(*axis, inputs),
        Op::LayerNorm { axis, .. } => layer_norm::infer(*axis, inputs),
        Op::RmsNorm { axis, .. } => rms_norm::infer(*axis, inputs),
        Op::BatchNorm { .. } => batch_norm::infer(inputs),
        Op::Reduce { op, axes, keep_dims } => reduce::infer(*op, axes, *keep_dims, inputs),
        Op::ArgReduce { axis, keep_dims, .. } => arg_reduce::infer(*axis, *keep_dims, inputs),
        Op::TopK { k, axis, .. } => topk::infer(*k, *axis, inputs),
        Op::CumSum { axis, .. } | Op::CumProd { axis, .. } => cumsum::infer(*axis, inputs),
        Op::GatherElements { axis } => gather_elements::infer(*axis, inputs),
        Op::GatherND { batch_dims } => gather_nd::infer(*batch_dims, inputs),
        Op::ScatterElements { axis, reduction } => scatter::infer_elements(*axis, *reduction, inputs),
        Op::ScatterND { reduction } => scatter::infer_nd(*reduction, inputs),
        Op::Pad { pads, mode } => pad::infer(pads, *mode, inputs),
        Op::Reshape { shape } => reshape::infer(shape, inputs),
        Op::Transpose { perm } => transpose::infer(perm, inputs),
        Op::Concat { axis } => concat::infer(*axis, inputs),
        Op::Split { axis, sizes } => split::infer(*axis, sizes, inputs),
        Op::Slice { axes, starts, ends, steps } => slice::infer(axes, starts, ends, steps, inputs),
        Op::Gather { axis } => gather::infer(*axis, inputs),
        Op::Expand { shape } => expand::infer(shape, inputs),
        Op::Conv { strides, pads, dilations, group } => conv::infer(strides, pads, dilations, *group, inputs),
        Op::Im2Col { kernel, strides, pads, dilations } => im2col::infer(kernel, strides, pads, dilations, inputs),
        Op::WinogradInput { pads } => winograd::infer_input(pads, inputs),
        Op::WinogradOutput { out } => winograd::infer_output(out, inputs),
        Op::Attention { mask, .. } => attention::infer(*mask, inputs),
        Op::MaxPool { kernel, strides, pads, dilations } => pool::infer(kernel, strides, pads, dilations, inputs),
        Op::AvgPool { kernel, strides, pads, .. } => pool::infer(kernel, strides, pads, &[1, 1], inputs),
    }
}

/// Evaluate `op` on concrete inputs (the reference interpreter's step).
pub fn eval(op: &Op, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    match op {
        Op::Input { .. } => Err(IrError::Eval("Input nodes are bound by the interpreter".into())),
        Op::Constant(t) => Ok(vec![(**t).clone()]),
        Op::Unary(u) => unary::eval(*u, inputs),
        Op::Binary(b) => binary::eval(*b, inputs),
        Op::Where => where_::eval(inputs),
        Op::Cast { to } => cast::eval(*to, inputs),
        Op::MatMul => matmul::eval(inputs),
        Op::Gemm { alpha, beta, trans_a, trans_b } => gemm::eval(*alpha, *beta, *trans_a, *trans_b, inputs),
        Op::Softmax { axis } => softmax::eval(*axis, inputs),
        Op::LayerNorm { axis, epsilon } => layer_norm::eval(*axis, *epsilon, inputs),
        Op::RmsNorm { axis, epsilon } => rms_norm::eval(*axis, *epsilon, inputs),
        Op::BatchNorm { epsilon } => batch_norm::eval(*epsilon, inputs),
        Op::Reduce { op, axes, keep_dims } => reduce::eval(*op, axes, *keep_dims, inputs),
        Op::ArgReduce { op, axis, keep_dims, select_last_index } => {
            arg_reduce::eval(*op, *axis, *keep_dims, *select_last_index, inputs)
        }
        Op::TopK { k, axis, largest, .. } => topk::eval(*k, *axis, *largest, inputs),
        Op::CumSum { axis, exclusive, reverse } => cumsum::eval(*axis, *exclusive, *reverse, inputs),
        Op::CumProd { axis, exclusive, reverse } => cumsum::eval_prod(*axis, *exclusive, *reverse, inputs),
        Op::GatherElements { axis } => gather_elements::eval(*axis, inputs),
        Op::GatherND { batch_dims } => gather_nd::eval(*batch_dims, inputs),
        Op::ScatterElements { axis, reduction } => scatter::eval_elements(*axis, *reduction, inputs),
        Op::ScatterND { reduction } => scatter::eval_nd(*reduction, inputs),
        Op::Pad { pads, mode } => pad::eval(pads, *mode, inputs),
        Op::Reshape { shape } => reshape::eval(shape, inputs),
        Op::Transpose { perm } => transpose::eval(perm, inputs),
        Op::Concat { axis } => concat::eval(*axis, inputs),
        Op::Split { axis, sizes } => split::eval(*axis, sizes, inputs),
        Op::Slice { axes, starts, ends, steps } => slice::eval(axes, starts, ends, steps, inputs),
        Op::Gather { axis } => gather::eval(*axis, inputs),
        Op::Expand { shape } => expand::eval(shape, inputs),
        Op::Conv { strides, pads, dilations, group } => conv::eval(strides, pads, dilations, *group, inputs),
        Op::Im2Col { kernel, strides, pads, dilations } => im2col::eval(kernel, strides, pads, dilations, inputs),
        Op::WinogradInput { pads } => winograd::eval_input(pads, inputs),
        Op::WinogradOutput { out } => winograd::eval_output(out, inputs),
        Op::Attention { scale, mask } => attention::eval(*scale, *mask, inputs),
        Op::MaxPool { kernel, strides, pads, dilations } => pool::eval_max(kernel, strides, pads, dilations, inputs),
        Op::AvgPool { kernel, strides, pads, count_include_pad } => {
            pool::eval_avg(kernel, strides, pads, *count_include_pad, inputs)
        }
    }
}

/// Check the input count is within `min..=max`.
pub fn expect_inputs(op: &Op, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min || n > max {
        let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        return Err(IrError::op(op.name(), format!("expects {want} inputs, got {n}")));
    }
    Ok(())
}
