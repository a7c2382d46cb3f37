//! Name scopes and subgraphs. A [`Scope`] maps the ONNX value names of one graph to IR values
//! and imports that graph's nodes; the top-level driver and every subgraph (If branches, Loop
//! and Scan bodies) use it. Subgraphs are imported inline into the one IR graph: a node with
//! graph attributes gets, in [`NodeCtx::captured`], the outer values its subgraphs read (ONNX
//! scoping: a subgraph sees every name of the enclosing scopes), and its importer calls
//! [`import_subgraph`] once per branch or iteration with a fresh name prefix.

use crate::context::{describe_node, Importer, NodeCtx};
use crate::error::{bail, ImportError, Result};
use crate::proto::{type_proto, GraphProto, NodeProto, TensorProto};
use crate::tensor_proto::{dtype_from_onnx, tensor_from_proto};
use kiln_ir::{Graph, ValueRef};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// ONNX op type -> importer.
pub type Registry = HashMap<&'static str, Importer>;

/// What importing any node needs besides its scope: the opset, the op table, the model folder.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub opset: i64,
    pub reg: &'a Registry,
    pub model_dir: Option<&'a Path>,
}

/// The names visible in one graph: bound values, plus the graph's initializers (converted on
/// first use). Values created here are named `{prefix}{onnx name}`.
pub struct Scope<'m> {
    values: HashMap<String, ValueRef>,
    initializers: HashMap<&'m str, &'m TensorProto>,
    prefix: String,
}

impl<'m> Scope<'m> {
    pub fn new(initializers: &'m [TensorProto], prefix: String) -> Self {
        Scope { values: HashMap::new(), initializers: initializers.iter().map(|t| (t.name(), t)).collect(), prefix }
    }

    pub fn is_initializer(&self, name: &str) -> bool {
        self.initializers.contains_key(name)
    }

    pub fn is_bound(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Bind `name` to `v` (a later binding shadows an earlier one).
    pub fn bind(&mut self, name: &str, v: ValueRef) {
        self.values.insert(name.to_string(), v);
    }

    /// The IR value for ONNX name `name`: a bound value or an initializer.
    pub fn value(&mut self, graph: &mut Graph, model_dir: Option<&Path>, name: &str) -> Result<ValueRef> {
        if let Some(v) = self.values.get(name) {
            return Ok(*v);
        }
        if let Some(t) = self.initializers.get(name) {
            let tensor = tensor_from_proto(t, model_dir)?;
            let v = graph.add_constant(format!("{}{name}", self.prefix), tensor);
            self.values.insert(name.to_string(), v);
            return Ok(v);
        }
        bail!("value '{name}' is not defined by an earlier node, an initializer or a graph input")
    }

    /// Run `node`'s importer and bind its outputs. `used`: the names some node or output of
    /// this graph reads; an output the importer does not produce is an error only when used.
    pub fn import_node(
        &mut self,
        env: Env<'_>,
        graph: &mut Graph,
        node: &NodeProto,
        used: &HashSet<String>,
    ) -> Result<()> {
        let here = || describe_node(node);
        let Some(import) = env.reg.get(node.op_type()) else {
            bail!("{}: no importer (internal error: the support scan missed it)", here());
        };
        let mut inputs = Vec::with_capacity(node.input.len());
        for name in &node.input {
            if name.is_empty() {
                inputs.push(None);
            } else {
                inputs.push(Some(self.value(graph, env.model_dir, name).map_err(|e| e.context(here()))?));
            }
        }
        let mut captured = HashMap::new();
        for name in node_free_vars(node) {
            let v = self.value(graph, env.model_dir, &name).map_err(|e| e.context(format!("{}: subgraph", here())))?;
            captured.insert(name, v);
        }
        // Inside a subgraph, the node's output and node names carry the scope prefix.
        let scoped: Cow<'_, NodeProto> = if self.prefix.is_empty() {
            Cow::Borrowed(node)
        } else {
            let mut n = node.clone();
            let p = &self.prefix;
            n.output = n.output.iter().map(|o| if o.is_empty() { o.clone() } else { format!("{p}{o}") }).collect();
            if !node.name().is_empty() {
                n.name = Some(format!("{p}{}", node.name()));
            }
            Cow::Owned(n)
        };
        let mut ctx = NodeCtx { opset: env.opset, node: &scoped, graph, inputs, captured, env };
        let outs = import(&mut ctx)?;
        if outs.len() > node.output.len() {
            bail!(
                "{}: importer returned {} outputs for {} declared (internal error)",
                here(),
                outs.len(),
                node.output.len()
            );
        }
        for (i, name) in node.output.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            match outs.get(i) {
                Some(v) => self.bind(name, *v),
                None if used.contains(name) => {
                    bail!("{}: output {i} '{name}' is used, but kiln does not support this output", here())
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// The graphs held by `node`'s attributes (GRAPH and GRAPHS).
pub fn subgraphs(node: &NodeProto) -> impl Iterator<Item = &GraphProto> {
    node.attribute.iter().flat_map(|a| a.g.iter().chain(a.graphs.iter()))
}

/// Names `node`'s subgraphs read from enclosing scopes, in first-use order.
pub fn node_free_vars(node: &NodeProto) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for g in subgraphs(node) {
        for v in free_vars(g) {
            if seen.insert(v.clone()) {
                out.push(v);
            }
        }
    }
    out
}

/// Names `gp` (and the subgraphs nested in it) reads but does not define.
pub fn free_vars(gp: &GraphProto) -> Vec<String> {
    let mut defined: HashSet<&str> = gp.input.iter().map(|v| v.name()).collect();
    defined.extend(gp.initializer.iter().map(|t| t.name()));
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut note = |name: &str, defined: &HashSet<&str>| {
        if !name.is_empty() && !defined.contains(name) && seen.insert(name.to_string()) {
            out.push(name.to_string());
        }
    };
    for node in &gp.node {
        for i in &node.input {
            note(i, &defined);
        }
        for v in node_free_vars(node) {
            note(&v, &defined);
        }
        defined.extend(node.output.iter().map(String::as_str));
    }
    for o in &gp.output {
        note(o.name(), &defined);
    }
    out
}

/// Names read by `gp`'s nodes (directly or through their subgraphs) or returned by `gp`.
pub fn used_names(gp: &GraphProto) -> HashSet<String> {
    let mut used: HashSet<String> = gp.output.iter().map(|o| o.name().to_string()).collect();
    for n in &gp.node {
        used.extend(n.input.iter().filter(|s| !s.is_empty()).cloned());
        used.extend(node_free_vars(n));
    }
    used
}

/// Import subgraph `gp` (attribute `attr` of ctx's node) inline into ctx's graph: its inputs
/// bound to `args` in order, outer names resolved through `ctx.captured`, its values named
/// `{scope}/{name}`. Returns its outputs in order.
pub fn import_subgraph(
    ctx: &mut NodeCtx<'_>,
    gp: &GraphProto,
    attr: &str,
    args: &[ValueRef],
    scope: &str,
) -> Result<Vec<ValueRef>> {
    let here = |ctx: &NodeCtx<'_>| format!("{}: {attr} '{}'", ctx.where_(), gp.name());
    if gp.input.len() != args.len() {
        return Err(ImportError::new(format!(
            "{}: declares {} inputs, {} expected",
            here(ctx),
            gp.input.len(),
            args.len()
        )));
    }
    if !gp.sparse_initializer.is_empty() {
        return Err(ImportError::new(format!("{}: sparse initializers are unsupported", here(ctx))));
    }
    let mut sc = Scope::new(&gp.initializer, format!("{scope}/"));
    for (name, v) in &ctx.captured {
        if !sc.is_initializer(name) {
            sc.bind(name, *v);
        }
    }
    for (i, (vi, v)) in gp.input.iter().zip(args).enumerate() {
        check_declared_dtype(ctx, vi, *v)
            .map_err(|e| e.context(format!("{}: input {i} '{}'", here(ctx), vi.name())))?;
        sc.bind(vi.name(), *v);
    }
    let used = used_names(gp);
    let env = ctx.env;
    for node in &gp.node {
        sc.import_node(env, ctx.graph, node, &used)?;
    }
    let mut outs = Vec::with_capacity(gp.output.len());
    for o in &gp.output {
        let v = sc.value(ctx.graph, env.model_dir, o.name());
        outs.push(v.map_err(|e| e.context(format!("{}: output '{}'", here(ctx), o.name())))?);
    }
    Ok(outs)
}

/// A subgraph input declared as a tensor of a known element type must receive that type.
fn check_declared_dtype(ctx: &NodeCtx<'_>, vi: &crate::proto::ValueInfoProto, v: ValueRef) -> Result<()> {
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Ok(());
    };
    if t.elem_type() == 0 {
        return Ok(());
    }
    let Ok(want) = dtype_from_onnx(t.elem_type(), vi.name()) else { return Ok(()) };
    let got = ctx.ty(v).dtype;
    if got != want {
        bail!("declared {want}, but the value bound to it is {got}");
    }
    Ok(())
}
