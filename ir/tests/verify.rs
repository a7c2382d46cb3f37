//! The verifier catches type mismatches, dangling or missing operands, duplicate names and
//! cycles, and accepts what the builders and the parser make.

mod common;

use kiln_ir::graph::ValueInfo;
use kiln_ir::{verify::verify, BinaryOp, DType, Graph, IrError, Op, UnaryOp, ValueRef};

fn base() -> (Graph, ValueRef, ValueRef) {
    let mut g = Graph::new("g");
    let x = g.add_input("x", common::ty(DType::F32, &[2]));
    let y = common::node(&mut g, Op::Unary(UnaryOp::Neg), &[x]);
    g.add_output("y", y);
    (g, x, y)
}

fn verify_err(g: &Graph) -> String {
    match verify(g) {
        Err(IrError::Verify(m)) => m,
        other => panic!("expected a verifier error, got {other:?}"),
    }
}

#[test]
fn accepts_well_formed_graphs() {
    verify(&base().0).unwrap();
    verify(&common::every_op_graph()).unwrap();
}

#[test]
fn type_mismatch() {
    let (mut g, _, y) = base();
    g.node_mut(y.node).outputs[0].ty = common::ty(DType::F64, &[2]);
    assert_eq!(verify_err(&g), "Neg producing '1': recorded types (f64[2]) differ from inferred (f32[2])");
}

#[test]
fn missing_operand() {
    let (mut g, x, _) = base();
    let out = vec![ValueInfo { name: "s".into(), ty: common::ty(DType::F32, &[2]) }];
    let n = g.add_raw(Op::Binary(BinaryOp::Add), &[x], out);
    g.add_output("s", ValueRef::new(n, 0));
    assert_eq!(verify_err(&g), "Add producing 's': Add: expects 2 inputs, got 1");
}

#[test]
fn dangling_operand_port() {
    let (mut g, x, _) = base();
    let out = vec![ValueInfo { name: "s".into(), ty: common::ty(DType::F32, &[2]) }];
    g.add_raw(Op::Unary(UnaryOp::Exp), &[ValueRef::new(x.node, 1)], out);
    assert_eq!(verify_err(&g), "Exp producing 's': reads output 1 of a node with 1 outputs");
}

#[test]
fn operand_removed_leaves_gap_in_ports() {
    let mut g = Graph::new("g");
    let x = g.add_input("x", common::ty(DType::F32, &[2]));
    let c = g.add_constant("c", kiln_ir::Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap());
    let s = common::node(&mut g, Op::Binary(BinaryOp::Add), &[c, x]);
    g.add_output("s", s);
    g.remove_node(c.node);
    assert_eq!(verify_err(&g), "Add producing '1': operand ports [1] are not 0..1");
}

#[test]
fn duplicate_name() {
    let (mut g, x, _) = base();
    let out = vec![ValueInfo { name: "x".into(), ty: common::ty(DType::F32, &[2]) }];
    g.add_raw(Op::Unary(UnaryOp::Exp), &[x], out);
    assert_eq!(verify_err(&g), "value name 'x' is defined twice");
}

#[test]
fn cycle() {
    let (mut g, _, y) = base();
    let z = common::node(&mut g, Op::Unary(UnaryOp::Exp), &[y]);
    // make Neg read Exp's output instead of x: Neg -> Exp -> Neg
    g.replace_all_uses(g.input_values()[0], z);
    assert_eq!(verify_err(&g), "the graph has a cycle");
}

#[test]
fn output_naming_a_removed_value() {
    let (mut g, _, y) = base();
    g.remove_node(y.node);
    assert_eq!(verify_err(&g), "graph output 'y' names no value");
}
