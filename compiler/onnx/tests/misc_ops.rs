//! LayerNormalization's Mean / InvStdDev outputs, LpPool and ConvTranspose, imported as
//! compositions of IR ops and evaluated with the IR interpreter against hand-computed values.

mod common;
use common::*;
use kiln_ir::Tensor;

fn t32(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_f32(shape, v.to_vec()).unwrap()
}

fn import(b: ModelBuilder) -> kiln_ir::Graph {
    b.import().unwrap_or_else(|e| panic!("import failed: {e}"))
}

// ---- LayerNormalization ----------------------------------------------------------------------

fn layer_norm(outputs: &[&str]) -> ModelBuilder {
    let mut b = ModelBuilder::new(17).input("x", F32, &[2, 2]).init(tf32("s", &[2], &[1.0, 1.0]));
    b = b.node("LayerNormalization", &["x", "s"], outputs, vec![a_float("epsilon", 0.0)]);
    for o in outputs.iter().filter(|o| !o.is_empty()) {
        b = b.output(o);
    }
    b
}

#[test]
fn layer_norm_mean_and_inv_std_dev() {
    // Rows [1, 3] and [2, 6]: means 2 and 4, variances 1 and 4 -> InvStdDev 1 and 0.5.
    let g = import(layer_norm(&["y", "mean", "inv"]));
    let out = run(&g, &[t32(&[2, 2], &[1., 3., 2., 6.])]);
    assert_close(&out[0], &[2, 2], &[-1.0, 1.0, -1.0, 1.0]);
    assert_close(&out[1], &[2, 1], &[2.0, 4.0]);
    assert_close(&out[2], &[2, 1], &[1.0, 0.5]);
}

#[test]
fn layer_norm_inv_std_dev_alone() {
    let g = import(layer_norm(&["y", "", "inv"]));
    let out = run(&g, &[t32(&[2, 2], &[1., 3., 2., 6.])]);
    assert_eq!(out.len(), 2);
    assert_close(&out[1], &[2, 1], &[1.0, 0.5]);
}

// ---- LpPool ----------------------------------------------------------------------------------

fn lp_pool(shape: &[usize], attrs: Vec<kiln_onnx::proto::AttributeProto>) -> kiln_ir::Graph {
    import(ModelBuilder::new(18).input("x", F32, shape).node("LpPool", &["x"], &["y"], attrs).output("y"))
}

#[test]
fn lp_pool_2d_p2_with_begin_padding() {
    // Windows of 2 over [0 (pad), 3, -4, 12]: sqrt(9), sqrt(9 + 16), sqrt(16 + 144).
    let g = lp_pool(&[1, 1, 1, 3], vec![a_ints("kernel_shape", &[1, 2]), a_ints("pads", &[0, 1, 0, 0])]);
    let y = run(&g, &[t32(&[1, 1, 1, 3], &[3., -4., 12.])]).remove(0);
    assert_close(&y, &[1, 1, 1, 3], &[3.0, 5.0, 160f64.sqrt()]);
}

#[test]
fn lp_pool_1d_p1_strided() {
    // p = 1 sums |x|: windows [3, -4] and [12, -1] (stride 2).
    let g = lp_pool(&[1, 1, 4], vec![a_ints("kernel_shape", &[2]), a_ints("strides", &[2]), a_int("p", 1)]);
    let y = run(&g, &[t32(&[1, 1, 4], &[3., -4., 12., -1.])]).remove(0);
    assert_close(&y, &[1, 1, 2], &[7.0, 13.0]);
}

#[test]
fn lp_pool_3d_is_a_clear_error() {
    let b = ModelBuilder::new(18).input("x", F32, &[1, 1, 2, 2, 2]);
    let e = b.node("LpPool", &["x"], &["y"], vec![a_ints("kernel_shape", &[2, 2, 2])]).output("y").import();
    let msg = e.unwrap_err().to_string();
    assert!(msg.contains("only 1-D and 2-D inputs"), "{msg}");
}

// ---- ConvTranspose ---------------------------------------------------------------------------

#[test]
fn conv_transpose_stride_2_places_scaled_kernels() {
    // Stride 2 with a 2x2 kernel: each x[i, j] writes x[i, j] * w into block (2i, 2j); pads
    // [1, 1, 0, 0] crop the first row and column. The weight is a constant (regrouped at import).
    let b = ModelBuilder::new(22)
        .input("x", F32, &[1, 1, 2, 2])
        .init(tf32("w", &[1, 1, 2, 2], &[1., 2., 3., 4.]))
        .node("ConvTranspose", &["x", "w"], &["y"], vec![a_ints("strides", &[2, 2]), a_ints("pads", &[1, 1, 0, 0])])
        .output("y");
    let y = run(&import(b), &[t32(&[1, 1, 2, 2], &[1., 2., 3., 4.])]).remove(0);
    // Uncropped: [1 2 2 4; 3 4 6 8; 3 6 4 8; 9 12 12 16].
    assert_close(&y, &[1, 1, 3, 3], &[4., 6., 8., 6., 4., 8., 12., 12., 16.]);
}

#[test]
fn conv_transpose_1d_overlapping_with_runtime_weight_and_bias() {
    // y = [1*1, 1*10 + 2*1, 2*10] + 5.
    let b = ModelBuilder::new(22)
        .input("x", F32, &[1, 1, 2])
        .input("w", F32, &[1, 1, 2])
        .init(tf32("b", &[1], &[5.0]))
        .node("ConvTranspose", &["x", "w", "b"], &["y"], vec![])
        .output("y");
    let y = run(&import(b), &[t32(&[1, 1, 2], &[1., 2.]), t32(&[1, 1, 2], &[1., 10.])]).remove(0);
    assert_close(&y, &[1, 1, 3], &[6.0, 17.0, 25.0]);
}

#[test]
fn conv_transpose_output_shape_extends_with_zeros() {
    // Full output length 3 ([1, 12, 20]); output_shape [5] adds 2 zeros at the end.
    let b = ModelBuilder::new(22)
        .input("x", F32, &[1, 1, 2])
        .init(tf32("w", &[1, 1, 2], &[1., 10.]))
        .node("ConvTranspose", &["x", "w"], &["y"], vec![a_ints("output_shape", &[5])])
        .output("y");
    let y = run(&import(b), &[t32(&[1, 1, 2], &[1., 2.])]).remove(0);
    assert_close(&y, &[1, 1, 5], &[1.0, 12.0, 20.0, 0.0, 0.0]);
}

#[test]
fn conv_transpose_output_shape_crops_like_onnxruntime() {
    // Full output [1, 12, 23, 30]; output_shape [3] drops 1: first under NOTSET / SAME_LOWER,
    // last under SAME_UPPER (onnxruntime 1.31 outputs, pasted).
    let cases = [("NOTSET", [12.0, 23.0, 30.0]), ("SAME_LOWER", [12.0, 23.0, 30.0]), ("SAME_UPPER", [1.0, 12.0, 23.0])];
    for (auto_pad, want) in cases {
        let attrs = vec![a_ints("output_shape", &[3]), a_str("auto_pad", auto_pad)];
        let b = ModelBuilder::new(22)
            .input("x", F32, &[1, 1, 3])
            .init(tf32("w", &[1, 1, 2], &[1., 10.]))
            .node("ConvTranspose", &["x", "w"], &["y"], attrs)
            .output("y");
        let y = run(&import(b), &[t32(&[1, 1, 3], &[1., 2., 3.])]).remove(0);
        assert_close(&y, &[1, 1, 3], &want);
    }
}
