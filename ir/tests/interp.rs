//! The reference interpreter on small multi-op graphs with hand-computed results.

mod common;

use kiln_ir::text::parse;
use kiln_ir::{interp::evaluate, Tensor};

#[test]
fn mlp_by_hand() {
    let g = parse(
        "graph @mlp(%x: f32[1,2]) {
  %w: f32[2,3] = Constant dense<[1.0, -1.0, 0.5, 2.0, 1.0, -0.5]>
  %b: f32[3] = Constant dense<[0.0, 0.5, -4.0]>
  %h: f32[1,3] = MatMul(%x, %w)
  %hb: f32[1,3] = Add(%h, %b)
  %r: f32[1,3] = Relu(%hb)
  %s: f32[1] = ReduceSum(%r) {axes = [1], keep_dims = false}
  return %r, %s as \"total\"
}
",
    )
    .unwrap();
    // x = [1, 2]: x@w = [1+4, -1+2, 0.5-1] = [5, 1, -0.5]; + b = [5, 1.5, -4.5]; relu = [5, 1.5, 0]
    let out = evaluate(&g, &[Tensor::from_f32(&[1, 2], vec![1.0, 2.0]).unwrap()]).unwrap();
    assert_eq!(out[0], Tensor::from_f32(&[1, 3], vec![5.0, 1.5, 0.0]).unwrap());
    assert_eq!(out[1], Tensor::from_f32(&[1], vec![6.5]).unwrap());
}

#[test]
fn integer_and_bool_graph_by_hand() {
    let g = parse(
        "graph @ints(%a: i64[4], %i: i32[2]) {
  %two: i64[] = Constant dense<[2]>
  %q: i64[4] = Div(%a, %two)
  %z: i64[] = Constant dense<[0]>
  %neg: bool[4] = Equal(%q, %z)
  %g: i64[2] = Gather(%q, %i) {axis = 0}
  %m: i64[4] = Where(%neg, %a, %q)
  return %g, %m
}
",
    )
    .unwrap();
    // a = [7, -7, 1, -1]: q = [3, -3, 0, 0]; q == 0 -> [F, F, T, T]; where -> [3, -3, 1, -1]
    let a = Tensor::from_i64(&[4], vec![7, -7, 1, -1]).unwrap();
    let i = Tensor::from_i32(&[2], vec![-3, 0]).unwrap();
    let out = evaluate(&g, &[a.clone(), i]).unwrap();
    assert_eq!(out[0], Tensor::from_i64(&[2], vec![-3, 3]).unwrap());
    assert_eq!(out[1], Tensor::from_i64(&[4], vec![3, -3, 1, -1]).unwrap());
    // out-of-range gather index is an evaluation error, not a panic
    let bad = Tensor::from_i32(&[2], vec![4, 0]).unwrap();
    let e = evaluate(&g, &[a.clone(), bad]).unwrap_err().to_string();
    assert_eq!(e, "interpreter: Gather: index 4 is out of range for extent 4 on axis 0");
    // wrong input type / count
    assert!(evaluate(&g, std::slice::from_ref(&a)).is_err());
    assert!(evaluate(&g, &[a.clone(), a]).is_err());
}

#[test]
fn every_op_graph_evaluates() {
    let g = common::every_op_graph();
    let out = evaluate(&g, &common::every_op_inputs()).unwrap();
    assert_eq!(out.len(), 5);
    assert_eq!(out[0].shape(), &[3, 4]);
    assert!(out[0].to_f64_vec().iter().all(|v| v.is_finite()));
    assert_eq!(out[3].shape(), &[0, 3]);
    // f16 [3, -4] -> bf16 * [0.5, NaN] -> i8 [1, 0] (NaN -> 0) + [-128, 5] -> i16 + [-300, 7]
    // = [-427, 12] -> u8 (wraps to 85) + [255, 3] = [84, 15] -> u16 + [65535, 9] = [83, 24]
    // -> u32 + [MAX, 11] = [82, 35] -> u64 + [MAX, 13] = [81, 48].
    assert_eq!(out[4], Tensor::from_vec(&[2], vec![81u64, 48]).unwrap());
}
