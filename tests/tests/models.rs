//! The bundled example models (tests/models, built by make_models.py) compiled to native code and
//! run through the runtime match onnxruntime's recorded outputs within 1e-4 of the output's scale.
//! The reference interpreter on the imported graph is held to the same bound, so a mismatch says
//! whether the frontend or the codegen is wrong.

use kiln_tests::*;

/// ONNX input names per model, in graph order.
fn inputs_of(model: &str) -> &'static [&'static str] {
    match model {
        "bert" => &["input_ids", "attention_mask"],
        "gpt2" => &["input_ids"],
        "cnn" => &["image"],
        "mlp" => &["x"],
        _ => unreachable!(),
    }
}

fn outputs_of(model: &str) -> &'static [&'static str] {
    match model {
        "bert" => &["last_hidden_state", "pooler_output"],
        "gpt2" => &["logits"],
        "cnn" => &["class/probs:0"],
        "mlp" => &["probs"],
        _ => unreachable!(),
    }
}

const TOLERANCE: f64 = 1e-4;

fn check_model(name: &str) {
    let dir = model_dir(name);
    let inputs = load_inputs(&dir, inputs_of(name)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let so = compile_model(&dir, &inputs, tmp.path()).unwrap_or_else(|e| panic!("{name}: compile failed: {e:#}"));
    let model = kiln_runtime::Model::load_with_threads(&so, 2).unwrap();
    let host: Vec<_> = inputs.iter().map(|(_, t)| t.clone()).collect();
    let got = model.run(&host).unwrap();

    // The interpreter on the optimized graph: the oracle the codegen is built against.
    let shapes = inputs.iter().map(|(n, t)| (n.clone(), t.shape.clone())).collect();
    let lowered = kiln_cli::compile::import_and_optimize(&dir.join("model.onnx"), &shapes, 3).unwrap();
    let ir_in: Vec<_> = host.iter().map(to_ir).collect();
    let interp = kiln_ir::interp::evaluate(&lowered.graph, &ir_in).unwrap();

    for (i, out) in outputs_of(name).iter().enumerate() {
        let want = load_expected(&dir, out).unwrap();
        let e_interp = scaled_error(&to_host(&interp[i]), &want).unwrap();
        assert!(e_interp <= TOLERANCE, "{name}/{out}: interpreter vs onnxruntime error {e_interp:.3e} of scale");
        let e = scaled_error(&got[i], &want).unwrap();
        assert!(e <= TOLERANCE, "{name}/{out}: compiled vs onnxruntime error {e:.3e} of scale");
        eprintln!("{name}/{out}: compiled {e:.2e}, interpreter {e_interp:.2e} of scale");
    }
}

#[test]
fn mlp_matches_onnxruntime() {
    check_model("mlp");
}

#[test]
fn cnn_matches_onnxruntime() {
    check_model("cnn");
}

#[test]
fn gpt2_pre_ln_matches_onnxruntime() {
    check_model("gpt2");
}

#[test]
fn bert_post_ln_matches_onnxruntime() {
    check_model("bert");
}
