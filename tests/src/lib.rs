//! Shared helpers for kiln's end-to-end tests: the bundled model folders, compiling them to a
//! temporary artifact, and comparing outputs with onnxruntime's recorded references.

pub mod conformance;

use anyhow::{Context, Result};
use kiln_cli::compile::{compile_bytes, CompileOptions};
use kiln_runtime::{DType, HostTensor};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Folder of a bundled test model (tests/models/<name>).
pub fn model_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
}

/// The target folder cargo builds into (for the cdylib and examples).
pub fn target_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target")
}

/// A model's recorded inputs in graph-input order (names from the .npy files of inputs/), as
/// (onnx name, tensor); `order` lists the ONNX input names.
pub fn load_inputs(dir: &Path, order: &[&str]) -> Result<Vec<(String, HostTensor)>> {
    order
        .iter()
        .map(|n| {
            let p = dir.join("inputs").join(format!("{}.npy", kiln_cli::npy::sanitize(n)));
            Ok((n.to_string(), kiln_cli::npy::read(&p).with_context(|| p.display().to_string())?))
        })
        .collect()
}

pub fn load_expected(dir: &Path, name: &str) -> Result<HostTensor> {
    let p = dir.join("expected").join(format!("{}.npy", kiln_cli::npy::sanitize(name)));
    kiln_cli::npy::read(&p).with_context(|| p.display().to_string())
}

/// Compile `model.onnx` of `dir` into `out_dir/model.so`, fixing every input's shape to the
/// recorded input's shape.
pub fn compile_model(dir: &Path, inputs: &[(String, HostTensor)], out_dir: &Path) -> Result<PathBuf> {
    let shapes: BTreeMap<String, Vec<usize>> = inputs.iter().map(|(n, t)| (n.clone(), t.shape.clone())).collect();
    let opts = CompileOptions { shapes, ..Default::default() };
    let bytes = compile_bytes(&dir.join("model.onnx"), &opts)?;
    let so = out_dir.join("model.so");
    std::fs::write(&so, bytes)?;
    Ok(so)
}

/// The values as f64, for every dtype (through the IR tensor's conversion).
pub fn as_f64(t: &HostTensor) -> Vec<f64> {
    to_ir(t).to_f64_vec()
}

/// Max |a - b| relative to the reference's scale max(1, max|ref|); Err when dtype or shape differ.
pub fn scaled_error(got: &HostTensor, want: &HostTensor) -> Result<f64> {
    anyhow::ensure!(got.dtype == want.dtype, "dtype {:?} != expected {:?}", got.dtype, want.dtype);
    anyhow::ensure!(got.shape == want.shape, "shape {:?} != expected {:?}", got.shape, want.shape);
    let (a, b) = (as_f64(got), as_f64(want));
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let err = a.iter().zip(&b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    anyhow::ensure!(a.iter().all(|v| v.is_finite()) == b.iter().all(|v| v.is_finite()), "non-finite values differ");
    Ok(err / scale)
}

/// IR tensor -> runtime tensor (same bytes).
pub fn to_host(t: &kiln_ir::Tensor) -> HostTensor {
    HostTensor {
        dtype: DType::from_name(t.dtype().name()).expect("every IR dtype is a runtime dtype"),
        shape: t.shape().to_vec(),
        data: t.to_le_bytes(),
    }
}

/// Runtime tensor -> IR tensor.
pub fn to_ir(t: &HostTensor) -> kiln_ir::Tensor {
    let dt = kiln_ir::DType::from_name(t.dtype.name()).expect("every runtime dtype is an IR dtype");
    kiln_ir::Tensor::from_le_bytes(dt, &t.shape, &t.data).expect("runtime tensors are well-formed")
}
