//! The graph passes end to end: bundled models go through import, the default -O3 pipeline and
//! codegen, their op histograms show the rewrites (LayerNorm -> RmsNorm for a Pre-LN GPT-2, none
//! for a Post-LN BERT, one Conv per RepVGG / ResNet block and no BatchNorm, a RePaViT FFN without
//! its Split/Concat), and the compiled outputs still match onnxruntime within 1e-4 of scale.

use kiln_tests::*;
use std::collections::BTreeMap;

const TOLERANCE: f64 = 1e-4;

struct Case {
    ops_imported: BTreeMap<String, usize>,
    ops: BTreeMap<String, usize>,
    notes: Vec<String>,
}

/// Import + pipeline (for the histograms and notes), then compile, run and compare every output.
fn run_case(name: &str, inputs: &[&str], outputs: &[&str]) -> Case {
    let dir = model_dir(name);
    let ins = load_inputs(&dir, inputs).unwrap();
    let shapes = ins.iter().map(|(n, t)| (n.clone(), t.shape.clone())).collect();
    let lowered = kiln_cli::compile::import_and_optimize(&dir.join("model.onnx"), &shapes, 3).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let so = compile_model(&dir, &ins, tmp.path()).unwrap_or_else(|e| panic!("{name}: compile failed: {e:#}"));
    let model = kiln_runtime::Model::load_with_threads(&so, 2).unwrap();
    let host: Vec<_> = ins.iter().map(|(_, t)| t.clone()).collect();
    let got = model.run(&host).unwrap();
    for (i, out) in outputs.iter().enumerate() {
        let want = load_expected(&dir, out).unwrap();
        let e = scaled_error(&got[i], &want).unwrap();
        assert!(e <= TOLERANCE, "{name}/{out}: compiled vs onnxruntime error {e:.3e} of scale");
        eprintln!("{name}/{out}: {e:.2e} of scale");
    }
    let notes = lowered.runs.iter().flat_map(|r| r.notes.iter().cloned()).collect();
    Case { ops_imported: lowered.ops_imported, ops: lowered.graph.op_histogram(), notes }
}

fn count(h: &BTreeMap<String, usize>, op: &str) -> usize {
    h.get(op).copied().unwrap_or(0)
}

#[test]
fn pre_ln_gpt2_leaves_no_layer_norm() {
    let c = run_case("gpt2", &["input_ids"], &["logits"]);
    let lns = count(&c.ops_imported, "LayerNorm");
    assert_eq!(lns, 5, "two blocks of two LayerNorms and the final one: {:?}", c.ops_imported);
    assert_eq!(count(&c.ops, "LayerNorm"), 0, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "RmsNorm"), lns, "{:?}", c.ops);
}

#[test]
fn post_ln_bert_keeps_its_layer_norms_and_says_why() {
    let c = run_case("bert", &["input_ids", "attention_mask"], &["last_hidden_state", "pooler_output"]);
    // The LayerNorms are written out in primitives (opset 13); canonicalization recognizes all five.
    // The four after the residual adds (Post-LN) stay: their stream is read by the next layer's
    // MatMuls. The embedding norm reads only the sum of two embedding tables, a one-write stream
    // whose tables can be centered, so it becomes an RmsNorm (exact, like the Pre-LN case).
    assert_eq!(count(&c.ops, "LayerNorm"), 4, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "RmsNorm"), 1, "{:?}", c.ops);
    assert!(
        c.notes.iter().any(|n| n.contains("kept") && n.contains("residual stream")),
        "no note says why the LayerNorms stay: {:?}",
        c.notes
    );
}

#[test]
fn repvgg_and_resnet_blocks_become_one_conv_each() {
    let c = run_case("repvgg", &["image"], &["logits"]);
    assert_eq!(count(&c.ops_imported, "BatchNorm"), 11, "{:?}", c.ops_imported);
    assert_eq!(count(&c.ops_imported, "Conv"), 9, "{:?}", c.ops_imported);
    assert_eq!(count(&c.ops, "BatchNorm"), 0, "{:?}", c.ops);
    // stem, three RepVGG blocks, two ResNet convs; the five with stride 1 get their padding as
    // a Pad and stay Conv (the codegen runs them directly); conv-space-to-depth turns the
    // strided one into a stride-1 Conv over its input's phases, which an Im2Col of its 2x2
    // patches writes, so none is left for conv-im2col's Im2Col + Gemm (the one Gemm is the head).
    assert_eq!(count(&c.ops, "Conv"), 6, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "Im2Col"), 1, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "Gemm"), 1, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "Pad"), 5, "{:?}", c.ops);
    assert_eq!(count(&c.ops, "Transpose"), 0, "{:?}", c.ops);
}

#[test]
fn repavit_ffn_loses_its_split_and_concat() {
    let c = run_case("repavit", &["tokens"], &["out"]);
    assert_eq!(count(&c.ops_imported, "Split"), 1, "{:?}", c.ops_imported);
    assert_eq!(count(&c.ops, "Split") + count(&c.ops, "Concat"), 0, "{:?}", c.ops);
    // The LoRA pair merged into the token mixer: fewer matrix products than imported.
    let mm = |h: &BTreeMap<String, usize>| count(h, "MatMul") + count(h, "Gemm");
    assert!(mm(&c.ops) < mm(&c.ops_imported), "{:?} vs {:?}", c.ops, c.ops_imported);
    assert_eq!(count(&c.ops, "Gelu"), 1, "{:?}", c.ops);
}
