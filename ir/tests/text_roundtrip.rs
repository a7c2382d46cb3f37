//! Text format round trips: `parse(print(g)) == g` on graphs using every op and dtype, and
//! `print(parse(t)) == t` on canonical text.

mod common;

use kiln_ir::text::{parse, print, print_with, PrintOptions};
use kiln_ir::{interp, verify, DType, Graph, Op, Tensor};

#[test]
fn every_op_graph_round_trips() {
    let g = common::every_op_graph();
    verify::verify(&g).unwrap();
    let text = print(&g);
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(back == g, "graphs differ after round trip:\n{text}\n---\n{}", print(&back));
    assert_eq!(print(&back), text);
    // the parsed graph computes bit-identical results
    let ins = common::every_op_inputs();
    let a = interp::evaluate(&g, &ins).unwrap();
    let b = interp::evaluate(&back, &ins).unwrap();
    assert_eq!(a, b);
}

#[test]
fn every_op_and_dtype_is_covered() {
    let g = common::every_op_graph();
    let ops: std::collections::BTreeSet<String> = g.op_histogram().into_keys().collect();
    let all = [
        "Add",
        "AvgPool",
        "BatchNorm",
        "Cast",
        "Concat",
        "Constant",
        "Conv",
        "Div",
        "Equal",
        "Erf",
        "Exp",
        "Expand",
        "Gather",
        "Gemm",
        "LayerNorm",
        "RmsNorm",
        "Silu",
        "Gelu",
        "GeluTanh",
        "Log",
        "MatMul",
        "MaxPool",
        "Mul",
        "Neg",
        "Pow",
        "Reciprocal",
        "ReduceMean",
        "ReduceSum",
        "Relu",
        "Reshape",
        "Sigmoid",
        "Slice",
        "Softmax",
        "Split",
        "Sqrt",
        "Sub",
        "Tanh",
        "Transpose",
        "Where",
    ];
    for op in all {
        assert!(ops.contains(op), "every_op_graph lacks {op}");
    }
    let dtypes: std::collections::BTreeSet<DType> =
        g.node_indices().iter().flat_map(|n| g.node(*n).outputs.iter().map(|o| o.ty.dtype)).collect();
    assert_eq!(dtypes.len(), DType::ALL.len());
}

#[test]
fn canonical_text_round_trips() {
    let text = r#"graph @"my model"(%x: f32[1,4], %"in/1": i64[2]) {
  %w: f32[4,2] = Constant dense<[0.5, -1.0, 2.0, 0.25, 0.001, 3.0, -2.0, 0.0]>
  %h: f32[1,2] = MatMul(%x, %w)
  %y: f32[1,2] = Relu(%h)
  %a: f32[1,1], %b: f32[1,1] = Split(%y) {axis = 1, sizes = [1, 1]}
  %z: f32[3] = Constant splat<-0.0>
  %k: bool[2] = Constant dense<[true, false]>
  %s: f64[] = Constant dense<[0x7FF0000000000001]>
  %e: i32[0] = Constant dense<[]>
  %g: f32[1,2] = Gemm(%x, %w, %y) {alpha = 1.0, beta = 0.5, trans_a = false, trans_b = false}
  return %y as "logits", %a as "part/0", %b, %"in/1", %k, %s, %e, %z, %g
}
"#;
    let g = parse(text).unwrap();
    assert_eq!(print(&g), text);
    assert_eq!(g.name, "my model");
    assert_eq!(g.outputs()[0].name, "logits");
    assert_eq!(g.outputs()[2].name, "b");
}

#[test]
fn input_order_relative_to_nodes_does_not_matter() {
    // a constant created before the input: the text lists inputs first, equality still holds
    let mut g = Graph::new("g");
    let c = g.add_constant("c", Tensor::from_f32(&[2], vec![1.0, 2.0]).unwrap());
    let x = g.add_input("x", common::ty(DType::F32, &[2]));
    let y = common::node(&mut g, Op::Binary(kiln_ir::BinaryOp::Add), &[c, x]);
    g.add_output("y", y);
    let back = parse(&print(&g)).unwrap();
    assert!(back == g);
}

#[test]
fn elided_constants_do_not_parse() {
    let g = common::every_op_graph();
    let text = print_with(&g, &PrintOptions { elide_constants_over: Some(4) });
    assert!(text.contains("%conv.w: f32[3,2,3,3] = Constant dense<elided 54 elements>"), "{text}");
    // splats stay (they are short)
    assert!(text.contains("= Constant splat<1>"), "{text}");
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.contains("constant data was elided by the printer"), "{e}");
}
