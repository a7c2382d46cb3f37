//! `kiln run`: load an artifact, bind .npy inputs by name, run, write each output to
//! `DIR/<sanitized output name>.npy`.

use crate::npy;
use anyhow::{bail, Context, Result};
use kiln_runtime::{DType, HostTensor, Model};
use std::path::{Path, PathBuf};

/// Load a model with `threads` workers (None = the runtime's default).
pub fn load(artifact: &Path, threads: Option<usize>) -> Result<Model> {
    let m = match threads {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Model::load_with_threads(artifact, n),
        None => Model::load(artifact),
    };
    m.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Read the `--input NAME=FILE` pairs into the model's input order; every missing or unknown name
/// is reported at once.
pub fn bind_inputs(model: &Model, given: &[(String, PathBuf)]) -> Result<Vec<HostTensor>> {
    let names: Vec<&str> = model.inputs().iter().map(|i| i.name.as_str()).collect();
    let unknown: Vec<&str> = given.iter().map(|(n, _)| n.as_str()).filter(|n| !names.contains(n)).collect();
    if !unknown.is_empty() {
        bail!("unknown input(s) {}; the model's inputs are {}", unknown.join(", "), names.join(", "));
    }
    let missing: Vec<&str> = names.iter().copied().filter(|n| !given.iter().any(|(g, _)| g == n)).collect();
    if !missing.is_empty() {
        bail!("missing --input for {}", missing.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "));
    }
    names
        .iter()
        .map(|n| {
            let (_, path) = given.iter().rev().find(|(g, _)| g == n).expect("checked above");
            let want = model.inputs().iter().find(|i| i.name == *n).map_or(DType::F32, |i| i.dtype);
            npy::read_as(path, want).with_context(|| format!("input '{n}'"))
        })
        .collect()
}

pub fn run(
    artifact: &Path,
    inputs: &[(String, PathBuf)],
    out_dir: &Path,
    threads: Option<usize>,
) -> Result<Vec<PathBuf>> {
    let model = load(artifact, threads)?;
    let tensors = bind_inputs(&model, inputs)?;
    let outputs = model.run(&tensors).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut written = Vec::new();
    for (info, t) in model.outputs().iter().zip(&outputs) {
        let path = out_dir.join(format!("{}.npy", npy::sanitize(&info.name)));
        npy::write(&path, t)?;
        written.push(path);
    }
    Ok(written)
}
