//! NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss imported as IR compositions and run
//! with the IR interpreter, with the target as a runtime input (the node data bakes int64 inputs
//! into constants). Expected values are hand-computed and match onnxruntime 1.31 (pasted).

mod common;
use common::*;
use kiln_ir::Tensor;

fn loss_model(op: &str, x: &[usize], t: &[usize], weight: bool, outs: &[&str], attrs: Vec<AttrProto>) -> ModelBuilder {
    let mut b = ModelBuilder::new(13).input("x", F32, x).input("t", I64, t);
    let mut ins = vec!["x", "t"];
    if weight {
        b = b.input("w", F32, &[x[1]]);
        ins.push("w");
    }
    b = b.node(op, &ins, outs, attrs);
    for o in outs {
        b = b.output(o);
    }
    b
}

type AttrProto = kiln_onnx::proto::AttributeProto;

#[test]
fn nll_weights_and_ignore_index_for_each_reduction() {
    // x[n, c, d] = 6n + 2c + d; targets [[0, 2], [1, -1]] with ignore_index -1; w = [1, 2, 0.5].
    // Losses: -x[0,0,0]*1 = 0, -x[0,2,1]*0.5 = -2.5, -x[1,1,0]*2 = -16, ignored 0.
    // mean divides by the kept weights 1 + 0.5 + 2 = 3.5 (onnxruntime: -5.285714).
    let x = iota(&[2, 3, 2]);
    let t = Tensor::from_i64(&[2, 2], vec![0, 2, 1, -1]).unwrap();
    let w = Tensor::from_f32(&[3], vec![1.0, 2.0, 0.5]).unwrap();
    let cases: [(&str, &[usize], &[f64]); 3] =
        [("none", &[2, 2], &[0.0, -2.5, -16.0, 0.0]), ("sum", &[], &[-18.5]), ("mean", &[], &[-18.5 / 3.5])];
    for (red, shape, want) in cases {
        let attrs = vec![a_str("reduction", red), a_int("ignore_index", -1)];
        let g = loss_model("NegativeLogLikelihoodLoss", &[2, 3, 2], &[2, 2], true, &["y"], attrs).import().unwrap();
        let y = run(&g, &[x.clone(), t.clone(), w.clone()]).remove(0);
        assert_close(&y, shape, want);
    }
}

#[test]
fn sce_mean_with_log_prob_output() {
    // Row 0 [1, 2, 3]: logsumexp = 3.4076059644; row 1 [1, 1, 1]: ln 3. Targets [2, 0]:
    // losses 0.4076059644 and 1.0986122887, mean 0.7531091 (onnxruntime).
    let g = loss_model("SoftmaxCrossEntropyLoss", &[2, 3], &[2], false, &["y", "lp"], vec![]).import().unwrap();
    let x = Tensor::from_f32(&[2, 3], vec![1., 2., 3., 1., 1., 1.]).unwrap();
    let t = Tensor::from_i64(&[2], vec![2, 0]).unwrap();
    let out = run(&g, &[x, t]);
    assert_close(&out[0], &[], &[0.7531091265]);
    let l3 = -(3f64.ln());
    assert_close(&out[1], &[2, 3], &[-2.4076059644, -1.4076059644, -0.4076059644, l3, l3, l3]);
}

#[test]
fn sce_out_of_range_ignore_index_is_not_read_and_not_counted() {
    // Target 5 (= ignore_index, beyond C = 3) is skipped: mean over the one kept row (onnxruntime:
    // 0.40760595).
    let attrs = vec![a_int("ignore_index", 5)];
    let g = loss_model("SoftmaxCrossEntropyLoss", &[2, 3], &[2], false, &["y"], attrs).import().unwrap();
    let x = Tensor::from_f32(&[2, 3], vec![1., 2., 3., 1., 1., 1.]).unwrap();
    let t = Tensor::from_i64(&[2], vec![2, 5]).unwrap();
    assert_close(&run(&g, &[x, t]).remove(0), &[], &[0.4076059644]);
}

#[test]
fn bad_target_shape_and_reduction_are_import_errors() {
    let e = loss_model("NegativeLogLikelihoodLoss", &[2, 3, 2], &[2], false, &["y"], vec![]).import().unwrap_err();
    assert!(e.to_string().contains("does not match input"), "{e}");
    let attrs = vec![a_str("reduction", "max")];
    let e = loss_model("NegativeLogLikelihoodLoss", &[2, 3], &[2], false, &["y"], attrs).import().unwrap_err();
    assert!(e.to_string().contains("reduction must be none, sum or mean"), "{e}");
}
