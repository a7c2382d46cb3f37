//! `kiln inspect`: the signature and op histograms of an ONNX model or a compiled artifact, as text
//! or as one JSON object (`inputs`, `outputs`, `ops_imported`, `ops`, plus artifact facts).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

fn sig(name: &str, dtype: &str, shape: &[usize]) -> Value {
    json!({ "name": name, "dtype": dtype, "shape": shape })
}

fn is_elf(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(f.read(&mut magic)? == 4 && &magic == b"\x7fELF")
}

/// The inspection report of `path` as JSON.
pub fn inspect(path: &Path, shapes: &BTreeMap<String, Vec<usize>>) -> Result<Value> {
    if !path.exists() {
        bail!("{}: no such file", path.display());
    }
    if is_elf(path)? {
        let model = kiln_runtime::Model::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let m = model.metadata();
        return Ok(json!({
            "kind": "artifact",
            "model": m.model_name,
            "inputs": m.inputs.iter().map(|s| sig(&s.name, &s.dtype, &s.shape)).collect::<Vec<_>>(),
            "outputs": m.outputs.iter().map(|s| sig(&s.name, &s.dtype, &s.shape)).collect::<Vec<_>>(),
            "ops_imported": m.ops_imported,
            "ops": m.ops,
            "abi_version": m.abi_version,
            "compiler_version": m.compiler_version,
            "target": { "triple": m.target.triple, "cpu": m.target.cpu, "features": m.target.features },
            "kernels": m.kernels.len(),
            "steps": m.schedule.len(),
            "arena_bytes": m.arena_bytes,
            "memory": memory(m, model.threads()),
        }));
    }
    let lowered = crate::compile::import_and_optimize(path, shapes, 3)?;
    let g = &lowered.graph;
    let value_sig = |v: kiln_ir::ValueRef, name: &str| {
        let t = g.value_type(v);
        sig(name, t.dtype.name(), &t.shape)
    };
    Ok(json!({
        "kind": "onnx",
        "model": g.name,
        "inputs": g.input_values().into_iter().map(|v| value_sig(v, g.value_name(v))).collect::<Vec<_>>(),
        "outputs": g.outputs().iter().map(|o| value_sig(o.value, &o.name)).collect::<Vec<_>>(),
        "ops_imported": lowered.ops_imported,
        "ops": g.op_histogram(),
        "passes": crate::compile::report_json(&lowered.runs),
    }))
}

/// The memory plan of an artifact: the arena (intermediates by liveness, with reuse and in-place
/// steps) against the sum of the intermediates it holds, caller buffers, constants, per-workgroup
/// kernel scratch (on the stack), and the peak memory of one run on `threads` threads (arena +
/// caller inputs and outputs + scratch of the workgroups running at once).
fn memory(m: &kiln_abi::Metadata, threads: usize) -> Value {
    use kiln_abi::BufferKind;
    let sum = |f: &dyn Fn(&BufferKind) -> bool| -> usize {
        m.buffers.iter().filter(|b| f(&b.kind)).map(|b| b.size_bytes).sum()
    };
    // Blocks of another intermediate (Concat inputs written in place) take no space of their own.
    let intermediates: usize = m
        .buffers
        .iter()
        .filter(|b| matches!(b.kind, BufferKind::Intermediate { .. }) && b.view_of.is_none())
        .map(|b| b.size_bytes)
        .sum();
    let io = sum(&|k| matches!(k, BufferKind::Input { .. } | BufferKind::Output { .. }));
    let constants = sum(&|k| matches!(k, BufferKind::Constant { .. }));
    let offset = |id: usize| match m.buffers.get(id).map(|b| &b.kind) {
        Some(BufferKind::Intermediate { offset }) => Some(*offset),
        _ => None,
    };
    let in_place = m
        .schedule
        .iter()
        .filter(|st| {
            let outs = st.buffers.last().and_then(|b| offset(*b));
            outs.is_some() && st.buffers[..st.buffers.len() - 1].iter().any(|b| offset(*b) == outs)
        })
        .count();
    let scratch = m.kernels.iter().map(|k| k.scratch_bytes).max().unwrap_or(0) as usize;
    json!({
        "arena_bytes": m.arena_bytes,
        "intermediate_bytes": intermediates,
        "in_place_steps": in_place,
        "io_bytes": io,
        "constant_bytes": constants,
        "scratch_bytes_per_workgroup": scratch,
        "threads": threads,
        "peak_run_bytes": m.arena_bytes + io + scratch * threads,
    })
}

/// Human-readable form of the report.
pub fn to_text(report: &Value) -> String {
    let mut s = String::new();
    let line = |v: &Value| {
        let shape: Vec<String> = v["shape"].as_array().into_iter().flatten().map(|d| d.to_string()).collect();
        format!(
            "  {}: {}[{}]\n",
            v["name"].as_str().unwrap_or("?"),
            v["dtype"].as_str().unwrap_or("?"),
            shape.join(",")
        )
    };
    s += &format!("{} '{}'\n", report["kind"].as_str().unwrap_or("?"), report["model"].as_str().unwrap_or(""));
    if let Some(t) = report.get("target") {
        s += &format!(
            "target: {} {} (abi {}, kiln {})\n",
            t["triple"].as_str().unwrap_or(""),
            t["cpu"].as_str().unwrap_or(""),
            report["abi_version"],
            report["compiler_version"].as_str().unwrap_or("")
        );
        s += &format!(
            "kernels: {}, steps: {}, arena: {} bytes\n",
            report["kernels"], report["steps"], report["arena_bytes"]
        );
        let mem = &report["memory"];
        s += &format!(
            "memory: arena {} B holds {} B of intermediates ({} in-place steps); caller buffers {} B; \
             constants {} B; scratch {} B per workgroup; peak of one run on {} threads {} B\n",
            mem["arena_bytes"],
            mem["intermediate_bytes"],
            mem["in_place_steps"],
            mem["io_bytes"],
            mem["constant_bytes"],
            mem["scratch_bytes_per_workgroup"],
            mem["threads"],
            mem["peak_run_bytes"]
        );
    }
    s += "inputs:\n";
    report["inputs"].as_array().into_iter().flatten().for_each(|v| s += &line(v));
    s += "outputs:\n";
    report["outputs"].as_array().into_iter().flatten().for_each(|v| s += &line(v));
    for (title, key) in [("ops after import", "ops_imported"), ("ops after the graph pipeline", "ops")] {
        s += &format!("{title}:\n");
        if let Some(m) = report[key].as_object() {
            for (k, v) in m {
                s += &format!("  {k:<20} {v}\n");
            }
        }
    }
    s
}
