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
    pub passes: PassSelection,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            shapes: BTreeMap::new(),
            target_cpu: "host".into(),
            opt_level: 3,
            emit: Stage::So,
            passes: PassSelection::default(),
        }
    }
}

/// Which graph passes run: `--passes`, `--disable-pass`, `--print-after`, `--force-linear-merge`.
#[derive(Clone, Debug, Default)]
pub struct PassSelection {
    /// Run exactly these passes, once each, instead of the `-O` level's pipeline.
    pub only: Option<Vec<String>>,
    /// Leave these passes out.
    pub disabled: Vec<String>,
    /// Print the IR after these passes (`all` for every pass) to stderr.
    pub print_after: Vec<String>,
    pub force_linear_merge: bool,
}

impl PassSelection {
    /// The pipeline these options select at `opt_level`; unknown pass names are errors.
    pub fn pipeline(&self, opt_level: u8) -> Result<kiln_passes::Pipeline> {
        let known = kiln_passes::pass_names();
        let names =
            self.only.iter().flatten().chain(&self.disabled).chain(self.print_after.iter().filter(|n| *n != "all"));
        for n in names {
            if !known.contains(&n.as_str()) {
                bail!("unknown pass '{n}' (known: {})", known.join(", "));
            }
        }
        let base = match &self.only {
            Some(list) => kiln_passes::Pipeline::from_names(&list.iter().map(String::as_str).collect::<Vec<_>>()),
            None => kiln_passes::default_pipeline(opt_level),
        };
        Ok(base.without(&self.disabled))
    }
}

/// A model after import and the graph pipeline.
pub struct Lowered {
    pub graph: Graph,
    pub ops_imported: BTreeMap<String, usize>,
    /// What each pass execution did, in order.
    pub runs: Vec<kiln_passes::PassRun>,
}

/// Import an ONNX file and run the default graph pipeline for `opt_level`.
pub fn import_and_optimize(model: &Path, shapes: &BTreeMap<String, Vec<usize>>, opt_level: u8) -> Result<Lowered> {
    import_with_passes(model, shapes, opt_level, &PassSelection::default())
}

/// Import an ONNX file and run the selected graph pipeline.
pub fn import_with_passes(
    model: &Path,
    shapes: &BTreeMap<String, Vec<usize>>,
    opt_level: u8,
    sel: &PassSelection,
) -> Result<Lowered> {
    let opts = kiln_onnx::ImportOptions { shapes: shapes.clone() };
    let mut graph = kiln_onnx::import_file(model, &opts).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    let ops_imported = graph.op_histogram();
    let pipeline = sel.pipeline(opt_level)?;
    let popts = kiln_passes::PipelineOptions {
        verify_each: false,
        print_after: sel.print_after.clone(),
        force_linear_merge: sel.force_linear_merge,
    };
    let runs = kiln_passes::run_pipeline(&mut graph, &pipeline, &popts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    Ok(Lowered { graph, ops_imported, runs })
}

/// The `--report` text: one block per pass execution that changed the graph or left a note.
pub fn report_text(runs: &[kiln_passes::PassRun]) -> String {
    let mut out = String::new();
    // A pass in a fixpoint group runs several times; say each of its notes once.
    let mut said: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
    for r in runs.iter().filter(|r| r.changed || !r.notes.is_empty()) {
        let (removed, added) = r.op_delta();
        let list = |m: &BTreeMap<String, usize>| {
            if m.is_empty() {
                "-".to_string()
            } else {
                m.iter().map(|(k, v)| format!("{k} x{v}")).collect::<Vec<_>>().join(", ")
            }
        };
        out.push_str(&format!(
            "{}: {}; removed {}; added {}; FLOPs {} -> {}; weight bytes {} -> {}\n",
            r.pass,
            if r.changed { "changed" } else { "unchanged" },
            list(&removed),
            list(&added),
            r.flops_before,
            r.flops_after,
            r.weight_bytes_before,
            r.weight_bytes_after
        ));
        for n in r.notes.iter().filter(|n| said.insert((r.pass.as_str(), n.as_str()))) {
            out.push_str(&format!("  note: {n}\n"));
        }
    }
    out
}

/// The report as JSON (one object per pass execution that changed the graph or left a note).
pub fn report_json(runs: &[kiln_passes::PassRun]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = runs
        .iter()
        .filter(|r| r.changed || !r.notes.is_empty())
        .map(|r| {
            let (removed, added) = r.op_delta();
            serde_json::json!({
                "pass": r.pass,
                "changed": r.changed,
                "ops_removed": removed,
                "ops_added": added,
                "flops_before": r.flops_before,
                "flops_after": r.flops_after,
                "weight_bytes_before": r.weight_bytes_before,
                "weight_bytes_after": r.weight_bytes_after,
                "notes": r.notes,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}

/// Compile `model` to the bytes of the requested stage, with the pass report.
pub fn compile_bytes(model: &Path, opts: &CompileOptions) -> Result<Vec<u8>> {
    Ok(compile_with_report(model, opts)?.0)
}

/// Compile `model`; also returns what each pass did.
pub fn compile_with_report(model: &Path, opts: &CompileOptions) -> Result<(Vec<u8>, Vec<kiln_passes::PassRun>)> {
    let lowered = import_with_passes(model, &opts.shapes, opts.opt_level, &opts.passes)?;
    for r in &lowered.runs {
        if let Some(text) = &r.ir_after {
            eprintln!("// ----- IR after {} -----\n{text}", r.pass);
        }
    }
    let runs = lowered.runs.clone();
    let bytes = stage_bytes(model, lowered, opts)?;
    Ok((bytes, runs))
}

fn stage_bytes(model: &Path, lowered: Lowered, opts: &CompileOptions) -> Result<Vec<u8>> {
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

/// `kiln compile`: compile and write to `out` (`-` = stdout, text stages only); with `report`,
/// print what each pass did to stderr.
pub fn run(model: &Path, out: &Path, opts: &CompileOptions, report: bool) -> Result<()> {
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
    let (bytes, runs) = compile_with_report(model, opts)?;
    if report {
        eprint!("{}", report_text(&runs));
    }
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
