//! Epilogue fusion: elementwise chains after tiled products run in the product's kernel. Each
//! case is compiled and checked against the interpreter (three workgroup counts), and its kernel
//! list says what fused: `Gemm+Add+Relu` as one kernel, or the ops apart where fusion must not
//! happen (an intermediate that is a graph output, a broadcast operand, several readers, f64).

mod support;

use kiln_ir::{BinaryOp, DType, Graph, Op, Tensor, UnaryOp, ValueRef};
use support::*;

fn kernels(l: &Loaded) -> Vec<String> {
    l.meta.kernels.iter().map(|k| k.ops.join("+")).collect()
}

fn inputs(g: &Graph, seed: u64) -> Vec<Tensor> {
    let mut rng = Rng::new(seed);
    g.input_values().iter().map(|v| random(&mut rng, g.value_type(*v).dtype, &g.value_type(*v).shape)).collect()
}

fn un(g: &mut Graph, u: UnaryOp, x: ValueRef) -> ValueRef {
    node(g, Op::Unary(u), &[x])[0]
}

fn bin(g: &mut Graph, b: BinaryOp, x: ValueRef, y: ValueRef) -> ValueRef {
    node(g, Op::Binary(b), &[x, y])[0]
}

fn check(g: &Graph, want: &[&str]) {
    let l = check_graph(g, &inputs(g, 7), 1e-5);
    assert_eq!(kernels(&l), want, "{}", g.name);
}

#[test]
fn matmul_residual_add_relu() {
    let f = DType::F32;
    let g = build("mm_res_relu", &[ty(f, &[37, 40]), ty(f, &[40, 33]), ty(f, &[37, 33])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        let a = bin(g, BinaryOp::Add, x[2], m);
        vec![un(g, UnaryOp::Relu, a)]
    });
    check(&g, &["MatMul+Add+Relu"]);
}

#[test]
fn gemm_bias_then_silu_and_sub_with_value_second() {
    let f = DType::F32;
    let tys = [ty(f, &[13, 300]), ty(f, &[300, 70]), ty(f, &[70]), ty(f, &[13, 70])];
    let g = build("gemm_silu_sub", &tys, |g, x| {
        let op = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false };
        let y = node(g, op, &[x[0], x[1], x[2]])[0];
        let s = un(g, UnaryOp::Silu, y);
        vec![bin(g, BinaryOp::Sub, x[3], s)]
    });
    check(&g, &["Gemm+Silu+Sub"]);
}

#[test]
fn conv_through_reshape_with_residual_computed_later() {
    // Conv -> (conv-im2col shape) -> Add(residual) -> Relu, the residual produced by a later node
    // in topological order: the fused step runs after it.
    let f = DType::F32;
    let tys = [ty(f, &[1, 8, 9, 9]), ty(f, &[6, 8, 3, 3]), ty(f, &[6]), ty(f, &[1, 6, 9, 9])];
    let g = build("conv_res", &tys, |g, x| {
        let op = Op::Conv { strides: vec![1, 1], pads: vec![1; 4], dilations: vec![1, 1], group: 1 };
        let c = node(g, op, &[x[0], x[1], x[2]])[0];
        let r = node(g, Op::Reshape { shape: vec![6, 81] }, &[c])[0];
        let back = node(g, Op::Reshape { shape: vec![1, 6, 9, 9] }, &[r])[0];
        let res = un(g, UnaryOp::Tanh, x[3]);
        let a = bin(g, BinaryOp::Add, back, res);
        vec![un(g, UnaryOp::Relu, a)]
    });
    check(&g, &["Tanh", "Conv+Add+Relu"]);
}

#[test]
fn winograd_output_with_residual_and_relu() {
    // Two images of a 5x7 output (3x4 blocks each, the last row and column partial): the bias,
    // a residual add and Relu run in the output transform's kernel, over its output channels.
    let f = DType::F32;
    let tys = [ty(f, &[16, 6, 24]), ty(f, &[6]), ty(f, &[2, 6, 5, 7])];
    let g = build("winograd_res_relu", &tys, |g, x| {
        let y = node(g, Op::WinogradOutput { out: vec![5, 7] }, &[x[0], x[1]])[0];
        let a = bin(g, BinaryOp::Add, y, x[2]);
        vec![un(g, UnaryOp::Relu, a)]
    });
    check(&g, &["WinogradOutput+Add+Relu"]);
}

#[test]
fn batched_matmul_scale_and_sigmoid() {
    let f = DType::F32;
    let g = build("bmm_scale", &[ty(f, &[6, 17, 20]), ty(f, &[6, 20, 19]), ty(f, &[6, 17, 19])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        let s = bin(g, BinaryOp::Mul, m, x[2]);
        vec![un(g, UnaryOp::Sigmoid, s)]
    });
    check(&g, &["MatMul+Mul+Sigmoid"]);
}

#[test]
fn no_fusion_where_it_would_be_wrong() {
    let f = DType::F32;
    // The product is also a graph output.
    let g = build("shared_out", &[ty(f, &[5, 8]), ty(f, &[8, 9])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        vec![m, un(g, UnaryOp::Relu, m)]
    });
    check(&g, &["MatMul", "Relu"]);
    // Two readers.
    let g = build("two_readers", &[ty(f, &[5, 8]), ty(f, &[8, 9])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        let a = un(g, UnaryOp::Relu, m);
        let b = un(g, UnaryOp::Neg, m);
        vec![bin(g, BinaryOp::Add, a, b)]
    });
    check(&g, &["MatMul", "Relu", "Neg", "Add"]);
    // A broadcast operand (row vector) and an op without an epilogue form stay apart; the
    // chain stops before them.
    let g = build("broadcast", &[ty(f, &[5, 8]), ty(f, &[8, 9]), ty(f, &[9])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        let r = un(g, UnaryOp::Relu, m);
        let a = bin(g, BinaryOp::Add, r, x[2]);
        vec![un(g, UnaryOp::Floor, a)]
    });
    check(&g, &["MatMul+Relu", "Add", "Floor"]);
    // f64 runs the scalar loops: nothing fuses.
    let d = DType::F64;
    let g = build("f64", &[ty(d, &[5, 8]), ty(d, &[8, 9])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        vec![un(g, UnaryOp::Relu, m)]
    });
    check(&g, &["MatMul", "Relu"]);
}
