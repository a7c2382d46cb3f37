//! Op lowerings: one file per op family (named like `kiln_ir::ops::<op>`), each emitting the loop
//! nest of one kernel into a [`Kernel`] whose parameters are the op's inputs then its outputs.

use crate::emit::Kernel;
use crate::error::{CodegenError, Result};
use kiln_ir::Op;

pub mod arg_reduce;
pub mod attention;
pub mod batch_norm;
pub mod binary;
pub mod cast;
pub mod concat;
pub mod conv;
pub mod conv_direct;
pub mod conv_pixel_rows;
pub mod copy;
pub mod cumsum;
pub mod elementwise;
pub mod epilogue;
pub mod expand;
pub mod gather;
pub mod gather_elements;
pub mod gather_nd;
pub mod gemm;
pub mod gemm_pack;
pub mod gemm_tiled;
pub mod im2col;
pub mod layer_norm;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod row_loads;
pub mod scatter;
pub mod slice;
pub mod softmax;
pub mod split;
pub mod topk;
pub mod transpose;
pub mod unary;
pub mod where_;
pub mod winograd;

/// Emit the kernel body computing `op`; the kernel's first `n_in` parameters are its inputs.
pub fn lower(op: &Op, k: &mut Kernel, n_in: usize) -> Result<()> {
    match op {
        Op::Input { .. } | Op::Constant(_) => Err(unsupported(op, "has no kernel")),
        Op::Unary(u) => unary::lower(*u, k),
        Op::Binary(b) => binary::lower(*b, k),
        Op::Where => where_::lower(k),
        Op::Cast { to } => cast::lower(*to, k),
        Op::MatMul => matmul::lower(k, n_in).map(drop),
        Op::Gemm { alpha, beta, trans_a, trans_b } => {
            gemm::lower(*alpha, *beta, *trans_a, *trans_b, k, n_in, n_in).map(drop)
        }
        Op::Softmax { axis } => softmax::lower(*axis, k),
        Op::LayerNorm { axis, epsilon } => layer_norm::lower(layer_norm::Norm::Layer, *axis, *epsilon, k, n_in),
        Op::RmsNorm { axis, epsilon } => layer_norm::lower(layer_norm::Norm::Rms, *axis, *epsilon, k, n_in),
        Op::BatchNorm { epsilon } => batch_norm::lower(*epsilon, k),
        Op::Reduce { op, axes, .. } => reduce::lower(*op, axes, k),
        Op::ArgReduce { op, axis, select_last_index, .. } => arg_reduce::lower(*op, *axis, *select_last_index, k),
        Op::TopK { k: kk, axis, largest, .. } => topk::lower(*kk, *axis, *largest, k),
        Op::CumSum { axis, exclusive, reverse } => cumsum::lower(cumsum::Scan::Sum, *axis, *exclusive, *reverse, k),
        Op::CumProd { axis, exclusive, reverse } => cumsum::lower(cumsum::Scan::Prod, *axis, *exclusive, *reverse, k),
        Op::GatherElements { axis } => gather_elements::lower(*axis, k),
        Op::GatherND { batch_dims } => gather_nd::lower(*batch_dims, k),
        Op::ScatterElements { axis, reduction } => {
            scatter::lower(scatter::Kind::Elements { axis: *axis }, *reduction, k)
        }
        Op::ScatterND { reduction } => scatter::lower(scatter::Kind::Nd, *reduction, k),
        Op::Pad { pads, mode } => pad::lower(pads, *mode, k, n_in),
        Op::Reshape { .. } => copy::lower(k),
        Op::Transpose { perm } => transpose::lower(perm, k),
        Op::Concat { axis } => concat::lower(*axis, k, n_in),
        Op::Split { axis, .. } => split::lower(*axis, k),
        Op::Slice { axes, starts, steps, .. } => slice::lower(axes, starts, steps, k),
        Op::Gather { axis } => gather::lower(*axis, k),
        Op::Expand { .. } => expand::lower(k),
        Op::Conv { strides, pads, dilations, group } => {
            conv::lower(strides, pads, dilations, *group, k, n_in, n_in).map(drop)
        }
        Op::Im2Col { kernel, strides, pads, dilations } => im2col::lower(kernel, strides, pads, dilations, k),
        Op::WinogradInput { pads } => winograd::lower_input(pads, k),
        Op::WinogradOutput { out } => winograd::lower_output(out, k, n_in, n_in).map(drop),
        Op::Attention { scale, mask } => attention::lower(*scale, *mask, k),
        Op::MaxPool { kernel, strides, pads, dilations } => pool::lower_max(kernel, strides, pads, dilations, k),
        Op::AvgPool { kernel, strides, pads, count_include_pad } => {
            pool::lower_avg(kernel, strides, pads, *count_include_pad, k)
        }
    }
}

/// An error naming the op and why codegen rejects it.
pub fn unsupported(op: &Op, why: impl std::fmt::Display) -> CodegenError {
    CodegenError::new(format!("{}: {why}", op.name()))
}

/// Error for an op that only takes float tensors.
pub fn expect_float(op: &str, dt: kiln_ir::DType) -> Result<()> {
    if dt.is_float() {
        Ok(())
    } else {
        Err(CodegenError::new(format!("{op}: codegen supports f32/f64 only, got {dt}")))
    }
}
