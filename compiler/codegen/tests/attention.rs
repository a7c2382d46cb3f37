//! The fused Attention kernel (flash-attention style, online softmax) against the interpreter's
//! unfused reference: shapes off every block size (S not a multiple of the 4-row query block, T
//! not a multiple of the key block, Dv not a multiple of the vector width, a D of 1), each mask
//! kind with the mask broadcast over batch, heads or rows, and a `-inf` fill that masks a
//! row's whole first key block (the running max stays `-inf` there).

mod support;

use kiln_ir::{AttentionMask, DType, Op, Tensor};
use support::*;

/// The compiled graph against the interpreter.
fn check((g, ins): (kiln_ir::Graph, Vec<Tensor>)) {
    check_graph(&g, &ins, 1e-5);
}

/// `Attention` over seeded random q, kt, v of these sizes (and the mask, if any).
#[allow(clippy::too_many_arguments)]
fn graph(
    name: &str,
    lead: &[usize],
    s: usize,
    d: usize,
    t: usize,
    dv: usize,
    scale: f32,
    mask: Option<(AttentionMask, Tensor)>,
) -> (kiln_ir::Graph, Vec<Tensor>) {
    let f = DType::F32;
    let shape = |a: usize, b: usize| lead.iter().copied().chain([a, b]).collect::<Vec<usize>>();
    let mut tys = vec![ty(f, &shape(s, d)), ty(f, &shape(d, t)), ty(f, &shape(t, dv))];
    let kind = mask.as_ref().map_or(AttentionMask::None, |m| m.0);
    let mut rng = Rng::new(41);
    let mut ins: Vec<Tensor> = tys.iter().map(|ty| random(&mut rng, f, &ty.shape)).collect();
    if let Some((_, m)) = mask {
        tys.push(m.ty());
        ins.push(m);
    }
    let g = build(name, &tys, |g, x| node(g, Op::Attention { scale, mask: kind }, x));
    (g, ins)
}

/// The AVX2 blocking (8-lane vectors, 2 key and 2 output vectors per block) on this host: the
/// artifact built for x86-64-v3 runs here whatever the host's vector width.
#[test]
fn attention_for_an_avx2_target() {
    let opts = kiln_codegen::CodegenOptions { target_cpu: "x86-64-v3".into(), ..Default::default() };
    let keep: Vec<bool> = (0..7 * 45).map(|i| i % 45 <= i / 45 + 30).collect();
    let m = Tensor::from_bool(&[7, 45], keep).unwrap();
    let (g, ins) = graph("att_avx2", &[2], 7, 12, 45, 21, 0.3, Some((AttentionMask::Where { fill: f32::MIN }, m)));
    let want = kiln_ir::interp::evaluate(&g, &ins).unwrap();
    let l = Loaded::compile_with(&g, &opts);
    for nwg in [1u64, 3] {
        let got = l.run(&ins, &|m| m.min(nwg));
        assert_close(&format!("avx2 attention ({nwg} wg)"), &got[0], &want[0], 1e-5);
    }
}

#[test]
fn attention_without_mask() {
    check(graph("att_plain", &[2, 3], 5, 8, 37, 20, 0.35, None));
    check(graph("att_rank2", &[], 7, 16, 130, 64, 0.25, None));
    check(graph("att_d1", &[2], 4, 1, 64, 16, 1.0, None));
    check(graph("att_long", &[2], 66, 64, 300, 64, 0.125, None));
}

#[test]
fn attention_with_masks() {
    // Causal bool mask shared by batch and heads, the GPT-2 fill.
    let (s, t) = (9, 9);
    let causal: Vec<bool> = (0..s * t).map(|i| i % t <= i / t).collect();
    let m = Tensor::from_bool(&[1, 1, s, t], causal).unwrap();
    check(graph("att_causal", &[2, 3], s, 8, t, 8, 0.5, Some((AttentionMask::Where { fill: f32::MIN }, m))));
    // Additive float mask per batch, broadcast over heads and rows (padding of the last keys).
    let t = 70;
    let add: Vec<f32> = (0..2 * t).map(|i| if i % t >= 60 + i / t * 5 { -10000.0 } else { 0.0 }).collect();
    let m = Tensor::from_f32(&[2, 1, 1, t], add).unwrap();
    check(graph("att_add", &[2, 2], 6, 16, t, 24, 0.25, Some((AttentionMask::Add, m))));
    // -inf fill over the whole first key block of some rows (every row keeps a key).
    let (s, t) = (5, 140);
    let keep: Vec<bool> = (0..s * t).map(|i| (i / t) % 2 == 0 || i % t >= 100).collect();
    let m = Tensor::from_bool(&[s, t], keep).unwrap();
    check(graph("att_ninf", &[3], s, 12, t, 33, 0.2, Some((AttentionMask::Where { fill: f32::NEG_INFINITY }, m))));
}
