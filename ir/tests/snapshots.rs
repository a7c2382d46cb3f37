//! Printer snapshots (insta): the canonical text of small graphs, with and without elision.

mod common;

use kiln_ir::text::{print, print_with, PrintOptions};
use kiln_ir::{BinaryOp, DType, Graph, Op, Tensor, UnaryOp};

fn mlp() -> Graph {
    let mut g = Graph::new("mlp");
    let x = g.add_input("x", common::ty(DType::F32, &[1, 4]));
    let w = g.add_constant("w", Tensor::from_f32(&[4, 2], vec![0.5, -1.0, 2.0, 0.25, 1e-3, 3.0, -2.0, 0.0]).unwrap());
    let h = g.add_node_named(Op::MatMul, &[x, w], &["h"]).unwrap()[0];
    let b = g.add_constant("b", Tensor::from_f32(&[2], vec![0.1, 0.1]).unwrap());
    let h = g.add_node_named(Op::Binary(BinaryOp::Add), &[h, b], &["h/biased:0"]).unwrap()[0];
    let y = g.add_node_named(Op::Unary(UnaryOp::Relu), &[h], &["y"]).unwrap()[0];
    let parts = g.add_node_named(Op::Split { axis: 1, sizes: vec![1, 1] }, &[y], &["a", "b"]).unwrap();
    g.add_output("logits", y);
    g.add_output("part/0", parts[0]);
    g.add_output("b_1", parts[1]);
    g
}

#[test]
fn mlp_text() {
    insta::assert_snapshot!(print(&mlp()));
}

#[test]
fn every_op_text_elided() {
    let g = common::every_op_graph();
    insta::assert_snapshot!(print_with(&g, &PrintOptions { elide_constants_over: Some(8) }));
}
