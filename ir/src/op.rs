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
    Abs,
    Ceil,
    Floor,
    /// Round half to even.
    Round,
    Sign,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    /// Float -> bool.
    IsNaN,
    /// Logical not on bool, bitwise not on integers.
    Not,
    /// `x * sigmoid(x)` (SiLU / Swish with beta 1).
    Silu,
    /// Exact GELU: `0.5 * x * (1 + erf(x / sqrt(2)))`.
    Gelu,
    /// tanh-approximated GELU: `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`.
    GeluTanh,
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
    /// NaN-propagating maximum / minimum (numpy `maximum` / `minimum`).
    Max,
    Min,
    /// Integer remainder with the sign of the divisor (Python `%`).
    Mod,
    /// Remainder with the sign of the dividend (C `fmod`; integer `%` of C).
    Fmod,
    /// Ordered comparisons (NaN compares false); the output dtype is bool.
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
    /// Logical on bool, bitwise on integers.
    And,
    Or,
    Xor,
    /// Integer shifts of the bit pattern (right shift is logical); amounts outside
    /// `0..bit width` give 0.
    BitShiftLeft,
    BitShiftRight,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
    Prod,
    Max,
    Min,
}

/// Which extreme `Op::ArgReduce` looks for (ONNX ArgMax / ArgMin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgOp {
    Max,
    Min,
}

/// How a scatter combines an update with the value already at its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScatterReduction {
    None,
    Add,
    Mul,
    Max,
    Min,
}

impl ScatterReduction {
    pub const ALL: [ScatterReduction; 5] = [Self::None, Self::Add, Self::Mul, Self::Max, Self::Min];

    /// The ONNX attribute spelling (`none`, `add`, `mul`, `max`, `min`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Add => "add",
            Self::Mul => "mul",
            Self::Max => "max",
            Self::Min => "min",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// How `Op::Attention` masks its scores before the softmax.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttentionMask {
    /// No mask input.
    None,
    /// A float mask added to the scores.
    Add,
    /// A bool mask: the score where true, `fill` where false (`Where(mask, scores, fill)`).
    Where { fill: f32 },
}

impl AttentionMask {
    /// The text spelling (`none`, `add`, `where`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Add => "add",
            Self::Where { .. } => "where",
        }
    }
}

/// How `Op::Pad` fills the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PadMode {
    Constant,
    Reflect,
    Edge,
    Wrap,
}

impl PadMode {
    pub const ALL: [PadMode; 4] = [Self::Constant, Self::Reflect, Self::Edge, Self::Wrap];

    /// The ONNX attribute spelling (`constant`, `reflect`, `edge`, `wrap`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Reflect => "reflect",
            Self::Edge => "edge",
            Self::Wrap => "wrap",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }
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
    /// `x / sqrt(mean(x^2) + eps) * scale (+ bias)` over dims `axis..rank` (no mean subtraction);
    /// inputs `x, scale[, bias]`, broadcast as for `LayerNorm`.
    RmsNorm {
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
    /// i64 index of the max / min along `axis` (ties: first, or last with `select_last_index`).
    ArgReduce {
        op: ArgOp,
        axis: usize,
        keep_dims: bool,
        select_last_index: bool,
    },
    /// The `k` largest (smallest) along `axis`, best first: outputs values and i64 indices.
    TopK {
        k: usize,
        axis: usize,
        largest: bool,
        sorted: bool,
    },
    /// Running sum along `axis` (`exclusive`: without the element itself; `reverse`: from the end).
    /// Running product along `axis`, with CumSum's `exclusive` / `reverse` (the empty product is 1).
    CumProd {
        axis: usize,
        exclusive: bool,
        reverse: bool,
    },
    CumSum {
        axis: usize,
        exclusive: bool,
        reverse: bool,
    },
    /// `GatherElements(data, indices)`: per-element gather along `axis`.
    GatherElements {
        axis: usize,
    },
    /// `GatherND(data, indices)` with `batch_dims` leading batch dims.
    GatherND {
        batch_dims: usize,
    },
    /// `ScatterElements(data, indices, updates)` along `axis`.
    ScatterElements {
        axis: usize,
        reduction: ScatterReduction,
    },
    /// `ScatterND(data, indices, updates)`.
    ScatterND {
        reduction: ScatterReduction,
    },
    /// `Pad(x[, value])`: `pads` = begins then ends (negative crops).
    Pad {
        pads: Vec<i64>,
        mode: PadMode,
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
    /// The im2col matrix of a 2-D convolution input: `x [N, C, H, W]` to `[N, C*kH*kW, OH*OW]`,
    /// row `(c, ky, kx)`, column `(oy, ox)`, zero where the window reads padding; `Conv` with one
    /// group is `w[M, C*kH*kW] @ Im2Col(x)`.
    Im2Col {
        kernel: Vec<usize>,
        strides: Vec<usize>,
        pads: Vec<usize>,
        dilations: Vec<usize>,
    },
    /// Winograd F(2x2, 3x3) input tiles of a 3x3 stride-1 convolution's input (`ops::winograd`):
    /// `x [N, C, H, W]` to `[16, C, N*TH*TW]`; `pads` = [top, left, bottom, right], each <= 2.
    WinogradInput {
        pads: Vec<usize>,
    },
    /// Winograd F(2x2, 3x3) output transform (`ops::winograd`): `m [16, M, N*TH*TW][, b [M]]` to
    /// `[N, M, OH, OW]` with `out` = [OH, OW].
    WinogradOutput {
        out: Vec<usize>,
    },
    /// Fused scaled dot-product attention (made by the fuse-attention pass): inputs
    /// `q [..., S, D]`, `kt [..., D, T]` (the keys transposed), `v [..., T, Dv]` with the same
    /// leading dims and, unless `mask` is None, a mask broadcastable to `[..., S, T]` whose last
    /// dim is T. Output `[..., S, Dv]` = `softmax(mask(scale * q @ kt)) @ v`, the softmax over T.
    Attention {
        scale: f32,
        mask: AttentionMask,
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
                UnaryOp::Abs => "Abs",
                UnaryOp::Ceil => "Ceil",
                UnaryOp::Floor => "Floor",
                UnaryOp::Round => "Round",
                UnaryOp::Sign => "Sign",
                UnaryOp::Sin => "Sin",
                UnaryOp::Cos => "Cos",
                UnaryOp::Tan => "Tan",
                UnaryOp::Asin => "Asin",
                UnaryOp::Acos => "Acos",
                UnaryOp::Atan => "Atan",
                UnaryOp::Sinh => "Sinh",
                UnaryOp::Cosh => "Cosh",
                UnaryOp::Asinh => "Asinh",
                UnaryOp::Acosh => "Acosh",
                UnaryOp::Atanh => "Atanh",
                UnaryOp::IsNaN => "IsNaN",
                UnaryOp::Not => "Not",
                UnaryOp::Silu => "Silu",
                UnaryOp::Gelu => "Gelu",
                UnaryOp::GeluTanh => "GeluTanh",
            },
            Op::Binary(b) => match b {
                BinaryOp::Add => "Add",
                BinaryOp::Sub => "Sub",
                BinaryOp::Mul => "Mul",
                BinaryOp::Div => "Div",
                BinaryOp::Pow => "Pow",
                BinaryOp::Equal => "Equal",
                BinaryOp::Max => "Max",
                BinaryOp::Min => "Min",
                BinaryOp::Mod => "Mod",
                BinaryOp::Fmod => "Fmod",
                BinaryOp::Greater => "Greater",
                BinaryOp::Less => "Less",
                BinaryOp::GreaterOrEqual => "GreaterOrEqual",
                BinaryOp::LessOrEqual => "LessOrEqual",
                BinaryOp::And => "And",
                BinaryOp::Or => "Or",
                BinaryOp::Xor => "Xor",
                BinaryOp::BitShiftLeft => "BitShiftLeft",
                BinaryOp::BitShiftRight => "BitShiftRight",
            },
            Op::Where => "Where",
            Op::Cast { .. } => "Cast",
            Op::MatMul => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Softmax { .. } => "Softmax",
            Op::LayerNorm { .. } => "LayerNorm",
            Op::RmsNorm { .. } => "RmsNorm",
            Op::BatchNorm { .. } => "BatchNorm",
            Op::Reduce { op: ReduceOp::Sum, .. } => "ReduceSum",
            Op::Reduce { op: ReduceOp::Mean, .. } => "ReduceMean",
            Op::Reduce { op: ReduceOp::Prod, .. } => "ReduceProd",
            Op::Reduce { op: ReduceOp::Max, .. } => "ReduceMax",
            Op::Reduce { op: ReduceOp::Min, .. } => "ReduceMin",
            Op::ArgReduce { op: ArgOp::Max, .. } => "ArgMax",
            Op::ArgReduce { op: ArgOp::Min, .. } => "ArgMin",
            Op::TopK { .. } => "TopK",
            Op::CumSum { .. } => "CumSum",
            Op::CumProd { .. } => "CumProd",
            Op::GatherElements { .. } => "GatherElements",
            Op::GatherND { .. } => "GatherND",
            Op::ScatterElements { .. } => "ScatterElements",
            Op::ScatterND { .. } => "ScatterND",
            Op::Pad { .. } => "Pad",
            Op::Reshape { .. } => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Slice { .. } => "Slice",
            Op::Gather { .. } => "Gather",
            Op::Expand { .. } => "Expand",
            Op::Conv { .. } => "Conv",
            Op::Im2Col { .. } => "Im2Col",
            Op::WinogradInput { .. } => "WinogradInput",
            Op::WinogradOutput { .. } => "WinogradOutput",
            Op::Attention { .. } => "Attention",
            Op::MaxPool { .. } => "MaxPool",
            Op::AvgPool { .. } => "AvgPool",
        }
    }

    pub fn is_constant(&self) -> bool {
        matches!(self, Op::Constant(_))
    }
}
