//! Static cost of a graph for the per-pass report: floating-point operations of one run and the
//! bytes of its constants (weights).
//!
//! FLOPs count a multiply-add as 2 (MatMul/Gemm `2*M*N*K`, Conv `2 * out elements * Cin/group *
//! kernel area`), a normalization or softmax as a few per element, and every other op with a
//! float result as one per output element. Data movement (reshapes, transposes, gathers) counts 0.
//! The numbers compare graphs before and after a pass; they are not a performance model.

use kiln_ir::{Graph, Op};

/// FLOPs of one run of `graph`.
pub fn flops(graph: &Graph) -> u64 {
    graph.node_indices().into_iter().map(|n| node_flops(graph, n)).sum()
}

/// Bytes of every constant in `graph`.
pub fn weight_bytes(graph: &Graph) -> u64 {
    graph
        .node_indices()
        .into_iter()
        .filter_map(|n| match &graph.node(n).op {
            Op::Constant(t) => Some(t.ty().size_bytes() as u64),
            _ => None,
        })
        .sum()
}

fn node_flops(graph: &Graph, n: kiln_ir::NodeIndex) -> u64 {
    let node = graph.node(n);
    let ins = graph.inputs_of(n);
    let in_ty = |i: usize| ins.get(i).map(|v| graph.value_type(*v));
    let out = &node.outputs[0].ty;
    let out_elems = out.num_elements() as u64;
    match &node.op {
        Op::Input { .. } | Op::Constant(_) => 0,
        Op::MatMul => {
            let k = in_ty(0).and_then(|t| t.shape.last().copied()).unwrap_or(1) as u64;
            2 * out_elems * k
        }
        Op::Gemm { trans_a, .. } => {
            let a = in_ty(0).map(|t| t.shape.clone()).unwrap_or_default();
            let k = if *trans_a { a.first() } else { a.get(1) }.copied().unwrap_or(1) as u64;
            2 * out_elems * k + if ins.len() > 2 { out_elems } else { 0 }
        }
        Op::Conv { group, .. } => {
            let w = in_ty(1).map(|t| t.shape.clone()).unwrap_or_default();
            let per_out: u64 = w.iter().skip(1).map(|d| *d as u64).product();
            let _ = group; // w's dim 1 is already Cin / group
            2 * out_elems * per_out + if ins.len() > 2 { out_elems } else { 0 }
        }
        Op::LayerNorm { .. } => 7 * out_elems,
        Op::RmsNorm { .. } => 5 * out_elems,
        Op::BatchNorm { .. } => 2 * out_elems,
        Op::Softmax { .. } => 4 * out_elems,
        Op::Attention { mask, .. } => {
            // q @ kt and p @ v, plus scale, mask and softmax on the [.., S, T] scores.
            let (q, kt) = (in_ty(0).map(|t| t.shape.clone()).unwrap_or_default(), in_ty(1).map(|t| t.shape.clone()));
            let d = q.last().copied().unwrap_or(1) as u64;
            let t = kt.and_then(|s| s.last().copied()).unwrap_or(1) as u64;
            let dv = out.shape.last().copied().unwrap_or(1) as u64;
            let scores = out_elems / dv.max(1) * t;
            let masked = if *mask == kiln_ir::AttentionMask::None { 0 } else { 1 };
            2 * scores * d + 2 * scores * dv + (5 + masked) * scores
        }
        Op::Reduce { .. } => in_ty(0).map(|t| t.num_elements() as u64).unwrap_or(0),
        Op::MaxPool { kernel, .. } | Op::AvgPool { kernel, .. } => {
            out_elems * kernel.iter().map(|k| *k as u64).product::<u64>()
        }
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::CumSum { .. } | Op::CumProd { .. } if out.dtype.is_float() => {
            out_elems
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_ir::text::parse;

    #[test]
    fn counts_matmul_and_elementwise() {
        let g = parse(
            "graph @g(%x: f32[2,3]) {\n  %w: f32[3,4] = Constant splat<1.0>\n  %h: f32[2,4] = MatMul(%x, %w)\n  %y: f32[2,4] = Relu(%h)\n  return %y\n}\n",
        )
        .unwrap();
        assert_eq!(flops(&g), 2 * 2 * 4 * 3 + 8);
        assert_eq!(weight_bytes(&g), 12 * 4);
    }
}
