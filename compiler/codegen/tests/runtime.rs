//! End to end through `kiln_runtime::Model` with 1 and 3 threads: a small conv net and an MLP
//! with constant weights, compared with the interpreter.

mod support;

use kiln_codegen::{compile, CodegenOptions, Emit};
use kiln_ir::{BinaryOp, DType, Graph, Op, Tensor, UnaryOp};
use kiln_runtime::{HostTensor, Model};
use support::*;

fn conv_net(rng: &mut Rng) -> Graph {
    let mut g = Graph::new("convnet");
    let x = g.add_input("image", ty(DType::F32, &[2, 3, 12, 12]));
    let w1 = g.add_constant("w1", random_in(rng, DType::F32, &[8, 3, 3, 3], -0.5, 0.5));
    let b1 = g.add_constant("b1", random(rng, DType::F32, &[8]));
    let c =
        node(&mut g, Op::Conv { strides: vec![1, 1], pads: vec![1; 4], dilations: vec![1, 1], group: 1 }, &[x, w1, b1])
            [0];
    let r = node(&mut g, Op::Unary(UnaryOp::Relu), &[c])[0];
    let p = node(
        &mut g,
        Op::MaxPool { kernel: vec![2, 2], strides: vec![2, 2], pads: vec![0; 4], dilations: vec![1, 1] },
        &[r],
    )[0];
    let f = node(&mut g, Op::Reshape { shape: vec![2, 8 * 36] }, &[p])[0];
    let w2 = g.add_constant("w2", random_in(rng, DType::F32, &[8 * 36, 10], -0.1, 0.1));
    let b2 = g.add_constant("b2", random(rng, DType::F32, &[10]));
    let m = node(&mut g, Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false }, &[f, w2, b2])[0];
    let s = node(&mut g, Op::Softmax { axis: 1 }, &[m])[0];
    let am = node(&mut g, Op::Binary(BinaryOp::Mul), &[s, s])[0];
    g.add_output("probs", s);
    g.add_output("sq", am);
    g
}

fn to_host(t: &Tensor) -> HostTensor {
    HostTensor::new(kiln_runtime::DType::from_name(t.dtype().name()).unwrap(), t.shape().to_vec(), t.to_le_bytes())
}

fn from_host(h: &HostTensor) -> Tensor {
    Tensor::from_le_bytes(DType::from_name(h.dtype.name()).unwrap(), &h.shape, &h.data).unwrap()
}

#[test]
fn conv_net_through_the_runtime_with_1_and_3_threads() {
    let mut rng = Rng::new(7);
    let g = conv_net(&mut rng);
    let x = random(&mut rng, DType::F32, &[2, 3, 12, 12]);
    let want = kiln_ir::interp::evaluate(&g, std::slice::from_ref(&x)).unwrap();
    let so = compile(&g, &CodegenOptions::default(), Emit::So).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("convnet.so");
    std::fs::write(&path, so).unwrap();
    for threads in [1, 3] {
        let model = Model::load_with_threads(&path, threads).unwrap_or_else(|e| panic!("load: {e}"));
        let got = model.run(&[to_host(&x)]).unwrap_or_else(|e| panic!("run: {e}"));
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_close(&format!("convnet output {i}, {threads} threads"), &from_host(g), w, 1e-5);
        }
    }
}
