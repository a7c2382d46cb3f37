//! An output of a compiled case against the recorded `output_N.pb`: same dtype (kiln's name for
//! the TensorProto's element type), same shape, and values within `|a - b| <= atol + rtol * |b|`
//! (rtol 1e-3, atol 1e-7: onnx's backend runner). NaN matches NaN and an infinity matches the
//! same infinity; integer and bool outputs must be equal.

use kiln_onnx::proto::{tensor_proto::DataType, TensorProto};
use kiln_runtime::HostTensor;

pub const RTOL: f64 = 1e-3;
pub const ATOL: f64 = 1e-7;

/// kiln's name for an ONNX element type (`FLOAT` -> `f32`, `UINT8` -> `u8`, ...); types kiln has
/// no name for keep ONNX's name in lower case (`float8e4m3fn`, `string`).
pub fn kiln_dtype_name(code: i32) -> String {
    let n = match DataType::try_from(code) {
        Ok(DataType::Float) => "f32",
        Ok(DataType::Double) => "f64",
        Ok(DataType::Float16) => "f16",
        Ok(DataType::Bfloat16) => "bf16",
        Ok(DataType::Int8) => "i8",
        Ok(DataType::Int16) => "i16",
        Ok(DataType::Int32) => "i32",
        Ok(DataType::Int64) => "i64",
        Ok(DataType::Uint8) => "u8",
        Ok(DataType::Uint16) => "u16",
        Ok(DataType::Uint32) => "u32",
        Ok(DataType::Uint64) => "u64",
        Ok(DataType::Bool) => "bool",
        Ok(d) => return d.as_str_name().to_lowercase(),
        Err(_) => return format!("#{code}"),
    };
    n.to_string()
}

/// Whether element `got` is close enough to `want`.
pub fn close(got: f64, want: f64) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if got == want {
        return true;
    }
    if got.is_infinite() || want.is_infinite() {
        return false;
    }
    (got - want).abs() <= ATOL + RTOL * want.abs()
}

/// `Ok` when `got` matches `want`; otherwise one line: the dtype or shape difference, or how many
/// elements differ, the first bad one (multi-index and values) and the largest error.
pub fn compare(got: &HostTensor, want: &TensorProto) -> Result<(), String> {
    let want_dtype = kiln_dtype_name(want.data_type());
    let want_shape: Vec<usize> = want.dims.iter().map(|d| usize::try_from(*d).unwrap_or(usize::MAX)).collect();
    if got.dtype.name() != want_dtype || got.shape != want_shape {
        return Err(format!(
            "got {}, expected {}",
            type_text(got.dtype.name(), &got.shape),
            type_text(&want_dtype, &want_shape)
        ));
    }
    let want_t =
        kiln_onnx::tensor_from_proto(want, None).map_err(|e| format!("cannot read the expected output: {e}"))?;
    let got_t = kiln_ir::Tensor::from_le_bytes(got.dtype, &got.shape, &got.data)
        .map_err(|e| format!("malformed output from the runtime: {e}"))?;
    let (g, w) = (got_t.to_f64_vec(), want_t.to_f64_vec());
    if g.len() != w.len() {
        return Err(format!("{} elements, expected {}", g.len(), w.len()));
    }
    let exact = !want_t.dtype().is_float();
    // Integers beyond 2^53 are compared as i64 too.
    let ints = if exact { got_t.to_i64_vec().ok().zip(want_t.to_i64_vec().ok()) } else { None };
    let mut bad = 0usize;
    let mut first: Option<usize> = None;
    let mut max_err = 0.0f64;
    for i in 0..w.len() {
        let ok = match &ints {
            Some((gi, wi)) => gi[i] == wi[i],
            None if exact => g[i] == w[i],
            None => close(g[i], w[i]),
        };
        if !ok {
            bad += 1;
            first.get_or_insert(i);
            let e = (g[i] - w[i]).abs();
            max_err = if e.is_nan() {
                f64::NAN
            } else if max_err.is_nan() {
                max_err
            } else {
                max_err.max(e)
            };
        }
    }
    match first {
        None => Ok(()),
        Some(i) => {
            let (gv, wv) = match &ints {
                Some((gi, wi)) => (gi[i].to_string(), wi[i].to_string()),
                None => (g[i].to_string(), w[i].to_string()),
            };
            Err(format!(
                "{bad} of {} elements differ; first at {:?}: got {gv}, want {wv}; max |error| {max_err:.3e}",
                w.len(),
                unravel(i, &want_shape)
            ))
        }
    }
}

fn type_text(dtype: &str, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("{dtype}[{}]", dims.join(","))
}

/// Row-major flat index -> multi-index.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, d) in shape.iter().enumerate().rev() {
        if *d > 0 {
            idx[k] = i % d;
            i /= d;
        }
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_proto(dims: &[i64], v: &[f32]) -> TensorProto {
        TensorProto {
            data_type: Some(DataType::Float as i32),
            dims: dims.to_vec(),
            float_data: v.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn tolerance_is_onnx_runner_tolerance() {
        assert!(close(1000.0, 1000.999));
        assert!(!close(1000.0, 1001.01));
        assert!(close(1e-8, 0.0));
        assert!(!close(1e-6, 0.0));
        assert!(close(f64::NAN, f64::NAN));
        assert!(!close(f64::NAN, 1.0));
        assert!(close(f64::INFINITY, f64::INFINITY));
        assert!(!close(f64::INFINITY, f64::NEG_INFINITY));
        assert!(!close(1e300, f64::INFINITY));
    }

    #[test]
    fn reports_first_bad_element_and_max_error() {
        let want = f32_proto(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let ok = HostTensor::from_f32(vec![2, 2], &[1.0, 2.0005, 3.0, 4.0]);
        assert_eq!(compare(&ok, &want), Ok(()));
        let bad = HostTensor::from_f32(vec![2, 2], &[1.0, 2.0, 3.5, 5.0]);
        let e = compare(&bad, &want).unwrap_err();
        assert_eq!(e, "2 of 4 elements differ; first at [1, 0]: got 3.5, want 3; max |error| 1.000e0");
    }

    #[test]
    fn dtype_and_shape_must_match() {
        let want = f32_proto(&[2], &[1.0, 2.0]);
        let wrong_shape = HostTensor::from_f32(vec![1, 2], &[1.0, 2.0]);
        assert_eq!(compare(&wrong_shape, &want).unwrap_err(), "got f32[1,2], expected f32[2]");
        let wrong_dtype = HostTensor::from_f64(vec![2], &[1.0, 2.0]);
        assert_eq!(compare(&wrong_dtype, &want).unwrap_err(), "got f64[2], expected f32[2]");
        let f16 = TensorProto { data_type: Some(DataType::Float16 as i32), dims: vec![2], ..Default::default() };
        assert_eq!(compare(&wrong_shape, &f16).unwrap_err(), "got f32[1,2], expected f16[2]");
    }

    #[test]
    fn integers_compare_exactly() {
        let want = TensorProto {
            data_type: Some(DataType::Int64 as i32),
            dims: vec![2],
            int64_data: vec![i64::MAX, 1],
            ..Default::default()
        };
        assert_eq!(compare(&HostTensor::from_i64(vec![2], &[i64::MAX, 1]), &want), Ok(()));
        // Equal as f64, different as i64.
        let e = compare(&HostTensor::from_i64(vec![2], &[i64::MAX - 1, 1]), &want).unwrap_err();
        assert!(e.starts_with("1 of 2 elements differ; first at [0]"), "{e}");
    }
}
