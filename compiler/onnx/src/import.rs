//! The import driver: decode the model, check opsets and op support, bind graph inputs and
//! initializers, run each node's importer in order, set outputs, drop dead nodes, verify.

use crate::error::{bail, ImportError, Result};
use crate::graph_inputs::input_types;
use crate::proto::{GraphProto, ModelProto};
use crate::registry::{check_supported, is_default_domain, registry};
use crate::subgraph::{used_names, Env, Registry, Scope};
use crate::ImportOptions;
use kiln_ir::{Graph, Op};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Default-domain opsets this frontend imports.
pub const MIN_OPSET: i64 = 7;
/// The newest opset of the vendored onnx.proto (onnx 1.22); per-op versions above 23 are checked
/// by [`crate::op_versions`].
pub const MAX_OPSET: i64 = 27;

pub fn import_bytes(bytes: &[u8], model_dir: Option<&Path>, opts: &ImportOptions) -> Result<Graph> {
    let model = ModelProto::decode(bytes)
        .map_err(|e| ImportError::new(format!("not an ONNX model: cannot decode ModelProto ({e})")))?;
    import_model(&model, model_dir, opts)
}

pub fn import_model(model: &ModelProto, model_dir: Option<&Path>, opts: &ImportOptions) -> Result<Graph> {
    let mut opsets: HashMap<String, i64> = HashMap::new();
    for o in &model.opset_import {
        let d = if is_default_domain(o.domain()) { "" } else { o.domain() };
        opsets.insert(d.to_string(), o.version());
    }
    let Some(&opset) = opsets.get("") else {
        bail!("the model imports no opset of the default ONNX domain (opset_import has no \"\" or \"ai.onnx\" entry)");
    };
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        bail!("unsupported ONNX opset {opset}: kiln imports opsets {MIN_OPSET} to {MAX_OPSET}");
    }
    let Some(gp) = model.graph.as_ref() else { bail!("the model has no graph") };
    let reg = registry();
    check_supported(&gp.node, &reg, &opsets)?;
    Importer::new(gp, model_dir, opset).run(opts, &reg)
}

struct Importer<'m> {
    gp: &'m GraphProto,
    model_dir: Option<&'m Path>,
    opset: i64,
    graph: Graph,
    /// ONNX value names of the main graph -> IR values.
    scope: Scope<'m>,
}

impl<'m> Importer<'m> {
    fn new(gp: &'m GraphProto, model_dir: Option<&'m Path>, opset: i64) -> Self {
        let name = sanitize_graph_name(gp.name());
        Importer { gp, model_dir, opset, graph: Graph::new(name), scope: Scope::new(&gp.initializer, String::new()) }
    }

    fn run(mut self, opts: &ImportOptions, reg: &Registry) -> Result<Graph> {
        let gp = self.gp;
        if !gp.sparse_initializer.is_empty() {
            bail!(
                "sparse initializers are unsupported ('{}')",
                gp.sparse_initializer[0].values.as_ref().map_or("?", |v| v.name())
            );
        }
        // Graph inputs: declared inputs that are not initializers.
        let inputs: Vec<_> = gp.input.iter().filter(|v| !self.scope.is_initializer(v.name())).collect();
        let tys = input_types(&inputs, &opts.shapes)?;
        for (vi, ty) in inputs.iter().zip(tys) {
            if self.scope.is_bound(vi.name()) {
                bail!("graph input '{}' is declared twice", vi.name());
            }
            let v = self.graph.add_input(vi.name(), ty);
            self.scope.bind(vi.name(), v);
        }
        // Values read by some node or returned: outputs nobody uses may be left unproduced.
        let used = used_names(gp);
        let env = Env { opset: self.opset, reg, model_dir: self.model_dir };
        for node in &gp.node {
            self.scope.import_node(env, &mut self.graph, node, &used)?;
        }
        for o in &gp.output {
            let v = self.scope.value(&mut self.graph, self.model_dir, o.name());
            let v = v.map_err(|e| e.context(format!("graph output '{}'", o.name())))?;
            self.graph.add_output(o.name(), v);
        }
        remove_dead_nodes(&mut self.graph);
        kiln_ir::verify::verify(&self.graph)
            .map_err(|e| ImportError::new(format!("internal error: the imported graph fails verification: {e}")))?;
        Ok(self.graph)
    }
}

/// The ONNX graph name made safe for symbols and file names: `[A-Za-z0-9_]` kept, others
/// replaced by `_`; empty -> `main`.
pub fn sanitize_graph_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() {
        "main".to_string()
    } else {
        s
    }
}

/// Remove every node that no graph output depends on (graph inputs always stay).
fn remove_dead_nodes(g: &mut Graph) {
    let mut live: HashSet<kiln_ir::NodeIndex> = HashSet::new();
    let mut stack: Vec<_> = g.outputs().iter().map(|o| o.value.node).collect();
    while let Some(n) = stack.pop() {
        if live.insert(n) {
            stack.extend(g.inputs_of(n).into_iter().map(|v| v.node));
        }
    }
    for n in g.node_indices() {
        if !live.contains(&n) && !matches!(g.node(n).op, Op::Input { .. }) {
            g.remove_node(n);
        }
    }
}
