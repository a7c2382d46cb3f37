//! ONNX backend node tests (onnx 1.22 test data): import `model.onnx`, evaluate with the IR
//! interpreter on `input_*.pb`, compare with `output_*.pb` at rtol 1e-3 / atol 1e-7 (the onnx
//! runner's tolerance). The data root is `$KILN_ONNX_NODE_DATA` (default: the project venv's
//! onnx package); the test is skipped with a message when it is absent.
//!
//! `tests/node_conformance.txt` lists the cases expected to pass; a regression fails the test.
//! A case marked `@opset23` was generated at opset 24/25, where its op's new version only adds
//! element types (int2/uint2, float8e8m0, ...); its default-domain opset is lowered to 23 (the
//! newest kiln imports) before import.
//! `cargo test -p kiln-onnx --test node_data -- --ignored survey` imports every case and prints
//! which pass, to grow that list.

use kiln_ir::Tensor;
use kiln_onnx::proto::{ModelProto, TensorProto};
use kiln_onnx::{import_model, tensor_from_proto, ImportOptions};
use prost::Message;
use std::path::{Path, PathBuf};

const DEFAULT_ROOT: &str = "/tmp/kvenv/lib/python3.11/site-packages/onnx/backend/test/data/node";

fn data_root() -> Option<PathBuf> {
    let root = std::env::var("KILN_ONNX_NODE_DATA").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(DEFAULT_ROOT));
    if root.is_dir() {
        Some(root)
    } else {
        eprintln!("skipping ONNX node tests: {} not found (set KILN_ONNX_NODE_DATA)", root.display());
        None
    }
}

fn read_tensor(path: &Path) -> Result<Tensor, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let t = TensorProto::decode(bytes.as_slice()).map_err(|e| format!("{}: {e}", path.display()))?;
    tensor_from_proto(&t, None).map_err(|e| format!("{}: {e}", path.display()))
}

/// Tensors `{prefix}_0.pb`, `{prefix}_1.pb`, ... of one data set.
fn read_all(dir: &Path, prefix: &str) -> Result<Vec<Tensor>, String> {
    let mut out = Vec::new();
    loop {
        let p = dir.join(format!("{prefix}_{}.pb", out.len()));
        if !p.exists() {
            return Ok(out);
        }
        out.push(read_tensor(&p)?);
    }
}

fn close(got: &Tensor, want: &Tensor) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!("got {}, want {}", got.ty(), want.ty()));
    }
    for (i, (a, b)) in got.to_f64_vec().iter().zip(want.to_f64_vec()).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || a == &b || (a - b).abs() <= 1e-7 + 1e-3 * b.abs();
        if !ok {
            return Err(format!("element {i}: got {a}, want {b}"));
        }
    }
    Ok(())
}

/// Import and check every data set of one case. Graph inputs of type int64 (the shape-like
/// operands of Reshape, Slice, Split, ReduceX... which kiln needs static) are baked into the
/// model as initializers holding the data set's values; the rest stay runtime inputs.
fn run_case(root: &Path, case: &str, lower_to_23: bool) -> Result<(), String> {
    let dir = root.join(case);
    let bytes = std::fs::read(dir.join("model.onnx")).map_err(|e| e.to_string())?;
    let mut model = ModelProto::decode(bytes.as_slice()).map_err(|e| e.to_string())?;
    if lower_to_23 {
        for o in &mut model.opset_import {
            if o.domain().is_empty() || o.domain() == "ai.onnx" {
                o.version = Some(o.version().min(23));
            }
        }
    }
    let mut sets: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("test_data_set_")))
        .collect();
    sets.sort();
    if sets.is_empty() {
        return Err("no test_data_set_*".into());
    }
    for set in sets {
        let inputs = read_all(&set, "input")?;
        let want = read_all(&set, "output")?;
        let mut m = model.clone();
        let mut runtime = Vec::new();
        if let Some(g) = m.graph.as_mut() {
            let declared = std::mem::take(&mut g.input);
            let inits: Vec<String> = g.initializer.iter().map(|t| t.name().to_string()).collect();
            let mut k = 0;
            for vi in declared {
                if inits.iter().any(|n| n == vi.name()) {
                    g.input.push(vi);
                    continue;
                }
                let Some(t) = inputs.get(k) else {
                    return Err(format!("no input_{k}.pb"));
                };
                k += 1;
                if t.dtype() == kiln_ir::DType::I64 {
                    g.initializer.push(to_proto(vi.name(), t));
                } else {
                    runtime.push(t.clone());
                    g.input.push(vi);
                }
            }
        }
        let g = import_model(&m, Some(&dir), &ImportOptions::default()).map_err(|e| e.to_string())?;
        let got = kiln_ir::interp::evaluate(&g, &runtime).map_err(|e| e.to_string())?;
        if got.len() != want.len() {
            return Err(format!("{} outputs, {} expected", got.len(), want.len()));
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            close(g, w).map_err(|e| format!("output {i}: {e}"))?;
        }
    }
    Ok(())
}

/// An int64 tensor as a TensorProto initializer.
fn to_proto(name: &str, t: &Tensor) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        data_type: Some(kiln_onnx::proto::tensor_proto::DataType::Int64 as i32),
        dims: t.shape().iter().map(|d| *d as i64).collect(),
        raw_data: Some(t.to_le_bytes()),
        ..Default::default()
    }
}

#[test]
fn conformance_list_passes() {
    let Some(root) = data_root() else { return };
    let list = include_str!("node_conformance.txt");
    let cases: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert!(cases.len() > 50, "conformance list is too short");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|line| {
            let (case, lower) = match line.strip_suffix("@opset23") {
                Some(c) => (c.trim(), true),
                None => (*line, false),
            };
            run_case(&root, case, lower).err().map(|e| format!("{line}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} node tests failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Every case of the data set: prints `PASS name` / `FAIL name: why` (not a check). With
/// `KILN_SURVEY_LOWER_OPSET=1`, every case's opset is lowered to 23 first (to find `@opset23`
/// candidates; check each op's changelog before listing one).
#[test]
#[ignore]
fn survey() {
    let Some(root) = data_root() else { return };
    // KILN_SURVEY_SUBDIR=../pytorch-converted surveys a sibling folder of the same layout;
    // its cases are listed as `../pytorch-converted/<case>`.
    let sub = std::env::var("KILN_SURVEY_SUBDIR").unwrap_or_default();
    let mut names: Vec<String> = std::fs::read_dir(root.join(&sub))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| Path::new(&sub).join(e.file_name()).to_string_lossy().into_owned())
        .collect();
    names.sort();
    let lower = std::env::var("KILN_SURVEY_LOWER_OPSET").is_ok_and(|v| v == "1");
    for n in names {
        match std::panic::catch_unwind(|| run_case(&root, &n, lower)) {
            Ok(Ok(())) => println!("PASS {n}"),
            Ok(Err(e)) => println!("FAIL {n}: {e}"),
            Err(_) => println!("PANIC {n}"),
        }
    }
}
