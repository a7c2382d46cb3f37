//! Epilogue fusion: which graph nodes fold into the kernel of the tiled product (MatMul, Gemm,
//! Conv, and the Winograd output transform that ends one) before them. From the product's result, follow single-reader links through free
//! Reshapes and f32 elementwise ops: a unary activation, or a binary op whose other operand has
//! the running value's exact type (a residual, a per-element scale). The chain ends at the first
//! value that is a graph output, has several readers, or feeds anything else. The planner then
//! emits one step for the whole chain, at the position of its last node (so the other operands
//! are computed by then), and the intermediate values get no buffers at all.

use crate::lower::epilogue::{binary_ok, unary_ok, EpOp};
use crate::lower::{conv, gemm_tiled, matmul};
use kiln_ir::{DType, Graph, NodeIndex, Op, ValueRef};
use std::collections::HashMap;

/// One fused chain: the product, the epilogue nodes in order (the last one's output is the
/// step's output), every node folded into the step (epilogue ops and Reshapes between them),
/// and the other operands of binary ops in epilogue order.
#[derive(Clone, Debug)]
pub struct Chain {
    pub producer: NodeIndex,
    pub ops: Vec<NodeIndex>,
    pub absorbed: Vec<NodeIndex>,
    pub others: Vec<ValueRef>,
}

impl Chain {
    pub fn last(&self) -> NodeIndex {
        *self.ops.last().expect("a chain has at least one epilogue op")
    }

    /// The epilogue as kernel ops; the other operands are parameters `first_other..`.
    pub fn ep_ops(&self, graph: &Graph, first_other: usize) -> Vec<EpOp> {
        let mut next = first_other;
        let mut prev = ValueRef::new(self.producer, 0);
        let mut out = Vec::new();
        for &n in &self.absorbed {
            let node = graph.node(n);
            match &node.op {
                Op::Unary(u) => out.push(EpOp::Unary(*u)),
                Op::Binary(b) => {
                    let value_first = graph.inputs_of(n)[0] == prev;
                    out.push(EpOp::Binary { op: *b, other: next, value_first });
                    next += 1;
                }
                _ => {}
            }
            prev = ValueRef::new(n, 0);
        }
        out
    }
}

/// Whether node `n` runs on the tiled kernel (the only producers with an epilogue).
fn tiled_producer(graph: &Graph, n: NodeIndex) -> bool {
    let node = graph.node(n);
    let ins = graph.inputs_of(n);
    let ty = |i: usize| graph.value_type(ins[i]);
    if node.outputs.len() != 1 || node.outputs[0].ty.dtype != DType::F32 {
        return false;
    }
    match &node.op {
        Op::MatMul => matmul::takes_tiled(DType::F32, &ty(0).shape, &ty(1).shape),
        Op::Gemm { trans_a, .. } => {
            let o = &node.outputs[0].ty.shape;
            let a = &ty(0).shape;
            let k = if *trans_a { a[0] } else { a[1] };
            gemm_tiled::applies(DType::F32, o[0], o[1], k)
        }
        Op::Conv { group, .. } => conv::takes_tiled(DType::F32, ty(1).shape[0], *group),
        // Writes whole output channels per workgroup, a rectangle of `[M, OH*OW]`.
        Op::WinogradOutput { .. } => true,
        _ => false,
    }
}

/// The single node reading `v` (once), unless `v` is a graph output.
fn sole_reader(graph: &Graph, v: ValueRef) -> Option<NodeIndex> {
    if graph.is_graph_output(v) {
        return None;
    }
    match graph.users_of(v).as_slice() {
        [(n, _)] => Some(*n),
        _ => None,
    }
}

/// Every fused chain of `graph`, keyed by its last epilogue node.
pub fn chains(graph: &Graph) -> HashMap<NodeIndex, Chain> {
    let mut found = HashMap::new();
    for n in graph.node_indices() {
        if !tiled_producer(graph, n) {
            continue;
        }
        let mut v = ValueRef::new(n, 0);
        let (mut walked, mut ops, mut others) = (Vec::new(), Vec::new(), Vec::new());
        let mut kept = 0; // nodes of `walked` up to the last epilogue op
        while let Some(u) = sole_reader(graph, v) {
            let node = graph.node(u);
            let ins = graph.inputs_of(u);
            let out_ty = &node.outputs[0].ty;
            let ok = match &node.op {
                Op::Reshape { .. } => true,
                Op::Unary(op) => unary_ok(*op) && out_ty.dtype == DType::F32,
                Op::Binary(op) if binary_ok(*op) && ins.len() == 2 && ins[0] != ins[1] => {
                    let other = if ins[0] == v { ins[1] } else { ins[0] };
                    let same = graph.value_type(other) == graph.value_type(v) && out_ty == graph.value_type(v);
                    if same {
                        others.push(other);
                    }
                    same
                }
                _ => false,
            };
            if !ok {
                break;
            }
            walked.push(u);
            if !matches!(node.op, Op::Reshape { .. }) {
                ops.push(u);
                kept = walked.len();
            }
            v = ValueRef::new(u, 0);
        }
        walked.truncate(kept);
        if !ops.is_empty() {
            let chain = Chain { producer: n, ops, absorbed: walked, others };
            found.insert(chain.last(), chain);
        }
    }
    found
}
