//! Quantization importers (compositions of IR ops) on hand-computed values, run through the IR
//! interpreter: rounding half to even, saturation, per-axis parameters and integer products.

mod common;
use common::*;
use kiln_ir::{DType, Tensor};
use kiln_onnx::proto::{tensor_proto::DataType, TensorProto};

const U8: i32 = DataType::Uint8 as i32;
const I8: i32 = DataType::Int8 as i32;

/// An integer initializer of ONNX type `elem` (held in int32_data, as ONNX stores 8/16-bit ints).
fn tint(name: &str, elem: i32, dims: &[usize], data: &[i32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(elem),
        dims: dims.iter().map(|d| *d as i64).collect(),
        int32_data: data.to_vec(),
        ..Default::default()
    }
}

#[test]
fn quantize_linear_rounds_half_to_even_and_saturates() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[7])
        .init(tf32("s", &[], &[2.0]))
        .init(tint("zp", U8, &[], &[128]))
        .node("QuantizeLinear", &["x", "s", "zp"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let x = Tensor::from_f32(&[7], vec![0.0, 2.0, 3.0, 5.0, -3.0, 1000.0, -1000.0]).unwrap();
    let y = run(&g, &[x]);
    assert_eq!(y[0].dtype(), DType::U8);
    // x / 2 = 0, 1, 1.5, 2.5, -1.5, 500, -500 -> round half even 0, 1, 2, 2, -2 (+128), clamped.
    assert_close(&y[0], &[7], &[128.0, 129.0, 130.0, 130.0, 126.0, 255.0, 0.0]);
}

#[test]
fn dequantize_linear_per_axis() {
    let g = ModelBuilder::new(13)
        .input("x", I8, &[2, 3])
        .init(tf32("s", &[3], &[0.5, 1.0, 2.0]))
        .init(tint("zp", I8, &[3], &[1, 0, -2]))
        .node("DequantizeLinear", &["x", "s", "zp"], &["y"], vec![a_int("axis", 1)])
        .output("y")
        .import()
        .unwrap();
    let x = Tensor::from_vec::<i8>(&[2, 3], vec![-128, 0, 127, 5, -7, -2]).unwrap();
    let y = run(&g, &[x]);
    assert_eq!(y[0].dtype(), DType::F32);
    // (x - zp[c]) * s[c]
    assert_close(&y[0], &[2, 3], &[-64.5, 0.0, 258.0, 2.0, -7.0, 0.0]);
}

#[test]
fn matmul_integer_subtracts_zero_points() {
    let g = ModelBuilder::new(13)
        .input("a", U8, &[2, 2])
        .init(tint("b", U8, &[2, 2], &[5, 6, 7, 255]))
        .init(tint("azp", U8, &[], &[1]))
        .init(tint("bzp", U8, &[], &[5]))
        .node("MatMulInteger", &["a", "b", "azp", "bzp"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap();
    let a = Tensor::from_vec::<u8>(&[2, 2], vec![1, 2, 3, 0]).unwrap();
    let y = run(&g, &[a]);
    assert_eq!(y[0].dtype(), DType::I32);
    // (a - 1) = [[0, 1], [2, -1]]; (b - 5) = [[0, 1], [2, 250]]
    assert_close(&y[0], &[2, 2], &[2.0, 250.0, -2.0, -248.0]);
}

#[test]
fn dynamic_quantize_linear_onnx_example() {
    let g = ModelBuilder::new(11)
        .input("x", F32, &[6])
        .node("DynamicQuantizeLinear", &["x"], &["y", "scale", "zp"], vec![])
        .output("y")
        .output("scale")
        .output("zp")
        .import()
        .unwrap();
    let x = Tensor::from_f32(&[6], vec![0.0, 2.0, -3.0, -2.5, 1.34, 0.5]).unwrap();
    let out = run(&g, &[x]);
    // The ONNX operator documentation's example: scale = 5 / 255, zero point 153.
    assert_close(&out[0], &[6], &[153.0, 255.0, 0.0, 26.0, 221.0, 179.0]);
    assert_close(&out[1], &[], &[(5.0f32 / 255.0) as f64]);
    assert_close(&out[2], &[], &[153.0]);
    assert_eq!((out[0].dtype(), out[1].dtype(), out[2].dtype()), (DType::U8, DType::F32, DType::U8));
}

#[test]
fn qlinear_conv_rejects_unsupported_rank() {
    let err = ModelBuilder::new(13)
        .input("x", U8, &[1, 1, 4])
        .init(tf32("s", &[], &[1.0]))
        .init(tint("zp", U8, &[], &[0]))
        .init(tint("w", U8, &[1, 1, 2], &[1, 1]))
        .node("QLinearConv", &["x", "s", "zp", "w", "s", "zp", "s", "zp"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(err.to_string().contains("only 2-D"), "{err}");
}
