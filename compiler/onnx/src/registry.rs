//! The one table from ONNX op type (default domain) to importer, and the up-front scan that
//! reports every unsupported op of a model in one error.

use crate::context::Importer;
use crate::error::{ImportError, Result};
use crate::op_versions;
use crate::ops::{activation, logical};
use crate::ops::{arg_reduce, cumsum, gather_elements, log_softmax, pad, scatter, topk};
use crate::ops::{attention, einsum, mean, norm, one_hot, range, resize, rnn, rotary, size, space_depth, tile, trilu};
use crate::ops::{
    batch_norm, cast, constant, conv, elementwise, gather, gemm, identity, layer_norm, lrn, matmul, pool, reduce,
    shape_ops, slice, softmax, split, where_,
};
use crate::ops::{control_if, control_loop, control_scan};
use crate::ops::{conv_transpose, lp_pool};
use crate::proto::NodeProto;
use std::collections::{BTreeMap, HashMap};

/// ONNX op type -> importer, for the default domain ("" or "ai.onnx").
pub fn registry() -> HashMap<&'static str, Importer> {
    let table: &[(&'static str, Importer)] = &[
        ("Add", elementwise::add),
        ("AveragePool", pool::average_pool),
        ("BatchNormalization", batch_norm::batch_norm),
        ("Cast", cast::cast),
        ("Concat", shape_ops::concat),
        ("Constant", constant::constant),
        ("ConstantOfShape", constant::constant_of_shape),
        ("Conv", conv::conv),
        ("Div", elementwise::div),
        ("Dropout", identity::dropout),
        ("Equal", elementwise::equal),
        ("Erf", elementwise::erf),
        ("Exp", elementwise::exp),
        ("Expand", shape_ops::expand),
        ("Flatten", shape_ops::flatten),
        ("Gather", gather::gather),
        ("Gemm", gemm::gemm),
        ("GlobalAveragePool", pool::global_average_pool),
        ("Identity", identity::identity),
        ("LayerNormalization", layer_norm::layer_norm),
        ("LRN", lrn::lrn),
        ("Log", elementwise::log),
        ("MatMul", matmul::matmul),
        ("MaxPool", pool::max_pool),
        ("Mul", elementwise::mul),
        ("Neg", elementwise::neg),
        ("Pow", elementwise::pow),
        ("Reciprocal", elementwise::reciprocal),
        ("ReduceMean", reduce::reduce_mean),
        ("ReduceSum", reduce::reduce_sum),
        ("Relu", elementwise::relu),
        ("Reshape", shape_ops::reshape),
        ("Shape", shape_ops::shape),
        ("Sigmoid", elementwise::sigmoid),
        ("Slice", slice::slice),
        ("Softmax", softmax::softmax),
        ("Split", split::split),
        ("Sqrt", elementwise::sqrt),
        ("Squeeze", shape_ops::squeeze),
        ("Sub", elementwise::sub),
        ("Sum", elementwise::sum),
        ("Tanh", elementwise::tanh),
        ("Transpose", shape_ops::transpose),
        ("Unsqueeze", shape_ops::unsqueeze),
        ("Where", where_::where_),
        // Elementwise, comparison, logical and bitwise ops; activations.
        ("Abs", elementwise::abs),
        ("Acos", elementwise::acos),
        ("Acosh", elementwise::acosh),
        ("And", logical::and),
        ("Asin", elementwise::asin),
        ("Asinh", elementwise::asinh),
        ("Atan", elementwise::atan),
        ("Atanh", elementwise::atanh),
        ("BitShift", logical::bit_shift),
        ("BitwiseAnd", logical::bitwise_and),
        ("BitwiseNot", logical::bitwise_not),
        ("BitwiseOr", logical::bitwise_or),
        ("BitwiseXor", logical::bitwise_xor),
        ("CastLike", elementwise::cast_like),
        ("Ceil", elementwise::ceil),
        ("Celu", activation::celu),
        ("Clip", activation::clip),
        ("Cos", elementwise::cos),
        ("Cosh", elementwise::cosh),
        ("Elu", activation::elu),
        ("Floor", elementwise::floor),
        ("Gelu", activation::gelu),
        ("Greater", logical::greater),
        ("GreaterOrEqual", logical::greater_or_equal),
        ("HardSigmoid", activation::hard_sigmoid),
        ("HardSwish", activation::hard_swish),
        ("IsInf", logical::is_inf),
        ("IsNaN", logical::is_nan),
        ("LeakyRelu", activation::leaky_relu),
        ("Less", logical::less),
        ("LessOrEqual", logical::less_or_equal),
        ("Max", elementwise::max),
        ("Min", elementwise::min),
        ("Mish", activation::mish),
        ("Swish", activation::swish),
        ("Mod", elementwise::mod_),
        ("Not", logical::not),
        ("Or", logical::or),
        ("PRelu", activation::prelu),
        ("Round", elementwise::round),
        ("Selu", activation::selu),
        ("Shrink", activation::shrink),
        ("Sign", elementwise::sign),
        ("Sin", elementwise::sin),
        ("Sinh", elementwise::sinh),
        ("Softplus", activation::softplus),
        ("Softsign", activation::softsign),
        ("Tan", elementwise::tan),
        ("ThresholdedRelu", activation::thresholded_relu),
        ("Xor", logical::xor),
        // Reductions, arg/top-k, cumulative, gather/scatter and pad.
        ("ArgMax", arg_reduce::arg_max),
        ("ArgMin", arg_reduce::arg_min),
        ("CumSum", cumsum::cumsum),
        ("CumProd", cumsum::cumprod),
        ("GatherElements", gather_elements::gather_elements),
        ("GatherND", gather_elements::gather_nd),
        ("GlobalMaxPool", reduce::global_max_pool),
        ("Hardmax", log_softmax::hardmax),
        ("LogSoftmax", log_softmax::log_softmax),
        ("NegativeLogLikelihoodLoss", crate::ops::loss::negative_log_likelihood_loss),
        ("SoftmaxCrossEntropyLoss", crate::ops::loss::softmax_cross_entropy_loss),
        ("Pad", pad::pad),
        ("ReduceL1", reduce::reduce_l1),
        ("ReduceL2", reduce::reduce_l2),
        ("ReduceLogSum", reduce::reduce_log_sum),
        ("ReduceLogSumExp", reduce::reduce_log_sum_exp),
        ("ReduceMax", reduce::reduce_max),
        ("ReduceMin", reduce::reduce_min),
        ("ReduceProd", reduce::reduce_prod),
        ("ReduceSumSquare", reduce::reduce_sum_square),
        ("Scatter", scatter::scatter_elements),
        ("ScatterElements", scatter::scatter_elements),
        ("ScatterND", scatter::scatter_nd),
        ("TopK", topk::topk),
        // Decompositions into existing IR ops.
        ("Attention", attention::attention),
        ("DepthToSpace", space_depth::depth_to_space),
        ("Einsum", einsum::einsum),
        ("EyeLike", constant::eye_like),
        ("GRU", rnn::gru),
        ("GroupNormalization", norm::group_norm),
        ("InstanceNormalization", norm::instance_norm),
        ("LSTM", rnn::lstm),
        ("LpNormalization", norm::lp_norm),
        ("LpPool", lp_pool::lp_pool),
        ("ConvTranspose", conv_transpose::conv_transpose),
        ("Mean", mean::mean),
        ("MeanVarianceNormalization", norm::mean_variance_norm),
        ("OneHot", one_hot::one_hot),
        ("RMSNormalization", norm::rms_norm),
        ("Range", range::range),
        ("RNN", rnn::rnn),
        ("RotaryEmbedding", rotary::rotary_embedding),
        ("Resize", resize::resize),
        ("Size", size::size),
        ("SpaceToDepth", space_depth::space_to_depth),
        ("Tile", tile::tile),
        ("Trilu", trilu::trilu),
        ("Upsample", resize::upsample),
        // Quantization, composed of casts, rounding, clamps and f64 MatMul/Conv.
        ("ConvInteger", crate::ops::quant::conv_integer),
        ("DequantizeLinear", crate::ops::quant::dequantize_linear),
        ("DynamicQuantizeLinear", crate::ops::quant::dynamic_quantize_linear),
        ("MatMulInteger", crate::ops::quant::matmul_integer),
        ("QLinearConv", crate::ops::quant::qlinear_conv),
        ("QLinearMatMul", crate::ops::quant::qlinear_matmul),
        ("QuantizeLinear", crate::ops::quant::quantize_linear),
        // Control flow, inlined or unrolled at import.
        ("If", control_if::if_),
        ("Loop", control_loop::loop_),
        ("Scan", control_scan::scan),
    ];
    table.iter().copied().collect()
}

/// Whether `domain` names the default ONNX domain.
pub fn is_default_domain(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

/// Fail with one error listing every op of `nodes` that has no importer: op type, domain,
/// opset and node names, e.g.
/// `unsupported ops: NonZero (ai.onnx opset 13; nodes: nz1, nz2), Foo (com.example opset 1; nodes: f)`.
pub fn check_supported(
    nodes: &[NodeProto],
    reg: &HashMap<&'static str, Importer>,
    opsets: &HashMap<String, i64>,
) -> Result<()> {
    // (op type, domain) -> node names, in first-seen order of op types.
    let mut missing: BTreeMap<(usize, String, String), Vec<String>> = BTreeMap::new();
    let mut first_seen: HashMap<(String, String), usize> = HashMap::new();
    // Nodes of subgraphs (If branches, Loop/Scan bodies) are scanned too, after their parent.
    let mut all: Vec<&NodeProto> = Vec::new();
    let mut stack: Vec<&NodeProto> = nodes.iter().rev().collect();
    while let Some(node) = stack.pop() {
        all.push(node);
        let inner: Vec<&NodeProto> = crate::subgraph::subgraphs(node).flat_map(|g| g.node.iter()).collect();
        stack.extend(inner.into_iter().rev());
    }
    for node in all {
        let domain = if is_default_domain(node.domain()) { "ai.onnx" } else { node.domain() };
        let opset = opsets.get("").copied().unwrap_or(0);
        if domain == "ai.onnx" && reg.contains_key(node.op_type()) && op_versions::implemented(node.op_type(), opset) {
            continue;
        }
        let op = match op_versions::newer_version(node.op_type(), opset) {
            Some(v) if domain == "ai.onnx" && reg.contains_key(node.op_type()) => format!("{}-{v}", node.op_type()),
            _ => node.op_type().to_string(),
        };
        let key = (op, domain.to_string());
        let n = first_seen.len();
        let order = *first_seen.entry(key.clone()).or_insert(n);
        let label = match (node.name(), node.output.first()) {
            ("", Some(out)) => format!("unnamed producing '{out}'"),
            ("", None) => "unnamed".to_string(),
            (name, _) => name.to_string(),
        };
        missing.entry((order, key.0, key.1)).or_default().push(label);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .into_iter()
        .map(|((_, op, domain), names)| {
            let lookup = if domain == "ai.onnx" { "" } else { domain.as_str() };
            let opset = opsets.get(lookup).map_or("?".to_string(), |v| v.to_string());
            format!("{op} ({domain} opset {opset}; nodes: {})", names.join(", "))
        })
        .collect();
    Err(ImportError::new(format!("unsupported ops: {}", parts.join(", "))))
}
