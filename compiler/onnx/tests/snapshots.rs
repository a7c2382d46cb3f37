//! IR text snapshots of imported models (constants over 16 elements elided), plus a round-trip
//! check: the full text of each imported graph parses back to the same graph.

mod common;
use common::*;
use kiln_ir::text::{parse, print, print_with, PrintOptions};

fn text(g: &kiln_ir::Graph) -> String {
    let full = print(g);
    let back = parse(&full).unwrap_or_else(|e| panic!("imported graph text does not parse: {e}\n{full}"));
    assert!(back == *g, "print/parse round trip changed the graph:\n{full}");
    print_with(g, &PrintOptions { elide_constants_over: Some(16) })
}

#[test]
fn mlp() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 4])
        .init(tf32("w1", &[4, 8], &[0.25; 32]))
        .init(tf32("b1", &[8], &[0.5; 8]))
        .init(tf32("w2", &[8, 2], &[1.0; 16]))
        .node("MatMul", &["x", "w1"], &["/fc1/MatMul_output_0"], vec![])
        .node("Add", &["/fc1/MatMul_output_0", "b1"], &["/fc1/Add_output_0"], vec![])
        .node("Relu", &["/fc1/Add_output_0"], &["/act/Relu_output_0"], vec![])
        .node("Gemm", &["/act/Relu_output_0", "w2"], &["logits"], vec![a_float("alpha", 0.5)])
        .node("Softmax", &["logits"], &["probs"], vec![])
        .output("probs")
        .import()
        .unwrap();
    insta::assert_snapshot!(text(&g));
}

#[test]
fn softmax_opset11_axis1() {
    let g = ModelBuilder::new(11)
        .input("x", F32, &[2, 3, 4])
        .node("Softmax", &["x"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    insta::assert_snapshot!(text(&g));
}

#[test]
fn cnn_block() {
    let g = ModelBuilder::new(13)
        .input("image", F32, &[1, 3, 16, 16])
        .init(tf32("conv.w", &[8, 3, 3, 3], &[0.01; 216]))
        .init(tf32("conv.b", &[8], &[0.0; 8]))
        .init(tf32("bn.s", &[8], &[1.0; 8]))
        .init(tf32("bn.b", &[8], &[0.0; 8]))
        .init(tf32("bn.m", &[8], &[0.0; 8]))
        .init(tf32("bn.v", &[8], &[1.0; 8]))
        .node(
            "Conv",
            &["image", "conv.w", "conv.b"],
            &["c"],
            vec![a_ints("pads", &[1, 1, 1, 1]), a_ints("kernel_shape", &[3, 3])],
        )
        .node("BatchNormalization", &["c", "bn.s", "bn.b", "bn.m", "bn.v"], &["n"], vec![a_float("epsilon", 1e-3)])
        .node("Relu", &["n"], &["r"], vec![])
        .node(
            "MaxPool",
            &["r"],
            &["p"],
            vec![a_ints("kernel_shape", &[3, 3]), a_ints("strides", &[2, 2]), a_int("ceil_mode", 1)],
        )
        .node("AveragePool", &["p"], &["a"], vec![a_ints("kernel_shape", &[2, 2]), a_str("auto_pad", "SAME_LOWER")])
        .node("GlobalAveragePool", &["a"], &["g"], vec![])
        .node("Flatten", &["g"], &["features"], vec![])
        .output("features")
        .import()
        .unwrap();
    insta::assert_snapshot!(text(&g));
}

#[test]
fn attention_shape_ops() {
    // Split heads with Reshape/Transpose, slice, concat and a reduce: typical exporter output.
    let g = ModelBuilder::new(18)
        .input("h", F32, &[1, 6, 8])
        .init(ints("heads", &[0, 0, 2, 4]))
        .init(ints("s", &[0]))
        .init(ints("e", &[3]))
        .init(ints("ax", &[1]))
        .init(ints("red", &[-1]))
        .node("Reshape", &["h", "heads"], &["q"], vec![])
        .node("Transpose", &["q"], &["qt"], vec![a_ints("perm", &[0, 2, 1, 3])])
        .node("Slice", &["qt", "s", "e", "ax"], &["q0"], vec![])
        .node("Split", &["h"], &["h0", "h1"], vec![a_int("axis", 2), a_int("num_outputs", 2)])
        .node("Concat", &["h1", "h0"], &["swapped"], vec![a_int("axis", 2)])
        .node("ReduceMean", &["swapped", "red"], &["m"], vec![a_int("keepdims", 1)])
        .output("q0")
        .output("m")
        .import()
        .unwrap();
    insta::assert_snapshot!(text(&g));
}
