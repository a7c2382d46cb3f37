//! Types of the ONNX graph inputs: dtype from the declared type, shape from the declared dims,
//! with symbolic or unknown dims fixed by `--shape NAME=D0xD1` (`ImportOptions::shapes`).

use crate::error::{bail, ImportError, Result};
use crate::proto::{tensor_shape_proto::dimension::Value as Dim, type_proto, ValueInfoProto};
use crate::tensor_proto::dtype_from_onnx;
use kiln_ir::TensorType;
use std::collections::{BTreeMap, HashSet};

/// Types of `inputs` (the graph inputs that are not initializers), in order. Every input with
/// symbolic dims and no `--shape` is reported in one error; a `--shape` naming no such input is
/// an error too.
pub fn input_types(inputs: &[&ValueInfoProto], shapes: &BTreeMap<String, Vec<usize>>) -> Result<Vec<TensorType>> {
    let names: HashSet<&str> = inputs.iter().map(|v| v.name()).collect();
    let unknown: Vec<&str> = shapes.keys().map(String::as_str).filter(|n| !names.contains(n)).collect();
    if !unknown.is_empty() {
        let all: Vec<String> = inputs.iter().map(|v| format!("'{}'", v.name())).collect();
        bail!(
            "--shape names no graph input: {} (graph inputs: {})",
            unknown.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
            if all.is_empty() { "none".to_string() } else { all.join(", ") }
        );
    }
    let mut out = Vec::with_capacity(inputs.len());
    let mut symbolic = Vec::new();
    for vi in inputs {
        let name = vi.name();
        let tensor = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => t,
            Some(_) => {
                bail!("input '{name}' is not a tensor (sequence, map, optional and sparse inputs are unsupported)")
            }
            None => bail!("input '{name}' has no type"),
        };
        let dtype = dtype_from_onnx(tensor.elem_type(), name)?;
        // Declared dims: Some(n) when fixed, None (with a label) when symbolic or unknown.
        let declared: Option<Vec<(Option<usize>, String)>> = tensor.shape.as_ref().map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(Dim::DimValue(v)) if *v >= 0 => (Some(*v as usize), v.to_string()),
                    Some(Dim::DimParam(p)) if !p.is_empty() => (None, p.clone()),
                    _ => (None, "?".to_string()),
                })
                .collect()
        });
        match (shapes.get(name), declared) {
            (Some(given), Some(decl)) => {
                if given.len() != decl.len() {
                    bail!(
                        "--shape {name}={} has rank {}, but input '{name}' has rank {} ({})",
                        dims_text(given),
                        given.len(),
                        decl.len(),
                        labels(&decl)
                    );
                }
                for (i, (g, (d, _))) in given.iter().zip(&decl).enumerate() {
                    if let Some(d) = d {
                        if d != g {
                            bail!(
                                "--shape {name}={} sets dim {i} to {g}, but input '{name}' fixes it to {d} ({})",
                                dims_text(given),
                                labels(&decl)
                            );
                        }
                    }
                }
                out.push(TensorType::new(dtype, given.clone()));
            }
            (Some(given), None) => out.push(TensorType::new(dtype, given.clone())),
            (None, Some(decl)) => {
                if decl.iter().all(|(d, _)| d.is_some()) {
                    out.push(TensorType::new(dtype, decl.iter().filter_map(|(d, _)| *d).collect()));
                } else {
                    let syms: Vec<&str> = decl.iter().filter(|(d, _)| d.is_none()).map(|(_, l)| l.as_str()).collect();
                    let hint: Vec<String> = decl
                        .iter()
                        .enumerate()
                        .map(|(i, (d, _))| d.map_or(format!("<d{i}>"), |d| d.to_string()))
                        .collect();
                    symbolic.push(format!(
                        "input '{name}' has symbolic dims [{}]: fix them with --shape {name}={}",
                        syms.join(", "),
                        hint.join("x")
                    ));
                }
            }
            (None, None) => {
                symbolic.push(format!("input '{name}' has an unknown shape: fix it with --shape {name}=<d0>x<d1>..."))
            }
        }
    }
    if !symbolic.is_empty() {
        return Err(ImportError::new(symbolic.join("; ")));
    }
    Ok(out)
}

fn dims_text(d: &[usize]) -> String {
    d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
}

fn labels(decl: &[(Option<usize>, String)]) -> String {
    format!("[{}]", decl.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join(", "))
}
