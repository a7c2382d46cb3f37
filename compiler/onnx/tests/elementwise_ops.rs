//! Importer checks for the elementwise, comparison, logical and bitwise ops and the activation
//! decompositions: the IR ops each imports as, and interpreter outputs against values computed
//! by hand (or with numpy, quoted), per opset where the ONNX definitions differ.

mod common;
use common::*;
use kiln_ir::Tensor;

fn unary_model(opset: i64, op: &str, attrs: Vec<kiln_onnx::proto::AttributeProto>) -> kiln_ir::Graph {
    ModelBuilder::new(opset).input("x", F32, &[5]).node(op, &["x"], &["y"], attrs).output("y").import().unwrap()
}

fn x5() -> Tensor {
    Tensor::from_f32(&[5], vec![-2.0, -0.5, 0.0, 0.5, 2.0]).unwrap()
}

fn eval1(opset: i64, op: &str, attrs: Vec<kiln_onnx::proto::AttributeProto>) -> Tensor {
    run(&unary_model(opset, op, attrs), &[x5()]).remove(0)
}

#[test]
fn one_to_one_unary_ops() {
    for (op, ir) in [("Abs", "Abs"), ("Round", "Round"), ("Atanh", "Atanh"), ("IsNaN", "IsNaN"), ("Sign", "Sign")] {
        let g = unary_model(13, op, vec![]);
        assert_eq!(histogram(&g), hist(&[(ir, 1)]), "{op}");
    }
    assert_close(&eval1(13, "Round", vec![]), &[5], &[-2.0, -0.0, 0.0, 0.0, 2.0]);
    assert_close(&eval1(13, "Floor", vec![]), &[5], &[-2.0, -1.0, 0.0, 0.0, 2.0]);
}

#[test]
fn activations_match_hand_values() {
    let x = [-2.0f64, -0.5, 0.0, 0.5, 2.0];
    let map = |f: &dyn Fn(f64) -> f64| x.iter().map(|v| f(*v)).collect::<Vec<f64>>();
    let leaky = eval1(16, "LeakyRelu", vec![a_float("alpha", 0.1)]);
    assert_close(&leaky, &[5], &[-0.2, -0.05, 0.0, 0.5, 2.0]);
    let elu = eval1(7, "Elu", vec![a_float("alpha", 2.0)]);
    assert_close(&elu, &[5], &map(&|v| if v < 0.0 { 2.0 * (v.exp() - 1.0) } else { v }));
    let (a, g) = (1.673_263_192_176_818_8, 1.050_701_022_148_132_3);
    let selu = eval1(7, "Selu", vec![]);
    assert_close(&selu, &[5], &map(&|v| g * if v > 0.0 { v } else { a * (v.exp() - 1.0) }));
    let celu = eval1(12, "Celu", vec![a_float("alpha", 2.0)]);
    assert_close(&celu, &[5], &map(&|v| v.max(0.0) + (2.0 * ((v / 2.0).exp() - 1.0)).min(0.0)));
    let hs = eval1(7, "HardSigmoid", vec![]);
    assert_close(&hs, &[5], &[0.1, 0.4, 0.5, 0.6, 0.9]);
    let hw = eval1(14, "HardSwish", vec![]);
    assert_close(&hw, &[5], &map(&|v| v * (v / 6.0 + 0.5).clamp(0.0, 1.0)));
    let tr = eval1(10, "ThresholdedRelu", vec![a_float("alpha", 0.25)]);
    assert_close(&tr, &[5], &[0.0, 0.0, 0.0, 0.5, 2.0]);
    let sh = eval1(9, "Shrink", vec![a_float("lambd", 1.0), a_float("bias", 0.5)]);
    assert_close(&sh, &[5], &[-1.5, 0.0, 0.0, 0.0, 1.5]);
    let sp = eval1(7, "Softplus", vec![]);
    assert_close(&sp, &[5], &map(&|v| (v.exp() + 1.0).ln()));
    let ss = eval1(7, "Softsign", vec![]);
    assert_close(&ss, &[5], &map(&|v| v / (1.0 + v.abs())));
    let mish = eval1(18, "Mish", vec![]);
    assert_close(&mish, &[5], &map(&|v| v * (v.exp() + 1.0).ln().tanh()));
    // scipy: gelu(x) = x * norm.cdf(x); x = 0.5 -> 0.34573123063700656, 2 -> 1.9544997361036416
    let ge = eval1(20, "Gelu", vec![]);
    assert_close(
        &ge,
        &[5],
        &[-0.04550026389635842, -0.15426876936299344, 0.0, 0.34573123063700656, 1.9544997361036416],
    );
    let gt = eval1(20, "Gelu", vec![a_str("approximate", "tanh")]);
    let tanh_gelu =
        |v: f64| 0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh());
    assert_close(&gt, &[5], &map(&tanh_gelu));
}

#[test]
fn softplus_does_not_overflow() {
    let g = unary_model(7, "Softplus", vec![]);
    let x = Tensor::from_f32(&[5], vec![-200.0, -100.0, 0.0, 100.0, 200.0]).unwrap();
    let y = run(&g, &[x]).remove(0);
    assert_close(&y, &[5], &[0.0, 0.0, std::f64::consts::LN_2, 100.0, 200.0]);
}

#[test]
fn clip_attributes_before_11_operands_after() {
    let g = unary_model(7, "Clip", vec![a_float("min", -1.0), a_float("max", 0.25)]);
    assert_eq!(histogram(&g), hist(&[("Constant", 2), ("Max", 1), ("Min", 1)]));
    assert_close(&run(&g, &[x5()])[0], &[5], &[-1.0, -0.5, 0.0, 0.25, 0.25]);
    let only_max = unary_model(7, "Clip", vec![a_float("max", 0.0)]);
    assert_close(&run(&only_max, &[x5()])[0], &[5], &[-2.0, -0.5, 0.0, 0.0, 0.0]);
    let g = ModelBuilder::new(13)
        .input("x", F32, &[5])
        .init(tf32("lo", &[], &[-0.5]))
        .node("Clip", &["x", "lo", ""], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Constant", 1), ("Max", 1)]));
    assert_close(&run(&g, &[x5()])[0], &[5], &[-0.5, -0.5, 0.0, 0.5, 2.0]);
    // min > max: everything is max.
    let g = ModelBuilder::new(13)
        .input("x", F32, &[5])
        .init(tf32("lo", &[], &[1.0]))
        .init(tf32("hi", &[], &[0.0]))
        .node("Clip", &["x", "lo", "hi"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_close(&run(&g, &[x5()])[0], &[5], &[0.0; 5]);
}

#[test]
fn prelu_broadcasts_slope() {
    let g = ModelBuilder::new(16)
        .input("x", F32, &[2, 3])
        .init(tf32("s", &[3], &[0.5, 1.0, 2.0]))
        .node("PRelu", &["x", "s"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let x = Tensor::from_f32(&[2, 3], vec![-1.0, -1.0, -1.0, 1.0, -2.0, 3.0]).unwrap();
    assert_close(&run(&g, &[x])[0], &[2, 3], &[-0.5, -1.0, -2.0, 1.0, -2.0, 3.0]);
}

#[test]
fn variadic_max_min() {
    let g = ModelBuilder::new(13)
        .input("a", F32, &[3])
        .input("b", F32, &[1])
        .input("c", F32, &[3])
        .node("Max", &["a", "b", "c"], &["y"], vec![])
        .node("Min", &["a", "b", "c"], &["z"], vec![])
        .output("y")
        .output("z")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Max", 2), ("Min", 2)]));
    let a = Tensor::from_f32(&[3], vec![1.0, 5.0, -3.0]).unwrap();
    let b = Tensor::from_f32(&[1], vec![2.0]).unwrap();
    let c = Tensor::from_f32(&[3], vec![0.0, 6.0, f32::NAN]).unwrap();
    let out = run(&g, &[a, b, c]);
    let (mx, mn) = (out[0].to_f64_vec(), out[1].to_f64_vec());
    assert_eq!((mx[0], mx[1], mn[0], mn[1]), (2.0, 6.0, 0.0, 2.0));
    assert!(mx[2].is_nan() && mn[2].is_nan(), "NaN propagates: {mx:?} {mn:?}");
}

#[test]
fn mod_fmod_and_is_inf() {
    let model = |fmod: i64| {
        ModelBuilder::new(13)
            .input("a", I32, &[4])
            .input("b", I32, &[4])
            .node("Mod", &["a", "b"], &["y"], vec![a_int("fmod", fmod)])
            .output("y")
            .import()
            .unwrap()
    };
    let a = Tensor::from_i32(&[4], vec![-7, 7, -7, 7]).unwrap();
    let b = Tensor::from_i32(&[4], vec![3, -3, -3, 3]).unwrap();
    // numpy: np.mod -> [2, -2, -1, 1], np.fmod -> [-1, 1, -1, 1]
    assert_close(&run(&model(0), &[a.clone(), b.clone()])[0], &[4], &[2.0, -2.0, -1.0, 1.0]);
    assert_close(&run(&model(1), &[a, b])[0], &[4], &[-1.0, 1.0, -1.0, 1.0]);
    let err = ModelBuilder::new(13)
        .input("a", F32, &[4])
        .input("b", F32, &[4])
        .node("Mod", &["a", "b"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(err.to_string().contains("Mod of floats requires fmod = 1"), "{err}");

    let x = Tensor::from_f32(&[4], vec![f32::INFINITY, -f32::INFINITY, f32::NAN, 1.0]).unwrap();
    for (pos, neg, want) in
        [(1, 1, [1.0, 1.0, 0.0, 0.0]), (1, 0, [1.0, 0.0, 0.0, 0.0]), (0, 1, [0.0, 1.0, 0.0, 0.0]), (0, 0, [0.0; 4])]
    {
        let g = ModelBuilder::new(20)
            .input("x", F32, &[4])
            .node("IsInf", &["x"], &["y"], vec![a_int("detect_positive", pos), a_int("detect_negative", neg)])
            .output("y")
            .import()
            .unwrap();
        let y = run(&g, std::slice::from_ref(&x)).remove(0);
        assert_eq!(y.dtype(), kiln_ir::DType::Bool);
        assert_eq!(y.to_f64_vec(), want, "IsInf({pos}, {neg})");
    }
}

#[test]
fn logical_and_bitwise_ops_check_dtypes() {
    let g = ModelBuilder::new(18)
        .input("a", I32, &[3])
        .input("b", I32, &[3])
        .node("BitwiseAnd", &["a", "b"], &["y"], vec![])
        .node("BitwiseNot", &["a"], &["z"], vec![])
        .node("GreaterOrEqual", &["a", "b"], &["w"], vec![])
        .output("y")
        .output("z")
        .output("w")
        .import()
        .unwrap();
    let a = Tensor::from_i32(&[3], vec![12, -1, 5]).unwrap();
    let b = Tensor::from_i32(&[3], vec![10, 7, 6]).unwrap();
    let out = run(&g, &[a, b]);
    assert_eq!(out[0].to_i64_vec().unwrap(), vec![8, 7, 4]);
    assert_eq!(out[1].to_i64_vec().unwrap(), vec![-13, 0, -6]);
    assert_eq!(out[2].to_f64_vec(), vec![1.0, 0.0, 0.0]);
    let err = ModelBuilder::new(18)
        .input("a", I32, &[3])
        .input("b", I32, &[3])
        .node("And", &["a", "b"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(err.to_string().contains("inputs must be bool, got i32"), "{err}");
}

#[test]
fn cast_like_takes_the_target_dtype() {
    let g = ModelBuilder::new(15)
        .input("x", F32, &[3])
        .input("t", I64, &[1])
        .node("CastLike", &["x", "t"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Cast", 1)]));
    let x = Tensor::from_f32(&[3], vec![1.7, -2.5, 0.0]).unwrap();
    let t = Tensor::from_i64(&[1], vec![0]).unwrap();
    assert_eq!(run(&g, &[x, t])[0].to_i64_vec().unwrap(), vec![1, -2, 0]);
}
