//! merge-linear and repavit beyond the text cases: `force_linear_merge`, the notes they leave, and
//! idempotence (a second run changes nothing).

use kiln_ir::{Graph, Tensor};
use kiln_passes::{run_passes, PipelineOptions};

const LOW_RANK: &str = "graph @low_rank(%x: f32[2,4]) {
  %U: f32[4,1] = Constant dense<[1.0, -1.0, -0.25, 0.25]>
  %D: f32[1,4] = Constant dense<[-0.5, -0.25, 0.75, 0.75]>
  %b: f32[4] = Constant dense<[0.5, 0.0, -1.0, 0.25]>
  %down: f32[2,1] = MatMul(%x, %U)
  %up: f32[2,4] = MatMul(%down, %D)
  %y: f32[2,4] = Add(%up, %b)
  return %y
}
";

const FFN: &str = "graph @ffn(%x: f32[2,4]) {
  %W1: f32[4,8] = Constant dense<[1.0, -0.5, 0.25, 0.0, 0.5, 1.5, -1.0, 0.75, -0.25, 0.5, 1.0, -1.5, 0.25, 0.0, 0.5, -0.5, 0.75, -0.75, 0.0, 1.0, -1.0, 0.25, 1.5, 0.5, 0.0, 1.0, -0.5, 0.25, 0.75, -0.25, 0.5, 1.0]>
  %W2: f32[8,4] = Constant dense<[0.5, -1.0, 0.25, 0.75, 1.0, 0.0, -0.5, 0.25, -0.25, 0.5, 1.0, -1.0, 0.75, 0.25, 0.0, 0.5, -1.5, 1.0, 0.5, 0.0, 0.25, -0.75, 1.0, 0.5, 0.0, 0.5, -0.25, 1.0, 1.0, 0.25, 0.75, -0.5]>
  %h: f32[2,8] = MatMul(%x, %W1)
  %a: f32[2,3] = Slice(%h) {axes = [1], starts = [0], ends = [3], steps = [1]}
  %i: f32[2,5] = Slice(%h) {axes = [1], starts = [3], ends = [8], steps = [1]}
  %g: f32[2,3] = Silu(%a)
  %cat: f32[2,8] = Concat(%g, %i) {axis = 1}
  %y: f32[2,4] = MatMul(%cat, %W2)
  return %y
}
";

fn parse(text: &str) -> Graph {
    kiln_ir::text::parse(text).unwrap()
}

fn input() -> Vec<Tensor> {
    vec![Tensor::from_f32(&[2, 4], vec![0.5, -1.0, 1.5, 0.25, -0.75, 2.0, -0.5, 1.0]).unwrap()]
}

fn assert_same(a: &Graph, b: &Graph) {
    let x = kiln_ir::interp::evaluate(a, &input()).unwrap()[0].to_f64_vec();
    let y = kiln_ir::interp::evaluate(b, &input()).unwrap()[0].to_f64_vec();
    for (p, q) in x.iter().zip(&y) {
        assert!((p - q).abs() <= 1e-5 * p.abs().max(1.0), "{x:?} vs {y:?}");
    }
}

fn matmuls(g: &Graph) -> usize {
    g.op_histogram().get("MatMul").copied().unwrap_or(0)
}

#[test]
fn low_rank_pair_is_kept_with_a_note() {
    let before = parse(LOW_RANK);
    let mut g = before.clone();
    let runs =
        run_passes(&mut g, &["merge-linear"], &PipelineOptions { verify_each: true, ..Default::default() }).unwrap();
    assert!(!runs[0].changed);
    assert_eq!(g, before);
    assert_eq!(runs[0].notes.len(), 1, "{:?}", runs[0].notes);
    let note = &runs[0].notes[0];
    assert!(note.contains("%y") && note.contains("%x"), "{note}");
    // 2 rows: merged 2*2*4*4 = 64 FLOPs, factorized 2*2*(4*1 + 1*4) = 32.
    assert!(note.contains("64") && note.contains("32"), "{note}");
}

#[test]
fn force_merges_a_low_rank_pair() {
    let before = parse(LOW_RANK);
    let mut g = before.clone();
    let opts = PipelineOptions { verify_each: true, force_linear_merge: true, ..Default::default() };
    let runs = run_passes(&mut g, &["merge-linear", "dead-code"], &opts).unwrap();
    assert!(runs[0].changed);
    assert_eq!(matmuls(&g), 1);
    assert_same(&before, &g);
    assert!(runs[0].flops_after > runs[0].flops_before);
}

#[test]
fn merge_linear_is_idempotent() {
    let text = "graph @g(%x: f32[2,4]) {
  %A: f32[4,4] = Constant dense<[1.0, -0.75, -0.5, 1.0, 0.75, 0.0, 0.25, -0.5, 0.75, 0.0, 0.25, 0.75, 0.5, -1.5, 0.75, -0.25]>
  %B: f32[4,4] = Constant dense<[-0.5, -0.75, -0.5, -0.5, -0.25, -1.5, -0.25, -1.0, 1.0, 1.5, -0.5, 0.25, 0.25, -1.0, -0.5, 0.75]>
  %a: f32[4] = Constant splat<0.5>
  %h: f32[2,4] = MatMul(%x, %A)
  %hb: f32[2,4] = Add(%h, %a)
  %y: f32[2,4] = MatMul(%hb, %B)
  return %y
}
";
    let before = parse(text);
    let mut g = before.clone();
    let opts = PipelineOptions { verify_each: true, ..Default::default() };
    let runs = run_passes(&mut g, &["merge-linear", "dead-code", "merge-linear"], &opts).unwrap();
    assert!(runs[0].changed && !runs[2].changed);
    assert_eq!(matmuls(&g), 1);
    assert!(runs[1].flops_after < runs[0].flops_before);
    assert_same(&before, &g);
}

#[test]
fn repavit_rewrites_once_and_respects_cost() {
    let before = parse(FFN);
    let mut g = before.clone();
    let opts = PipelineOptions { verify_each: true, ..Default::default() };
    let runs = run_passes(&mut g, &["repavit", "dead-code", "repavit"], &opts).unwrap();
    assert!(runs[0].changed && !runs[2].changed, "{:?}", runs.iter().map(|r| &r.notes).collect::<Vec<_>>());
    assert!(runs[1].flops_after < runs[0].flops_before);
    // x@W1a, act@W2a, x@W_idle.
    assert_eq!(matmuls(&g), 3);
    assert!(!g.op_histogram().contains_key("Concat") && !g.op_histogram().contains_key("Slice"));
    assert_same(&before, &g);

    // The same layer with only 1 idle channel stays, and says why.
    let few = FFN
        .replace("ends = [3]", "ends = [7]")
        .replace("starts = [3]", "starts = [7]")
        .replace("f32[2,3]", "f32[2,7]")
        .replace("%i: f32[2,5]", "%i: f32[2,1]");
    let before = parse(&few);
    let mut g = before.clone();
    let runs = run_passes(&mut g, &["repavit"], &opts).unwrap();
    assert!(!runs[0].changed);
    assert_eq!(g, before);
    assert!(runs[0].notes.iter().any(|n| n.contains("1 of 8 channels idle")), "{:?}", runs[0].notes);
}
