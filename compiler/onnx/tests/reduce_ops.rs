//! Importers for reductions, ArgMax/ArgMin, TopK, CumSum, Gather/ScatterElements/ND, Pad,
//! LogSoftmax/Hardmax and GlobalMaxPool: the IR they build per opset, and hand-computed
//! numbers through the IR interpreter.

mod common;
use common::*;
use kiln_ir::Tensor;

/// One-node model on input `x: f32[dims]` with extra initializers, imported at `opset`.
fn one(
    opset: i64,
    op: &str,
    dims: &[usize],
    inits: Vec<kiln_onnx::proto::TensorProto>,
    attrs: Vec<kiln_onnx::proto::AttributeProto>,
) -> kiln_ir::Graph {
    let mut names = vec!["x".to_string()];
    let mut b = ModelBuilder::new(opset).input("x", F32, dims);
    for t in inits {
        names.push(t.name().to_string());
        b = b.init(t);
    }
    let ins: Vec<&str> = names.iter().map(String::as_str).collect();
    b.node(op, &ins, &["y"], attrs).output("y").import().unwrap_or_else(|e| panic!("{op}: {e}"))
}

#[test]
fn reduce_max_min_prod_axes_attribute_and_input() {
    // iota [2, 3]: [[0, 1, 2], [3, 4, 5]]
    let g = one(13, "ReduceMax", &[2, 3], vec![], vec![a_ints("axes", &[1]), a_int("keepdims", 0)]);
    assert_eq!(histogram(&g), hist(&[("ReduceMax", 1)]));
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2], &[2.0, 5.0]);
    let g = one(18, "ReduceMin", &[2, 3], vec![ints("axes", &[-2])], vec![]);
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[1, 3], &[0.0, 1.0, 2.0]);
    let g = one(18, "ReduceProd", &[2, 3], vec![], vec![a_int("keepdims", 0)]);
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[], &[0.0]);
    let g = one(18, "ReduceMax", &[2, 3], vec![], vec![a_int("noop_with_empty_axes", 1)]);
    assert_eq!(histogram(&g), hist(&[]));
}

#[test]
fn decomposed_reductions() {
    // x = [[-1, 2], [3, -4]]
    let x = Tensor::from_f32(&[2, 2], vec![-1., 2., 3., -4.]).unwrap();
    let attrs = || vec![a_ints("axes", &[1]), a_int("keepdims", 0)];
    let cases: [(&str, [f64; 2]); 5] = [
        ("ReduceL1", [3.0, 7.0]),
        ("ReduceL2", [5f64.sqrt(), 5.0]),
        ("ReduceSumSquare", [5.0, 25.0]),
        ("ReduceLogSumExp", [((-1f64).exp() + 2f64.exp()).ln(), (3f64.exp() + (-4f64).exp()).ln()]),
        ("ReduceLogSum", [0.0, f64::NAN]),
    ];
    for (op, want) in cases {
        let g = one(13, op, &[2, 2], vec![], attrs());
        let y = run(&g, std::slice::from_ref(&x));
        if op == "ReduceLogSum" {
            // log(1) and log(-1) = NaN
            let v = y[0].to_f64_vec();
            assert_eq!(v[0], 0.0);
            assert!(v[1].is_nan());
            continue;
        }
        assert_close(&y[0], &[2], &want);
    }
    // LogSumExp keeps dims through a reshape-free path and stays finite for large inputs.
    let big = Tensor::from_f32(&[1, 2], vec![1000., 1000.]).unwrap();
    let g = one(18, "ReduceLogSumExp", &[1, 2], vec![ints("axes", &[1])], vec![]);
    assert_close(&run(&g, &[big])[0], &[1, 1], &[1000.0 + 2f64.ln()]);
}

#[test]
fn arg_max_min_attributes() {
    let x = Tensor::from_f32(&[2, 3], vec![5., 1., 5., 0., 0., -1.]).unwrap();
    let g = one(13, "ArgMax", &[2, 3], vec![], vec![a_int("axis", -1)]);
    assert_eq!(run(&g, std::slice::from_ref(&x))[0], Tensor::from_i64(&[2, 1], vec![0, 0]).unwrap());
    let g =
        one(13, "ArgMax", &[2, 3], vec![], vec![a_int("axis", 1), a_int("keepdims", 0), a_int("select_last_index", 1)]);
    assert_eq!(run(&g, std::slice::from_ref(&x))[0], Tensor::from_i64(&[2], vec![2, 1]).unwrap());
    let g = one(11, "ArgMin", &[2, 3], vec![], vec![]);
    assert_eq!(run(&g, &[x])[0], Tensor::from_i64(&[1, 3], vec![1, 1, 1]).unwrap());
}

#[test]
fn topk_k_attribute_and_input() {
    let x = Tensor::from_f32(&[1, 4], vec![2., 7., 2., 9.]).unwrap();
    let build = |opset: i64, inits: Vec<_>, attrs| {
        let mut b = ModelBuilder::new(opset).input("x", F32, &[1, 4]);
        let mut ins = vec!["x"];
        for t in inits {
            b = b.init(t);
            ins.push("k");
        }
        b.node("TopK", &ins, &["v", "i"], attrs).output("v").output("i").import().unwrap()
    };
    let g = build(7, vec![], vec![a_int("k", 2)]);
    let y = run(&g, std::slice::from_ref(&x));
    assert_eq!(y[0], Tensor::from_f32(&[1, 2], vec![9., 7.]).unwrap());
    assert_eq!(y[1], Tensor::from_i64(&[1, 2], vec![3, 1]).unwrap());
    let g = build(11, vec![ints("k", &[3])], vec![a_int("largest", 0)]);
    let y = run(&g, std::slice::from_ref(&x));
    assert_eq!(y[0], Tensor::from_f32(&[1, 3], vec![2., 2., 7.]).unwrap());
    assert_eq!(y[1], Tensor::from_i64(&[1, 3], vec![0, 2, 1]).unwrap());
    let e = ModelBuilder::new(11)
        .input("x", F32, &[1, 4])
        .init(ints("k", &[5]))
        .node("TopK", &["x", "k"], &["v", "i"], vec![])
        .output("v")
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("K = 5 is out of range"), "{e}");
}

#[test]
fn cumsum_axis_operand() {
    let g =
        one(14, "CumSum", &[2, 3], vec![ti64("axis", &[], &[-1])], vec![a_int("exclusive", 1), a_int("reverse", 1)]);
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2, 3], &[3., 2., 0., 9., 5., 0.]);
    let e = ModelBuilder::new(14)
        .input("x", F32, &[2, 3])
        .input("a", I64, &[])
        .node("CumSum", &["x", "a"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("needs a constant"), "{e}");
}

#[test]
fn gather_and_scatter_elements_nd() {
    let g = one(13, "GatherElements", &[2, 3], vec![ti64("i", &[2, 2], &[2, 0, -1, 1])], vec![a_int("axis", 1)]);
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2, 2], &[2., 0., 5., 4.]);
    let g = one(13, "GatherND", &[2, 3], vec![ti64("i", &[2, 2], &[1, 2, 0, 1])], vec![]);
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2], &[5., 1.]);
    // ScatterElements with add: two updates to [0, 1].
    let mut b = ModelBuilder::new(18).input("x", F32, &[2, 3]).init(ti64("i", &[1, 2], &[1, 1])).init(tf32(
        "u",
        &[1, 2],
        &[10., 20.],
    ));
    b = b.node("ScatterElements", &["x", "i", "u"], &["y"], vec![a_int("axis", 1), a_str("reduction", "add")]);
    let g = b.output("y").import().unwrap();
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2, 3], &[0., 31., 2., 3., 4., 5.]);
    let b = ModelBuilder::new(18).input("x", F32, &[2, 3]).init(ti64("i", &[1, 1], &[1])).init(tf32(
        "u",
        &[1, 3],
        &[7., 8., 9.],
    ));
    let g =
        b.node("ScatterND", &["x", "i", "u"], &["y"], vec![a_str("reduction", "max")]).output("y").import().unwrap();
    assert_close(&run(&g, &[iota(&[2, 3])])[0], &[2, 3], &[0., 1., 2., 7., 8., 9.]);
}

#[test]
fn pad_opsets() {
    // opset 7: attributes
    let g = one(7, "Pad", &[1, 2], vec![], vec![a_ints("pads", &[0, 1, 0, 2]), a_float("value", 1.5)]);
    assert_close(&run(&g, &[iota(&[1, 2])])[0], &[1, 5], &[1.5, 0., 1., 1.5, 1.5]);
    // opset 11: pads and constant_value inputs; edge mode ignores the value.
    let g = one(11, "Pad", &[1, 2], vec![ints("p", &[0, 2, 0, 0])], vec![a_str("mode", "edge")]);
    assert_close(&run(&g, &[iota(&[1, 2])])[0], &[1, 4], &[0., 0., 0., 1.]);
    let g = one(11, "Pad", &[1, 2], vec![ints("p", &[1, 0, 0, 0]), tf32("v", &[], &[-3.])], vec![]);
    assert_close(&run(&g, &[iota(&[1, 2])])[0], &[2, 2], &[-3., -3., 0., 1.]);
    // opset 19: axes input and wrap mode.
    let mut b = ModelBuilder::new(19).input("x", F32, &[1, 3]).init(ints("p", &[1, 2])).init(ints("a", &[-1]));
    b = b.node("Pad", &["x", "p", "", "a"], &["y"], vec![a_str("mode", "wrap")]);
    let g = b.output("y").import().unwrap();
    assert_close(&run(&g, &[iota(&[1, 3])])[0], &[1, 6], &[2., 0., 1., 2., 0., 1.]);
}

#[test]
fn log_softmax_and_hardmax() {
    let lsm = |v: &[f64]| {
        let m = v.iter().cloned().fold(f64::MIN, f64::max);
        let s: f64 = v.iter().map(|x| (x - m).exp()).sum();
        v.iter().map(|x| x - m - s.ln()).collect::<Vec<f64>>()
    };
    // opset 11, axis 1 on [2, 2, 2]: over the 4 trailing elements.
    let g = one(11, "LogSoftmax", &[2, 2, 2], vec![], vec![]);
    let mut want = lsm(&[0., 1., 2., 3.]);
    want.extend(lsm(&[4., 5., 6., 7.]));
    assert_close(&run(&g, &[iota(&[2, 2, 2])])[0], &[2, 2, 2], &want);
    let g = one(13, "LogSoftmax", &[2, 2, 2], vec![], vec![]);
    let p = lsm(&[0., 1.]);
    assert_close(&run(&g, &[iota(&[2, 2, 2])])[0], &[2, 2, 2], &[p[0], p[1]].repeat(4));
    // Hardmax: first maximum wins.
    let x = Tensor::from_f32(&[2, 3], vec![1., 3., 3., -1., -2., -3.]).unwrap();
    let g = one(13, "Hardmax", &[2, 3], vec![], vec![]);
    assert_close(&run(&g, std::slice::from_ref(&x))[0], &[2, 3], &[0., 1., 0., 1., 0., 0.]);
    let g = one(11, "Hardmax", &[2, 3], vec![], vec![a_int("axis", 0)]);
    assert_close(&run(&g, &[x])[0], &[2, 3], &[0., 1., 0., 0., 0., 0.]);
}

#[test]
fn global_max_pool() {
    let g = one(13, "GlobalMaxPool", &[1, 2, 2, 2], vec![], vec![]);
    assert_eq!(histogram(&g), hist(&[("ReduceMax", 1)]));
    assert_close(&run(&g, &[iota(&[1, 2, 2, 2])])[0], &[1, 2, 1, 1], &[3., 7.]);
}
