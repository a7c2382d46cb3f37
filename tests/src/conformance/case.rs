//! One node-suite case in-process: read `model.onnx` and every `test_data_set_*`, import (binding
//! shape-like integer inputs as constants only when the import asks for a constant operand),
//! run kiln's default pipeline, compile to a `.so`, load, run, compare. [`run`] never panics: a
//! panic inside kiln is caught and reported as [`Status::Panic`].

use super::compare::compare;
use super::outcome::{Outcome, Status};
use kiln_onnx::proto::{tensor_proto::DataType, ModelProto, TensorProto};
use kiln_onnx::{import_model, ImportError, ImportOptions};
use kiln_runtime::HostTensor;
use prost::Message;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a case is compiled.
#[derive(Clone, Copy, Debug)]
pub struct CaseOptions {
    /// `-O` level of the graph pipeline and of LLVM (the suite uses 3; CI may use 1).
    pub opt_level: u8,
}

impl Default for CaseOptions {
    fn default() -> Self {
        CaseOptions { opt_level: 3 }
    }
}

/// The stage a case is in; the child process announces each on stderr (`@stage import`) so that
/// the driver can tell which stage a crash happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Read,
    Import,
    Compile,
    Load,
    Run,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Import => "import",
            Stage::Compile => "compile",
            Stage::Load => "load",
            Stage::Run => "run",
        }
    }

    pub fn from_name(s: &str) -> Option<Stage> {
        [Stage::Read, Stage::Import, Stage::Compile, Stage::Load, Stage::Run].into_iter().find(|st| st.name() == s)
    }

    /// The status of a case that crashed in this stage.
    pub fn crash_status(self) -> Status {
        match self {
            Stage::Read | Stage::Import => Status::ImportError,
            Stage::Compile => Status::CompileError,
            Stage::Load | Stage::Run => Status::RunError,
        }
    }
}

/// Run case `case` under `root`; `on_stage` is told each stage as it starts.
pub fn run(root: &Path, case: &str, opts: &CaseOptions, on_stage: &dyn Fn(Stage)) -> Outcome {
    let start = Instant::now();
    let mut ops = Vec::new();
    let res = std::panic::catch_unwind(AssertUnwindSafe(|| run_inner(&root.join(case), opts, on_stage, &mut ops)));
    let mut out = match res {
        Ok(Ok((specialized, folded))) => Outcome { specialized, folded, ..Outcome::new(case, Status::Pass, "") },
        Ok(Err((status, reason))) => Outcome::new(case, status, reason),
        Err(payload) => Outcome::new(case, Status::Panic, panic_message(payload.as_ref())),
    };
    out.ops = ops;
    out.seconds = start.elapsed().as_secs_f64();
    out
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Op types of the top-level nodes of a case's model, in node order without repeats (empty when
/// the model cannot be read).
pub fn model_ops(root: &Path, case: &str) -> Vec<String> {
    let Ok(bytes) = std::fs::read(root.join(case).join("model.onnx")) else { return Vec::new() };
    let Ok(model) = ModelProto::decode(bytes.as_slice()) else { return Vec::new() };
    let mut ops: Vec<String> = Vec::new();
    for n in model.graph.iter().flat_map(|g| &g.node) {
        if !ops.iter().any(|o| o == n.op_type()) {
            ops.push(n.op_type().to_string());
        }
    }
    ops
}

type Failure = (Status, String);

/// One data set: the input files (`None` where the file is not a TensorProto: sequences,
/// optionals) and the expected outputs.
struct DataSet {
    name: String,
    inputs: Vec<Option<TensorProto>>,
    outputs: Vec<Option<TensorProto>>,
}

/// On success: the bound inputs, and whether every graph input was bound.
fn run_inner(
    dir: &Path,
    opts: &CaseOptions,
    on_stage: &dyn Fn(Stage),
    ops: &mut Vec<String>,
) -> Result<(Vec<String>, bool), Failure> {
    on_stage(Stage::Read);
    let read_err = |e: String| (Status::ImportError, format!("reading the case: {e}"));
    let bytes = std::fs::read(dir.join("model.onnx")).map_err(|e| read_err(e.to_string()))?;
    let model = ModelProto::decode(bytes.as_slice()).map_err(|e| read_err(format!("model.onnx: {e}")))?;
    if let Some(g) = &model.graph {
        for n in &g.node {
            if !ops.iter().any(|o| o == n.op_type()) {
                ops.push(n.op_type().to_string());
            }
        }
    }
    let sets = read_data_sets(dir).map_err(read_err)?;
    // Graph inputs that are not initializers, in order: input_k.pb is the k-th.
    let graph = model.graph.as_ref().ok_or_else(|| (Status::ImportError, "the model has no graph".to_string()))?;
    let inits: Vec<&str> = graph.initializer.iter().map(|t| t.name()).collect();
    let input_names: Vec<String> =
        graph.input.iter().map(|v| v.name().to_string()).filter(|n| !inits.contains(&n.as_str())).collect();

    let mut bound: Option<Vec<String>> = None;
    let mut compiled: Option<(Vec<u8>, kiln_runtime::Model, tempfile::TempDir)> = None;
    for set in &sets {
        if set.inputs.len() < input_names.len() {
            return Err(read_err(format!(
                "{}: {} input files for {} graph inputs",
                set.name,
                set.inputs.len(),
                input_names.len()
            )));
        }
        on_stage(Stage::Import);
        let names = bound.get_or_insert_with(Vec::new);
        let first = compiled.is_none();
        let (m, graph) = import_binding(&model, dir, &input_names, set, names, first)?;
        // Recompile only when this data set changes what was compiled (shapes or bound values).
        let mut key = m.encode_to_vec();
        key.extend(format!("{:?}", set.inputs.iter().map(|t| t.as_ref().map(|t| &t.dims)).collect::<Vec<_>>()).bytes());
        if compiled.as_ref().is_none_or(|(k, _, _)| *k != key) {
            on_stage(Stage::Compile);
            let so = compile(graph, opts)?;
            on_stage(Stage::Load);
            let tmp = tempfile::tempdir().map_err(|e| (Status::CompileError, format!("temp dir: {e}")))?;
            let path = tmp.path().join("model.so");
            std::fs::write(&path, so).map_err(|e| (Status::CompileError, format!("writing the .so: {e}")))?;
            let loaded = kiln_runtime::Model::load_with_threads(&path, 1)
                .map_err(|e| (Status::RunError, format!("load: {e}")))?;
            compiled = Some((key, loaded, tmp));
        }
        let Some((_, loaded, _)) = compiled.as_ref() else { unreachable!("set just above") };
        on_stage(Stage::Run);
        let mut host = Vec::new();
        for (name, t) in input_names.iter().zip(&set.inputs) {
            if names.contains(name) {
                continue;
            }
            let t = t.as_ref().ok_or_else(|| (Status::RunError, format!("input '{name}' is not a tensor")))?;
            let t = kiln_onnx::tensor_from_proto(t, None)
                .map_err(|e| (Status::RunError, format!("{}: input '{name}': {e}", set.name)))?;
            host.push(HostTensor { dtype: t.dtype(), shape: t.shape().to_vec(), data: t.to_le_bytes() });
        }
        let got = loaded.run(&host).map_err(|e| (Status::RunError, format!("{}: {e}", set.name)))?;
        if got.len() != set.outputs.len() {
            return Err((Status::Wrong, format!("{} outputs, {} expected", got.len(), set.outputs.len())));
        }
        let out_names: Vec<&str> =
            m.graph.as_ref().map(|g| g.output.iter().map(|o| o.name()).collect()).unwrap_or_default();
        for (i, (g, w)) in got.iter().zip(&set.outputs).enumerate() {
            let name = out_names.get(i).copied().unwrap_or("?");
            let w = w.as_ref().ok_or_else(|| (Status::Wrong, format!("output {i} '{name}': expected a non-tensor")))?;
            compare(g, w).map_err(|e| {
                let set = if sets.len() > 1 { format!("{}: ", set.name) } else { String::new() };
                (Status::Wrong, format!("{set}output {i} '{name}': {e}"))
            })?;
        }
    }
    let bound = bound.unwrap_or_default();
    let folded = !bound.is_empty() && bound.len() == input_names.len();
    Ok((bound, folded))
}

/// Every `test_data_set_*` folder of a case, sorted.
fn read_data_sets(dir: &Path) -> Result<Vec<DataSet>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("test_data_set_")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err("no test_data_set_* folder".into());
    }
    paths
        .iter()
        .map(|p| {
            Ok(DataSet {
                name: p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                inputs: read_protos(p, "input")?,
                outputs: read_protos(p, "output")?,
            })
        })
        .collect()
}

/// `{prefix}_0.pb`, `{prefix}_1.pb`, ...: `None` for a file that is not a TensorProto.
fn read_protos(dir: &Path, prefix: &str) -> Result<Vec<Option<TensorProto>>, String> {
    let mut out = Vec::new();
    loop {
        let p = dir.join(format!("{prefix}_{}.pb", out.len()));
        if !p.exists() {
            return Ok(out);
        }
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        out.push(TensorProto::decode(bytes.as_slice()).ok());
    }
}

fn is_bool_scalar(t: &TensorProto) -> bool {
    DataType::try_from(t.data_type()) == Ok(DataType::Bool) && t.dims.iter().product::<i64>() == 1
}

fn is_integer(t: &TensorProto) -> bool {
    matches!(
        DataType::try_from(t.data_type()),
        Ok(DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Uint8
            | DataType::Uint16
            | DataType::Uint32
            | DataType::Uint64)
    )
}

/// Whether an import error asks for a constant operand: `Some(Some(name))` when it names the
/// value (`... (input 1 'shape') needs a constant shape operand`), `Some(None)` when it does not
/// (`Loop 'y': trip count must be a compile-time constant`), `None` for any other error.
pub fn constant_operand(e: &ImportError) -> Option<Option<&str>> {
    let msg = e.message();
    if let Some(at) = msg.find("') needs a constant") {
        return Some(msg[..at].rfind('\'').map(|start| &msg[start + 1..at]));
    }
    msg.contains("must be a compile-time constant").then_some(None)
}

/// Import `model` with the graph inputs in `bound` moved into the initializers (values from
/// `set`). On the first data set (`may_bind`), an import that fails for want of a constant
/// operand binds the graph input the error names, whatever its dtype (the importer asks only for
/// operands that decide shapes or control flow: Reshape shapes, Resize scales, OneHot depth, ...).
/// When the error names a computed value or none, it binds every integer input and every
/// one-element bool input (trip counts, loop conditions) and tries again; other float and bool
/// inputs are never bound, so data inputs stay run-time inputs.
fn import_binding(
    model: &ModelProto,
    dir: &Path,
    input_names: &[String],
    set: &DataSet,
    bound: &mut Vec<String>,
    may_bind: bool,
) -> Result<(ModelProto, kiln_ir::Graph), Failure> {
    let mut bound_all = false;
    loop {
        let m = bind(model, input_names, set, bound);
        let shapes: BTreeMap<String, Vec<usize>> = input_names
            .iter()
            .zip(&set.inputs)
            .filter(|(n, _)| !bound.contains(n))
            .filter_map(|(n, t)| Some((n.clone(), t.as_ref()?.dims.iter().map(|d| (*d).max(0) as usize).collect())))
            .collect();
        // `..Default::default()` keeps this compiling when the frontend grows an option.
        #[allow(clippy::needless_update)]
        let opts = ImportOptions { shapes, ..Default::default() };
        let e = match import_model(&m, Some(dir), &opts) {
            Ok(g) => return Ok((m, g)),
            Err(e) => e,
        };
        let data = |n: &String| input_names.iter().position(|x| x == n).and_then(|k| set.inputs[k].as_ref());
        let named_bindable = |n: &String| !bound.contains(n) && data(n).is_some();
        let bindable = |n: &String| !bound.contains(n) && data(n).is_some_and(|t| is_integer(t) || is_bool_scalar(t));
        let more: Vec<String> = match constant_operand(&e) {
            Some(Some(v)) if may_bind && named_bindable(&v.to_string()) => vec![v.to_string()],
            Some(_) if may_bind && !bound_all => {
                bound_all = true;
                input_names.iter().filter(|n| bindable(n)).cloned().collect()
            }
            _ => Vec::new(),
        };
        if more.is_empty() {
            return Err(classify_import_error(&e));
        }
        bound.extend(more);
    }
}

/// `model` with the inputs named in `bound` turned into initializers holding `set`'s values.
fn bind(model: &ModelProto, input_names: &[String], set: &DataSet, bound: &[String]) -> ModelProto {
    let mut m = model.clone();
    if bound.is_empty() {
        return m;
    }
    if let Some(g) = m.graph.as_mut() {
        g.input.retain(|vi| !bound.iter().any(|b| b == vi.name()));
        for (name, t) in input_names.iter().zip(&set.inputs) {
            if let (true, Some(t)) = (bound.contains(name), t) {
                let mut t = t.clone();
                t.name = Some(name.clone());
                g.initializer.push(t);
            }
        }
    }
    m
}

/// Unsupported ops, dtypes, opsets, non-tensor inputs and random (training) outputs are
/// [`Status::Unsupported`]; any other
/// frontend error is [`Status::ImportError`].
pub fn classify_import_error(e: &ImportError) -> Failure {
    let msg = e.message();
    let unsupported = [
        "unsupported ops:",
        "unsupported dtype",
        "unsupported ONNX opset",
        "is not a tensor (sequence",
        "imports no opset of the default ONNX domain",
        "unsupported (random output)",
    ];
    let status = if unsupported.iter().any(|u| msg.contains(u)) { Status::Unsupported } else { Status::ImportError };
    (status, msg.to_string())
}

/// The default pipeline and codegen to `.so` bytes.
fn compile(mut graph: kiln_ir::Graph, opts: &CaseOptions) -> Result<Vec<u8>, Failure> {
    let ops_imported = graph.op_histogram();
    let passes = kiln_passes::default_pipeline(opts.opt_level);
    kiln_passes::run_pipeline(&mut graph, &passes, &kiln_passes::PipelineOptions::default())
        .map_err(|e| (Status::CompileError, format!("passes: {e}")))?;
    let cg = kiln_codegen::CodegenOptions {
        target_cpu: "host".into(),
        opt_level: opts.opt_level,
        model_name: graph.name.clone(),
        ops_imported,
    };
    kiln_codegen::compile(&graph, &cg, kiln_codegen::Emit::So).map_err(|e| (Status::CompileError, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_operand_an_importer_wants_constant() {
        let e = ImportError::new("node 'r' (Reshape): shape (input 1 'shape') needs a constant shape operand");
        assert_eq!(constant_operand(&e), Some(Some("shape")));
        let e = ImportError::new("node (Loop) producing 'y': Loop 'y': trip count must be a compile-time constant");
        assert_eq!(constant_operand(&e), Some(None));
        assert_eq!(constant_operand(&ImportError::new("unsupported ops: NonZero (ai.onnx opset 13; nodes: n)")), None);
    }

    #[test]
    fn classifies_frontend_errors() {
        let un = [
            "unsupported ops: NonZero (ai.onnx opset 13; nodes: n)",
            "unsupported dtype FLOAT16 for 'x'",
            "unsupported ONNX opset 25: kiln imports opsets 7 to 23",
            "the model imports no opset of the default ONNX domain (opset_import has no \"\" or \"ai.onnx\" entry)",
        ];
        for m in un {
            assert_eq!(classify_import_error(&ImportError::new(m)).0, Status::Unsupported, "{m}");
        }
        assert_eq!(classify_import_error(&ImportError::new("node 'c' (Conv): bad pads")).0, Status::ImportError);
    }
}
