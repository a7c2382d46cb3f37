//! Large weights: constants are embedded as byte arrays without per-element LLVM constants, so a
//! 100 MB weight compiles in seconds (run with `--ignored` for the 100 MB case).

mod support;

use kiln_ir::{BinaryOp, DType, Graph, Op, Tensor};
use std::time::Instant;
use support::*;

fn weighted(n: usize) -> (Graph, Tensor) {
    let mut g = Graph::new("big");
    let x = g.add_input("x", ty(DType::F32, &[n]));
    let w = Tensor::from_f32(&[n], (0..n).map(|i| (i % 1000) as f32 * 0.001).collect()).unwrap();
    let c = g.add_constant("w", w.clone());
    let y = node(&mut g, Op::Binary(BinaryOp::Mul), &[x, c])[0];
    g.add_output("y", y);
    (g, w)
}

fn check(n: usize, max_secs: f64) {
    let (g, _) = weighted(n);
    let t = Instant::now();
    let l = Loaded::compile(&g);
    let secs = t.elapsed().as_secs_f64();
    eprintln!("{} MB of constants: compiled and linked in {secs:.2} s", n * 4 / 1_000_000);
    assert!(secs < max_secs, "took {secs:.1} s");
    let x = Tensor::from_f32(&[n], vec![2.0; n]).unwrap();
    let y = l.run(&[x], &|m| m.min(4))[0].to_f64_vec();
    for i in [0, 1, 999, 1001, n - 1] {
        assert_eq!(y[i], ((i % 1000) as f32 * 0.001 * 2.0) as f64, "element {i}");
    }
}

#[test]
fn sixteen_mb_constant() {
    check(4_000_000, 30.0);
}

#[test]
#[ignore = "100 MB: slow in debug builds of the test harness"]
fn hundred_mb_constant() {
    check(25_000_000, 60.0);
}
