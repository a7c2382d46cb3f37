//! Numeric checks of imported graphs (IR interpreter) against hand-computed outputs for the
//! opset-dependent cases: Softmax < 13 vs >= 13, Slice clamping and negative steps, Split
//! variants, Reshape 0 / -1 / allowzero, ReduceMean axes attribute vs input, ceil_mode pooling.

mod common;
use common::*;
use kiln_ir::Tensor;

fn softmax(v: &[f64]) -> Vec<f64> {
    let m = v.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = v.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

#[test]
fn softmax_opset11_flattens_the_tail() {
    // [2,2,2], axis 1 (default): softmax over the 4 trailing elements of each batch.
    let g = ModelBuilder::new(11)
        .input("x", F32, &[2, 2, 2])
        .node("Softmax", &["x"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Reshape", 2), ("Softmax", 1)]));
    let y = run(&g, &[iota(&[2, 2, 2])]);
    let mut want = softmax(&[0.0, 1.0, 2.0, 3.0]);
    want.extend(softmax(&[4.0, 5.0, 6.0, 7.0]));
    assert_close(&y[0], &[2, 2, 2], &want);
}

#[test]
fn softmax_opset13_uses_last_axis() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 2, 2])
        .node("Softmax", &["x"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Softmax", 1)]));
    let y = run(&g, &[iota(&[2, 2, 2])]);
    let p = softmax(&[0.0, 1.0]);
    let want: Vec<f64> = (0..4).flat_map(|_| p.clone()).collect();
    assert_close(&y[0], &[2, 2, 2], &want);
}

#[test]
fn softmax_opset13_explicit_axis_0() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .node("Softmax", &["x"], &["y"], vec![a_int("axis", 0)])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3])]);
    let p = softmax(&[0.0, 3.0]);
    assert_close(&y[0], &[2, 3], &[p[0], p[0], p[0], p[1], p[1], p[1]]);
}

#[test]
fn slice_opset13_clamps_and_negative_steps() {
    // x = 0..10 as [10]; starts -1, ends INT64_MIN, step -3 -> 9, 6, 3, 0
    let g = ModelBuilder::new(13)
        .input("x", F32, &[10])
        .init(ints("s", &[-1]))
        .init(ints("e", &[i64::MIN]))
        .init(ints("a", &[0]))
        .init(ints("st", &[-3]))
        .node("Slice", &["x", "s", "e", "a", "st"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[10])]);
    assert_close(&y[0], &[4], &[9.0, 6.0, 3.0, 0.0]);
}

#[test]
fn slice_opset13_overflowing_ends_and_negative_axes() {
    // x [3,4]; axis -1: start 1, end 1000 -> cols 1..4; axis 0 untouched.
    let g = ModelBuilder::new(13)
        .input("x", F32, &[3, 4])
        .init(ints("s", &[1]))
        .init(ints("e", &[1000]))
        .init(ints("a", &[-1]))
        .node("Slice", &["x", "s", "e", "a"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[3, 4])]);
    assert_close(&y[0], &[3, 3], &[1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 9.0, 10.0, 11.0]);
}

#[test]
fn slice_opset9_uses_attributes() {
    let g = ModelBuilder::new(9)
        .input("x", F32, &[3, 4])
        .node("Slice", &["x"], &["y"], vec![a_ints("starts", &[-2, 0]), a_ints("ends", &[i64::MAX, 2])])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[3, 4])]);
    assert_close(&y[0], &[2, 2], &[4.0, 5.0, 8.0, 9.0]);
}

#[test]
fn split_opset11_attribute() {
    let g = ModelBuilder::new(11)
        .input("x", F32, &[5])
        .node("Split", &["x"], &["a", "b"], vec![a_ints("split", &[2, 3])])
        .output("a")
        .output("b")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[5])]);
    assert_close(&y[0], &[2], &[0.0, 1.0]);
    assert_close(&y[1], &[3], &[2.0, 3.0, 4.0]);
}

#[test]
fn split_opset13_input_and_equal_default() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 4])
        .init(ints("sp", &[3, 1]))
        .node("Split", &["x", "sp"], &["a", "b"], vec![a_int("axis", -1)])
        .node("Split", &["x"], &["c", "d"], vec![])
        .output("a")
        .output("b")
        .output("c")
        .output("d")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 4])]);
    assert_close(&y[0], &[2, 3], &[0.0, 1.0, 2.0, 4.0, 5.0, 6.0]);
    assert_close(&y[1], &[2, 1], &[3.0, 7.0]);
    assert_close(&y[2], &[1, 4], &[0.0, 1.0, 2.0, 3.0]);
    assert_close(&y[3], &[1, 4], &[4.0, 5.0, 6.0, 7.0]);
}

#[test]
fn split_opset18_num_outputs_uneven() {
    let g = ModelBuilder::new(18)
        .input("x", F32, &[7])
        .node("Split", &["x"], &["a", "b", "c"], vec![a_int("num_outputs", 3)])
        .output("a")
        .output("b")
        .output("c")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[7])]);
    assert_close(&y[0], &[3], &[0.0, 1.0, 2.0]);
    assert_close(&y[1], &[3], &[3.0, 4.0, 5.0]);
    assert_close(&y[2], &[1], &[6.0]);
}

#[test]
fn reshape_zero_copies_and_minus_one_infers() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3, 4])
        .init(ints("shape", &[0, -1]))
        .node("Reshape", &["x", "shape"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3, 4])]);
    assert_close(&y[0], &[2, 12], &(0..24).map(|i| i as f64).collect::<Vec<_>>());
}

#[test]
fn reshape_allowzero_keeps_zero() {
    let g = ModelBuilder::new(14)
        .input("x", F32, &[0, 3])
        .init(ints("shape", &[3, 0]))
        .node("Reshape", &["x", "shape"], &["y"], vec![a_int("allowzero", 1)])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(g.value_type(g.outputs()[0].value).shape, vec![3, 0]);
}

#[test]
fn reduce_mean_axes_attribute_before_18() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .node("ReduceMean", &["x"], &["y"], vec![a_ints("axes", &[-1]), a_int("keepdims", 0)])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3])]);
    assert_close(&y[0], &[2], &[1.0, 4.0]);
}

#[test]
fn reduce_mean_axes_input_from_18() {
    let g = ModelBuilder::new(18)
        .input("x", F32, &[2, 3])
        .init(ints("axes", &[0]))
        .node("ReduceMean", &["x", "axes"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3])]);
    assert_close(&y[0], &[1, 3], &[1.5, 2.5, 3.5]);
}

#[test]
fn reduce_sum_empty_axes_all_or_noop() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .node("ReduceSum", &["x"], &["all"], vec![a_int("keepdims", 0)])
        .node("ReduceSum", &["x"], &["same"], vec![a_int("noop_with_empty_axes", 1)])
        .output("all")
        .output("same")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3])]);
    assert_close(&y[0], &[], &[15.0]);
    assert_close(&y[1], &[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

#[test]
fn max_pool_ceil_mode_adds_output_rows() {
    // x [1,1,5,5] = 0..25, k 2, s 2: floor -> 2x2, ceil -> 3x3 (last window is 1 wide).
    let g = ModelBuilder::new(12)
        .input("x", F32, &[1, 1, 5, 5])
        .node(
            "MaxPool",
            &["x"],
            &["y"],
            vec![a_ints("kernel_shape", &[2, 2]), a_ints("strides", &[2, 2]), a_int("ceil_mode", 1)],
        )
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[1, 1, 5, 5])]);
    assert_close(&y[0], &[1, 1, 3, 3], &[6.0, 8.0, 9.0, 16.0, 18.0, 19.0, 21.0, 23.0, 24.0]);
}

#[test]
fn average_pool_ceil_mode_excludes_extra_cells() {
    // x [1,1,3,3] = 0..9, k 2, s 2, ceil: 2x2 windows {0,1,3,4}, {2,5}, {6,7}, {8}.
    let g = ModelBuilder::new(12)
        .input("x", F32, &[1, 1, 3, 3])
        .node(
            "AveragePool",
            &["x"],
            &["y"],
            vec![a_ints("kernel_shape", &[2, 2]), a_ints("strides", &[2, 2]), a_int("ceil_mode", 1)],
        )
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[1, 1, 3, 3])]);
    assert_close(&y[0], &[1, 1, 2, 2], &[2.0, 3.5, 6.5, 8.0]);
}

#[test]
fn average_pool_ceil_mode_with_count_include_pad_is_refused() {
    let e = ModelBuilder::new(12)
        .input("x", F32, &[1, 1, 3, 3])
        .node(
            "AveragePool",
            &["x"],
            &["y"],
            vec![
                a_ints("kernel_shape", &[2, 2]),
                a_ints("strides", &[2, 2]),
                a_int("ceil_mode", 1),
                a_int("count_include_pad", 1),
            ],
        )
        .output("y")
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("count_include_pad"), "{e}");
}

#[test]
fn ceil_mode_last_window_must_start_inside() {
    // in 4, pad 1+1, k 2, s 3: ceil((6-2)/3)+1 = 3, but window 3 would start at 6 >= 4+1 -> 2.
    let g = ModelBuilder::new(12)
        .input("x", F32, &[1, 1, 1, 4])
        .node(
            "MaxPool",
            &["x"],
            &["y"],
            vec![
                a_ints("kernel_shape", &[1, 2]),
                a_ints("strides", &[1, 3]),
                a_ints("pads", &[0, 1, 0, 1]),
                a_int("ceil_mode", 1),
            ],
        )
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[1, 1, 1, 4])]);
    assert_close(&y[0], &[1, 1, 1, 2], &[0.0, 3.0]);
}

#[test]
fn unsqueeze_squeeze_attribute_vs_input() {
    let g11 = ModelBuilder::new(11)
        .input("x", F32, &[3])
        .node("Unsqueeze", &["x"], &["u"], vec![a_ints("axes", &[0, -1])])
        .node("Squeeze", &["u"], &["y"], vec![a_ints("axes", &[0])])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(g11.value_type(g11.outputs()[0].value).shape, vec![3, 1]);
    let g13 = ModelBuilder::new(13)
        .input("x", F32, &[3])
        .init(ints("ax", &[0, -1]))
        .node("Unsqueeze", &["x", "ax"], &["u"], vec![])
        .node("Squeeze", &["u"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    assert_eq!(g13.value_type(g13.outputs()[0].value).shape, vec![3]);
    let y = run(&g13, &[iota(&[3])]);
    assert_close(&y[0], &[3], &[0.0, 1.0, 2.0]);
}

#[test]
fn gemm_opset11_without_c_and_transposes() {
    let g = ModelBuilder::new(11)
        .input("a", F32, &[3, 2])
        .input("b", F32, &[2, 3])
        .node("Gemm", &["a", "b"], &["y"], vec![a_int("transA", 1), a_int("transB", 1)])
        .output("y")
        .import()
        .unwrap();
    // a^T = [[0,2,4],[1,3,5]], b^T = [[0,3],[1,4],[2,5]]
    let y = run(&g, &[iota(&[3, 2]), iota(&[2, 3])]);
    assert_close(&y[0], &[2, 2], &[10.0, 28.0, 13.0, 40.0]);
}

#[test]
fn gather_negative_axis_and_indices() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .init(ints("i", &[-1, 0]))
        .node("Gather", &["x", "i"], &["y"], vec![a_int("axis", -1)])
        .output("y")
        .import()
        .unwrap();
    let y = run(&g, &[iota(&[2, 3])]);
    assert_close(&y[0], &[2, 2], &[2.0, 0.0, 5.0, 3.0]);
    let _ = Tensor::from_f32(&[1], vec![0.0]);
}
