//! Graph builders shared by the IR integration tests.
#![allow(dead_code)]

use kiln_ir::{BinaryOp, DType, Graph, Op, ReduceOp, Tensor, TensorType, UnaryOp, ValueRef};

pub fn ty(dtype: DType, shape: &[usize]) -> TensorType {
    TensorType::new(dtype, shape.to_vec())
}

pub fn node(g: &mut Graph, op: Op, ins: &[ValueRef]) -> ValueRef {
    g.add_node(op, ins).unwrap_or_else(|e| panic!("{e}"))[0]
}

fn f32s(shape: &[usize], f: impl Fn(usize) -> f32) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_f32(shape, (0..n).map(f).collect()).unwrap()
}

/// A graph that uses every op and every dtype, odd names and special float constants.
pub fn every_op_graph() -> Graph {
    let mut g = Graph::new("every_op");
    let x = g.add_input("x", ty(DType::F32, &[1, 2, 4, 4]));
    let ids = g.add_input("token/ids:0", ty(DType::I64, &[3]));
    let cond = g.add_input("cond", ty(DType::Bool, &[2, 4]));
    let d = g.add_input("d", ty(DType::F64, &[2, 4]));
    let n = g.add_input("n", ty(DType::I32, &[2, 4]));

    // conv + norm + pools
    let w = g.add_constant("conv.w", f32s(&[3, 2, 3, 3], |i| (i as f32 - 27.0) * 0.03125));
    let b = g.add_constant("conv.b", Tensor::from_f32(&[3], vec![0.5, -0.0, 1e-8]).unwrap());
    let c = node(
        &mut g,
        Op::Conv { strides: vec![1, 1], pads: vec![1, 1, 1, 1], dilations: vec![1, 1], group: 1 },
        &[x, w, b],
    );
    let p = |g: &mut Graph, name: &str, v: f32| {
        g.add_constant(name, Tensor::from_f32(&[3], vec![v, v + 1.0, v + 2.0]).unwrap())
    };
    let (sc, bi, mean) = (p(&mut g, "bn.scale", 1.0), p(&mut g, "bn.bias", 0.0), p(&mut g, "bn.mean", -1.0));
    let var = p(&mut g, "bn.var", 0.5);
    let bn = node(&mut g, Op::BatchNorm { epsilon: 1e-5 }, &[c, sc, bi, mean, var]);
    let r = node(&mut g, Op::Unary(UnaryOp::Relu), &[bn]);
    let mp = node(
        &mut g,
        Op::MaxPool { kernel: vec![2, 2], strides: vec![2, 2], pads: vec![0, 0, 0, 0], dilations: vec![1, 1] },
        &[r],
    );
    let _patches = node(
        &mut g,
        Op::Im2Col { kernel: vec![2, 2], strides: vec![1, 2], pads: vec![1, 0, 1, 1], dilations: vec![1, 1] },
        &[r],
    );
    // Winograd F(2x2, 3x3) stages (unused, like the patches): tiles, products, output.
    let tiles = node(&mut g, Op::WinogradInput { pads: vec![1, 1, 1, 1] }, &[r]);
    let u = g.add_constant("wino.u", f32s(&[16, 3, 3], |i| (i % 7) as f32 * 0.25 - 0.75));
    let prods = node(&mut g, Op::MatMul, &[u, tiles]);
    let _wino = node(&mut g, Op::WinogradOutput { out: vec![4, 4] }, &[prods, b]);
    let ap = node(
        &mut g,
        Op::AvgPool { kernel: vec![3, 3], strides: vec![2, 2], pads: vec![1, 1, 1, 1], count_include_pad: false },
        &[r],
    );
    let pooled = node(&mut g, Op::Binary(BinaryOp::Add), &[mp, ap]); // [1, 3, 2, 2]

    // dense path: flatten, gemm, matmul, layernorm, softmax
    let flat = node(&mut g, Op::Reshape { shape: vec![1, 12] }, &[pooled]);
    let gw = g.add_constant("gemm.w", f32s(&[4, 12], |i| ((i * 7) % 11) as f32 / 11.0 - 0.5));
    let gc = g.add_constant("gemm.c", Tensor::from_f32(&[4], vec![f32::INFINITY, 0.25, -1.5, 3.0]).unwrap());
    let gm = node(&mut g, Op::Gemm { alpha: 0.5, beta: 1.0, trans_a: false, trans_b: true }, &[flat, gw, gc]);
    let gm = node(&mut g, Op::Unary(UnaryOp::Tanh), &[gm]); // [1, 4]
    let mw = g.add_constant("mm.w", f32s(&[4, 4], |i| if i % 5 == 0 { 1.0 } else { 0.0 }));
    let mm = node(&mut g, Op::MatMul, &[gm, mw]);
    let lns = g.add_constant("ln.scale", Tensor::from_f32(&[4], vec![1.0; 4]).unwrap());
    let lnb = g.add_constant("ln.bias", Tensor::from_f32(&[4], vec![0.0, 0.1, 0.2, 0.3]).unwrap());
    let ln = node(&mut g, Op::LayerNorm { axis: 1, epsilon: 1e-5 }, &[mm, lns, lnb]);
    let ln = node(&mut g, Op::RmsNorm { axis: 1, epsilon: 1e-5 }, &[ln, lns, lnb]);
    let sm = node(&mut g, Op::Softmax { axis: 1 }, &[ln]);

    // the remaining unary ops on a positive tensor
    let mut u = node(&mut g, Op::Unary(UnaryOp::Sigmoid), &[sm]);
    for op in [
        UnaryOp::Silu,
        UnaryOp::Gelu,
        UnaryOp::GeluTanh,
        UnaryOp::Exp,
        UnaryOp::Sqrt,
        UnaryOp::Log,
        UnaryOp::Erf,
        UnaryOp::Neg,
        UnaryOp::Reciprocal,
    ] {
        u = node(&mut g, Op::Unary(op), &[u]);
    }
    let two = g.add_constant("two", Tensor::from_i32(&[], vec![2]).unwrap());
    let pw = node(&mut g, Op::Binary(BinaryOp::Pow), &[u, two]); // [1, 4]

    // structural ops
    let t = node(&mut g, Op::Transpose { perm: vec![1, 0] }, &[pw]); // [4, 1]
    let e = node(&mut g, Op::Expand { shape: vec![4, 3] }, &[t]);
    let cat = node(&mut g, Op::Concat { axis: 1 }, &[e, t]); // [4, 4]
    let parts = g.add_node(Op::Split { axis: 0, sizes: vec![1, 3] }, &[cat]).unwrap();
    let sl = node(
        &mut g,
        Op::Slice { axes: vec![0, 1], starts: vec![2, 3], ends: vec![-1, 0], steps: vec![-1, -2] },
        &[parts[1]],
    ); // [3, 2]
    let ga = node(&mut g, Op::Gather { axis: 0 }, &[sl, ids]); // [3, 2]
    let rs = node(&mut g, Op::Reduce { op: ReduceOp::Sum, axes: vec![1], keep_dims: true }, &[ga]); // [3, 1]
    let rm = node(&mut g, Op::Reduce { op: ReduceOp::Mean, axes: vec![0, 1], keep_dims: false }, &[rs]); // []
    let sub = node(&mut g, Op::Binary(BinaryOp::Sub), &[rs, rm]);
    let mul = node(&mut g, Op::Binary(BinaryOp::Mul), &[sub, parts[0]]); // [3, 4]

    // other dtypes: f64 / i32 arithmetic, bool, casts, Where, Equal
    let df = node(&mut g, Op::Cast { to: DType::F64 }, &[n]);
    let dd = node(&mut g, Op::Binary(BinaryOp::Div), &[d, df]);
    let nan =
        g.add_constant("nan", Tensor::from_f64(&[2], vec![f64::NAN, f64::from_bits(0x7FF0_0000_0000_0001)]).unwrap());
    let ninf = g.add_constant("neg_inf", Tensor::from_f64(&[2, 1], vec![f64::NEG_INFINITY, 1e300]).unwrap());
    let dn = node(&mut g, Op::Binary(BinaryOp::Add), &[nan, ninf]); // [2, 2]
    let dc = node(&mut g, Op::Concat { axis: 1 }, &[dn, dn]); // [2, 4]
    let wh = node(&mut g, Op::Where, &[cond, dd, dc]);
    let ten = g.add_constant("ten", Tensor::from_i32(&[2, 1], vec![10, -7]).unwrap());
    let idiv = node(&mut g, Op::Binary(BinaryOp::Div), &[ten, ten]);
    let isum = node(&mut g, Op::Binary(BinaryOp::Add), &[n, idiv]);
    let eq = node(&mut g, Op::Binary(BinaryOp::Equal), &[isum, n]);
    let flags = g.add_constant("flags", Tensor::from_bool(&[4], vec![true, false, false, true]).unwrap());
    let eq2 = node(&mut g, Op::Binary(BinaryOp::Equal), &[eq, flags]);
    let i64c = node(&mut g, Op::Cast { to: DType::I64 }, &[eq2]);
    let ones = g.add_constant("ones", Tensor::from_i64(&[2, 4], vec![1; 8]).unwrap());
    let isub = node(&mut g, Op::Binary(BinaryOp::Mul), &[i64c, ones]);
    let empty = g.add_constant("empty", Tensor::from_f32(&[0, 3], vec![]).unwrap());
    let en = node(&mut g, Op::Unary(UnaryOp::Neg), &[empty]);

    g.add_output("logits", mul);
    g.add_output(g.value_name(wh).to_string(), wh);
    g.add_output("mask/out:0", isub);
    // the remaining dtypes: a constant of each, cast along f16 -> bf16 -> i8 -> ... -> u64
    use kiln_ir::half::{bf16, f16};
    let h = g.add_constant("h", Tensor::from_vec(&[2], vec![f16::from_f32(1.5), f16::from_f32(-2.0)]).unwrap());
    let hs = node(&mut g, Op::Binary(BinaryOp::Add), &[h, h]);
    let bh = g.add_constant("bh", Tensor::from_vec(&[2], vec![bf16::from_f32(0.5), bf16::from_bits(0x7FC1)]).unwrap());
    let bc = node(&mut g, Op::Cast { to: DType::BF16 }, &[hs]);
    let bs = node(&mut g, Op::Binary(BinaryOp::Mul), &[bc, bh]);
    let mut v = node(&mut g, Op::Cast { to: DType::I8 }, &[bs]);
    let consts = [
        Tensor::from_vec(&[2], vec![-128i8, 5]).unwrap(),
        Tensor::from_vec(&[2], vec![-300i16, 7]).unwrap(),
        Tensor::from_vec(&[2], vec![255u8, 3]).unwrap(),
        Tensor::from_vec(&[2], vec![65535u16, 9]).unwrap(),
        Tensor::from_vec(&[2], vec![u32::MAX, 11]).unwrap(),
        Tensor::from_vec(&[2], vec![u64::MAX, 13]).unwrap(),
    ];
    for (i, c) in consts.into_iter().enumerate() {
        let dt = c.dtype();
        if i > 0 {
            v = node(&mut g, Op::Cast { to: dt }, &[v]);
        }
        let k = g.add_constant(format!("k_{dt}"), c);
        v = node(&mut g, Op::Binary(BinaryOp::Add), &[v, k]);
    }
    g.add_output("nothing", en);
    g.add_output("dtypes", v);
    g
}

/// Inputs for [`every_op_graph`].
pub fn every_op_inputs() -> Vec<Tensor> {
    vec![
        f32s(&[1, 2, 4, 4], |i| (i as f32 * 0.37).sin()),
        Tensor::from_i64(&[3], vec![0, -1, 1]).unwrap(),
        Tensor::from_bool(&[2, 4], vec![true, false, true, true, false, false, true, false]).unwrap(),
        Tensor::from_f64(&[2, 4], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap(),
        Tensor::from_i32(&[2, 4], vec![1, 2, 3, 4, -1, -2, -3, 0]).unwrap(),
    ]
}
