//! The closed set of kiln IR ops and their typed attributes.
//!
//! Each op's shape inference and reference evaluation live in one file under `ops/` (dispatched
//! from `ops/mod.rs`); this file only says what the ops are. Semantics follow ONNX, normalized at
//! import: axes are non-negative, shape-like operands are static attributes, optional operands are
//! trailing inputs that may be absent.

use crate::dtype::DType;
use crate::tensor::Tensor;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Sqrt,
    Reciprocal,
    Exp,
    Log,
    Erf,
    Tanh,
    Sigmoid,
    Relu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// Elementwise `==`; the output dtype is bool.
    Equal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
}

/// One op of the graph. Inputs are the node's incoming edges ordered by port.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Graph input number `index` (no inputs).
    Input {
        index: usize,
    },
    /// A constant (weights, folded shapes). The tensor is shared, never copied by passes.
    Constant(Arc<Tensor>),
    /// Elementwise float op, one input, same type out.
    Unary(UnaryOp),
    /// Elementwise op on two inputs of one dtype with numpy broadcasting.
    Binary(BinaryOp),
    /// `Where(cond: bool, x, y)`, numpy broadcasting of all three.
    Where,
    /// Elementwise conversion to `to` (float->int truncates toward zero; x != 0 -> bool).
    Cast {
        to: DType,
    },
    /// numpy `matmul` semantics (rank >= 1, batch dims broadcast; rank-1 operands promoted).
    MatMul,
    /// `alpha * op(A) @ op(B) + beta * C`, A and B rank 2, C optional and broadcast to [M, N].
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    /// Softmax along one axis (ONNX >= 13 semantics; older opsets are rewritten at import).
    Softmax {
        axis: usize,
    },
    /// `(x - mean) / sqrt(var + eps) * scale (+ bias)`, normalizing over dims `axis..rank`;
    /// inputs `x, scale[, bias]`, scale/bias broadcast against the normalized dims.
    LayerNorm {
        axis: usize,
        epsilon: f32,
    },
    /// Inference batch norm over dim 1: inputs `x, scale, bias, mean, var` (each `[C]`).
    BatchNorm {
        epsilon: f32,
    },
    /// Reduction over `axes` (sorted, unique; empty means none is reduced).
    Reduce {
        op: ReduceOp,
        axes: Vec<usize>,
        keep_dims: bool,
    },
    /// Same elements, new static shape (Reshape, Flatten, Squeeze and Unsqueeze import as this).
    Reshape {
        shape: Vec<usize>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    Concat {
        axis: usize,
    },
    /// One output per entry of `sizes` (which sum to the input's extent along `axis`).
    Split {
        axis: usize,
        sizes: Vec<usize>,
    },
    /// Strided slice, normalized: for each listed axis, `start` is a valid index (or the empty
    /// range's position) and `end` is exclusive (may be -1 for negative steps running to 0).
    Slice {
        axes: Vec<usize>,
        starts: Vec<i64>,
        ends: Vec<i64>,
        steps: Vec<i64>,
    },
    /// `Gather(data, indices)` along `axis`; negative indices count from the end.
    Gather {
        axis: usize,
    },
    /// Broadcast the input to a static `shape` (numpy rules; the result shape is recorded here).
    Expand {
        shape: Vec<usize>,
    },
    /// 2-D convolution, NCHW, inputs `x, w[, b]`; `pads` = [top, left, bottom, right].
    Conv {
        strides: Vec<usize>,
        pads: Vec<usize>,
        dilations: Vec<usize>,
        group: usize,
    },
    /// 2-D max pooling, NCHW; `pads` = [top, left, bottom, right]; padded cells never win.
    MaxPool {
        kernel: Vec<usize>,
        strides: Vec<usize>,
        pads: Vec<usize>,
        dilations: Vec<usize>,
    },
    /// 2-D average pooling, NCHW; divides by the window size including pads when
    /// `count_include_pad`, else by the count of real cells.
    AvgPool {
        kernel: Vec<usize>,
        strides: Vec<usize>,
        pads: Vec<usize>,
        count_include_pad: bool,
    },
}

impl Op {
    /// The op's name in the IR text format and in op histograms (`kiln inspect`).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "Input",
            Op::Constant(_) => "Constant",
            Op::Unary(u) => match u {
                UnaryOp::Neg => "Neg",
                UnaryOp::Sqrt => "Sqrt",
                UnaryOp::Reciprocal => "Reciprocal",
                UnaryOp::Exp => "Exp",
                UnaryOp::Log => "Log",
                UnaryOp::Erf => "Erf",
                UnaryOp::Tanh => "Tanh",
                UnaryOp::Sigmoid => "Sigmoid",
                UnaryOp::Relu => "Relu",
            },
            Op::Binary(b) => match b {
                BinaryOp::Add => "Add",
                BinaryOp::Sub => "Sub",
                BinaryOp::Mul => "Mul",
                BinaryOp::Div => "Div",
                BinaryOp::Pow => "Pow",
                BinaryOp::Equal => "Equal",
            },
            Op::Where => "Where",
            Op::Cast { .. } => "Cast",
            Op::MatMul => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Softmax { .. } => "Softmax",
            Op::LayerNorm { .. } => "LayerNorm",
            Op::BatchNorm { .. } => "BatchNorm",
            Op::Reduce { op: ReduceOp::Sum, .. } => "ReduceSum",
            Op::Reduce { op: ReduceOp::Mean, .. } => "ReduceMean",
            Op::Reshape { .. } => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Slice { .. } => "Slice",
            Op::Gather { .. } => "Gather",
            Op::Expand { .. } => "Expand",
            Op::Conv { .. } => "Conv",
            Op::MaxPool { .. } => "MaxPool",
            Op::AvgPool { .. } => "AvgPool",
        }
    }

    pub fn is_constant(&self) -> bool {
        matches!(self, Op::Constant(_))
    }
}
