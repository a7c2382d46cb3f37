//! Imports of small hand-built models: op histograms, output types, folding and aliasing.

mod common;
use common::*;
use kiln_ir::{DType, Op, TensorType};

fn out_ty(g: &kiln_ir::Graph, i: usize) -> TensorType {
    g.value_type(g.outputs()[i].value).clone()
}

#[test]
fn mlp_with_gemm_and_relu() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 4])
        .init(tf32("w", &[4, 3], &[0.5; 12]))
        .init(tf32_raw("b", &[3], &[1.0, 2.0, 3.0]))
        .node("Gemm", &["x", "w", "b"], &["h"], vec![a_float("alpha", 2.0)])
        .node("Relu", &["h"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Constant", 2), ("Gemm", 1), ("Relu", 1)]));
    assert_eq!(out_ty(&g, 0), TensorType::new(DType::F32, vec![2, 3]));
    assert_eq!(g.name, "test");
    assert_eq!(g.outputs()[0].name, "y");
    let y = run(&g, &[iota(&[2, 4])]);
    // row sums of x: 6, 22; y = relu(2 * 0.5 * rowsum + b)
    assert_close(&y[0], &[2, 3], &[7.0, 8.0, 9.0, 23.0, 24.0, 25.0]);
}

#[test]
fn shape_arithmetic_folds_to_constants() {
    // x[2,3,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape(x) : [2, 12]
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3, 4])
        .init(ti64("zero", &[], &[0]))
        .init(ints("minus1", &[-1]))
        .init(ints("ax0", &[0]))
        .node("Shape", &["x"], &["s"], vec![])
        .node("Gather", &["s", "zero"], &["d0"], vec![a_int("axis", 0)])
        .node("Unsqueeze", &["d0", "ax0"], &["d0v"], vec![])
        .node("Concat", &["d0v", "minus1"], &["shape"], vec![a_int("axis", 0)])
        .node("Reshape", &["x", "shape"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Reshape", 1)]));
    assert_eq!(out_ty(&g, 0), TensorType::new(DType::F32, vec![2, 12]));
}

#[test]
fn identity_and_dropout_alias_their_input() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[3])
        .node("Identity", &["x"], &["a"], vec![])
        .node("Dropout", &["a"], &["b"], vec![])
        .node("Neg", &["b"], &["y"], vec![])
        .output("y")
        .output("a")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Neg", 1)]));
    assert_eq!(g.outputs()[1].name, "a");
    assert_eq!(g.outputs()[1].value, g.input_values()[0]);
}

#[test]
fn value_names_keep_onnx_names() {
    let g = ModelBuilder::new(17)
        .input("in/put:0", F32, &[2])
        .node("Exp", &["in/put:0"], &["/layer/Exp_output_0"], vec![])
        .output("/layer/Exp_output_0")
        .import()
        .unwrap();
    let names: Vec<&str> = g.node_indices().into_iter().map(|n| g.node(n).outputs[0].name.as_str()).collect();
    assert!(names.contains(&"in/put:0") && names.contains(&"/layer/Exp_output_0"), "{names:?}");
}

#[test]
fn empty_graph_name_becomes_main() {
    let mut b = ModelBuilder::new(13).input("x", F32, &[1]).node("Neg", &["x"], &["y"], vec![]).output("y");
    b.graph.name = None;
    assert_eq!(b.import().unwrap().name, "main");
}

#[test]
fn pow_with_integer_exponent_casts_it() {
    let g = ModelBuilder::new(15)
        .input("x", F32, &[3])
        .input("e", I64, &[1])
        .node("Pow", &["x", "e"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Cast", 1), ("Pow", 1)]));
    let e = kiln_ir::Tensor::from_i64(&[1], vec![2]).unwrap();
    let y = run(&g, &[iota(&[3]), e]);
    assert_close(&y[0], &[3], &[0.0, 1.0, 4.0]);
}

#[test]
fn sum_is_a_chain_of_adds() {
    let g = ModelBuilder::new(13)
        .input("a", F32, &[2])
        .input("b", F32, &[2])
        .input("c", F32, &[1])
        .node("Sum", &["a", "b", "c"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Add", 2)]));
    let y = run(&g, &[iota(&[2]), iota(&[2]), kiln_ir::Tensor::from_f32(&[1], vec![10.0]).unwrap()]);
    assert_close(&y[0], &[2], &[10.0, 12.0]);
}

#[test]
fn cnn_block_imports_conv_bn_pool() {
    let g = ModelBuilder::new(11)
        .input("x", F32, &[1, 2, 8, 8])
        .init(tf32("w", &[4, 2, 3, 3], &[0.1; 72]))
        .init(tf32("bias", &[4], &[0.0; 4]))
        .init(tf32("s", &[4], &[1.0; 4]))
        .init(tf32("bb", &[4], &[0.0; 4]))
        .init(tf32("m", &[4], &[0.0; 4]))
        .init(tf32("v", &[4], &[1.0; 4]))
        .node("Conv", &["x", "w", "bias"], &["c"], vec![a_str("auto_pad", "SAME_UPPER"), a_ints("strides", &[2, 2])])
        .node("BatchNormalization", &["c", "s", "bb", "m", "v"], &["n"], vec![])
        .node("MaxPool", &["n"], &["p"], vec![a_ints("kernel_shape", &[2, 2]), a_ints("strides", &[2, 2])])
        .node("GlobalAveragePool", &["p"], &["gp"], vec![])
        .node("Flatten", &["gp"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(
        histogram(&g),
        hist(&[("Constant", 6), ("Conv", 1), ("BatchNorm", 1), ("MaxPool", 1), ("ReduceMean", 1), ("Reshape", 1)])
    );
    assert_eq!(out_ty(&g, 0), TensorType::new(DType::F32, vec![1, 4]));
    let conv = g.node_indices().into_iter().find(|n| matches!(g.node(*n).op, Op::Conv { .. })).unwrap();
    match &g.node(conv).op {
        // in 8, stride 2, k 3: out 4, total pad (4-1)*2+3-8 = 1 -> SAME_UPPER puts it at the end
        Op::Conv { pads, strides, .. } => {
            assert_eq!(pads, &vec![0, 0, 1, 1]);
            assert_eq!(strides, &vec![2, 2]);
        }
        _ => unreachable!(),
    }
}

#[test]
fn constant_nodes_and_constant_of_shape() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .node("Constant", &[], &["shape"], vec![a_ints("value_ints", &[2, 3])])
        .node("ConstantOfShape", &["shape"], &["ones"], vec![a_tensor("value", tf32("", &[1], &[1.0]))])
        .node("Constant", &[], &["two"], vec![a_float("value_float", 2.0)])
        .node("Mul", &["ones", "two"], &["twos"], vec![])
        .node("Add", &["x", "twos"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Constant", 1), ("Add", 1)]));
    let y = run(&g, &[iota(&[2, 3])]);
    assert_close(&y[0], &[2, 3], &[2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
}

#[test]
fn where_equal_cast_expand() {
    let g = ModelBuilder::new(13)
        .input("x", I64, &[3])
        .init(ints("k", &[1]))
        .init(ints("shape", &[2, 1]))
        .init(tf32("a", &[1], &[5.0]))
        .init(tf32("b", &[1], &[-5.0]))
        .node("Equal", &["x", "k"], &["eq"], vec![])
        .node("Where", &["eq", "a", "b"], &["w"], vec![])
        .node("Expand", &["w", "shape"], &["e"], vec![])
        .node("Cast", &["e"], &["y"], vec![a_int("to", I32 as i64)])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(out_ty(&g, 0), TensorType::new(DType::I32, vec![2, 3]));
    let x = kiln_ir::Tensor::from_i64(&[3], vec![0, 1, 2]).unwrap();
    let y = run(&g, &[x]);
    assert_eq!(y[0].to_i64_vec().unwrap(), vec![-5, 5, -5, -5, 5, -5]);
}

#[test]
fn layer_norm_and_transpose_matmul() {
    let g = ModelBuilder::new(17)
        .input("x", F32, &[2, 4])
        .init(tf32("s", &[4], &[1.0; 4]))
        .init(tf32("w", &[2, 4], &[1.0; 8]))
        .node("LayerNormalization", &["x", "s"], &["n"], vec![])
        .node("Transpose", &["w"], &["wt"], vec![])
        .node("MatMul", &["n", "wt"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    // The transposed weight is folded (8 elements).
    assert_eq!(histogram(&g), hist(&[("Constant", 2), ("LayerNorm", 1), ("MatMul", 1)]));
    let y = run(&g, &[iota(&[2, 4])]);
    // Normalized rows sum to 0.
    assert_close(&y[0], &[2, 2], &[0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn unused_nodes_are_dropped() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2])
        .node("Exp", &["x"], &["dead"], vec![])
        .node("Neg", &["x"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Neg", 1)]));
}
