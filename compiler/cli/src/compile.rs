//! `kiln compile`: the driver from an ONNX file to an artifact or an intermediate stage.
//!
//! Pipeline order: ONNX import (kiln-onnx) -> graph passes (kiln-passes' default pipeline for the
//! -O level) -> codegen (kiln-codegen: MLIR -> LLVM -> object -> .so). `--emit` stops at a stage.

use anyhow::{bail, Context, Result};
use kiln_codegen::{CodegenOptions, Emit};
use kiln_ir::Graph;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    Ir,
    Mlir,
    Llvm,
    Asm,
    Obj,
    So,
}

#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub shapes: BTreeMap<String, Vec<usize>>,
    pub target_cpu: String,
    pub opt_level: u8,
    pub emit: Stage,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { shapes: BTreeMap::new(), target_cpu: "host".into(), opt_level: 3, emit: Stage::So }
    }
}

/// A model after import and the graph pipeline.
pub struct Lowered {
    pub graph: Graph,
    pub ops_imported: BTreeMap<String, usize>,
}

/// Import an ONNX file and run the default graph pipeline for `opt_level`.
pub fn import_and_optimize(model: &Path, shapes: &BTreeMap<String, Vec<usize>>, opt_level: u8) -> Result<Lowered> {
    let opts = kiln_onnx::ImportOptions { shapes: shapes.clone() };
    let mut graph = kiln_onnx::import_file(model, &opts).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    let ops_imported = graph.op_histogram();
    let passes = kiln_passes::default_pipeline(opt_level);
    kiln_passes::run_passes(&mut graph, &passes, &kiln_passes::PipelineOptions::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    Ok(Lowered { graph, ops_imported })
}

/// Compile `model` to the bytes of the requested stage.
pub fn compile_bytes(model: &Path, opts: &CompileOptions) -> Result<Vec<u8>> {
    let lowered = import_and_optimize(model, &opts.shapes, opts.opt_level)?;
    if opts.emit == Stage::Ir {
        return Ok(kiln_ir::text::print(&lowered.graph).into_bytes());
    }
    let emit = match opts.emit {
        Stage::Ir => unreachable!("handled above"),
        Stage::Mlir => Emit::Mlir,
        Stage::Llvm => Emit::Llvm,
        Stage::Asm => Emit::Asm,
        Stage::Obj => Emit::Obj,
        Stage::So => Emit::So,
    };
    let cg = CodegenOptions {
        target_cpu: opts.target_cpu.clone(),
        opt_level: opts.opt_level,
        model_name: lowered.graph.name.clone(),
        ops_imported: lowered.ops_imported,
    };
    kiln_codegen::compile(&lowered.graph, &cg, emit).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))
}

/// `kiln compile`: compile and write to `out` (`-` = stdout, text stages only).
pub fn run(model: &Path, out: &Path, opts: &CompileOptions) -> Result<()> {
    if !model.exists() {
        bail!("{}: no such file", model.display());
    }
    let to_stdout = out.as_os_str() == "-";
    if to_stdout && matches!(opts.emit, Stage::Obj | Stage::So) {
        bail!("-o - writes text; --emit {:?} is binary, give a file name", opts.emit);
    }
    if !to_stdout && same_file(model, out) {
        bail!("-o {} would overwrite the input model; choose another output path", out.display());
    }
    let bytes = compile_bytes(model, opts)?;
    if to_stdout {
        std::io::stdout().write_all(&bytes).context("writing to stdout")?;
        return Ok(());
    }
    write_atomically(out, &bytes)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Write through a temporary file in the same folder and rename, so a failed compile never leaves
/// a truncated artifact and a reader never sees a half-written one.
fn write_atomically(out: &Path, bytes: &[u8]) -> Result<()> {
    let dir: PathBuf = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: folder {} does not exist", out.display(), dir.display());
    }
    let mut tmp =
        tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing {}", out.display()))?;
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .with_context(|| format!("writing {}", out.display()))?;
    tmp.persist(out).map_err(|e| anyhow::anyhow!("cannot write {}: {}", out.display(), e.error))?;
    Ok(())
}
