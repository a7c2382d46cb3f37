//! The kiln IR graph: ops as petgraph nodes, data flow as edges.
//!
//! A value is one output of one node (`ValueRef { node, port }`). An edge carries a value from its
//! producer's output `src_port` to its consumer's input `dst_port`. Graph inputs are `Op::Input`
//! nodes; constants are `Op::Constant` nodes holding a shared tensor. Node ids are stable across
//! removals, so passes can edit in place.

use crate::error::{IrError, Result};
use crate::op::Op;
use crate::tensor::Tensor;
use crate::types::TensorType;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

/// Name and type of one value (one output of a node).
#[derive(Clone, Debug, PartialEq)]
pub struct ValueInfo {
    pub name: String,
    pub ty: TensorType,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    pub outputs: Vec<ValueInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub src_port: usize,
    pub dst_port: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueRef {
    pub node: NodeIndex,
    pub port: usize,
}

impl ValueRef {
    pub fn new(node: NodeIndex, port: usize) -> Self {
        ValueRef { node, port }
    }
}

/// A graph output: the name users see and the value it returns.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphOutput {
    pub name: String,
    pub value: ValueRef,
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub name: String,
    g: StableDiGraph<Node, Edge>,
    inputs: Vec<NodeIndex>,
    outputs: Vec<GraphOutput>,
    names: HashSet<String>,
    next_auto: usize,
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Self {
        Graph { name: name.into(), ..Default::default() }
    }

    /// The underlying petgraph (read-only; edit through the methods below).
    pub fn petgraph(&self) -> &StableDiGraph<Node, Edge> {
        &self.g
    }

    /// A value name not used yet in this graph, derived from `base`.
    pub fn unique_name(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "v" } else { base };
        if !self.names.contains(base) {
            return base.to_string();
        }
        loop {
            self.next_auto += 1;
            let cand = format!("{base}_{}", self.next_auto);
            if !self.names.contains(&cand) {
                return cand;
            }
        }
    }

    fn auto_name(&mut self) -> String {
        loop {
            self.next_auto += 1;
            let cand = format!("{}", self.next_auto);
            if !self.names.contains(&cand) {
                return cand;
            }
        }
    }

    /// Add a graph input (appended to the input list).
    pub fn add_input(&mut self, name: impl Into<String>, ty: TensorType) -> ValueRef {
        let index = self.inputs.len();
        let name = self.unique_name(&name.into());
        let n = self.add_raw(Op::Input { index }, &[], vec![ValueInfo { name, ty }]);
        self.inputs.push(n);
        ValueRef::new(n, 0)
    }

    /// Add a constant node; the tensor is shared with whoever else holds the Arc.
    pub fn add_constant(&mut self, name: impl Into<String>, t: impl Into<Arc<Tensor>>) -> ValueRef {
        let t: Arc<Tensor> = t.into();
        let name = self.unique_name(&name.into());
        let ty = t.ty();
        let n = self.add_raw(Op::Constant(t), &[], vec![ValueInfo { name, ty }]);
        ValueRef::new(n, 0)
    }

    /// Add an op on `inputs`; output types come from shape inference, names are generated.
    pub fn add_node(&mut self, op: Op, inputs: &[ValueRef]) -> Result<Vec<ValueRef>> {
        self.add_node_named(op, inputs, &[])
    }

    /// Like [`Graph::add_node`], naming the outputs after `names` (made unique; missing names
    /// are generated).
    pub fn add_node_named(&mut self, op: Op, inputs: &[ValueRef], names: &[&str]) -> Result<Vec<ValueRef>> {
        let in_tys: Vec<TensorType> = inputs.iter().map(|v| self.value_type(*v).clone()).collect();
        let out_tys = crate::ops::infer(&op, &in_tys)?;
        let outputs = out_tys
            .into_iter()
            .enumerate()
            .map(|(i, ty)| {
                let name = match names.get(i) {
                    Some(n) if !n.is_empty() => self.unique_name(n),
                    _ => self.auto_name(),
                };
                ValueInfo { name, ty }
            })
            .collect();
        let n = self.add_raw(op, inputs, outputs);
        Ok((0..self.g[n].outputs.len()).map(|p| ValueRef::new(n, p)).collect())
    }

    /// Add a node with given output infos, without inference (the parser uses this; the verifier
    /// checks it afterwards). Names must be unique; they are recorded as used.
    pub fn add_raw(&mut self, op: Op, inputs: &[ValueRef], outputs: Vec<ValueInfo>) -> NodeIndex {
        for o in &outputs {
            self.names.insert(o.name.clone());
        }
        let n = self.g.add_node(Node { op, outputs });
        for (i, v) in inputs.iter().enumerate() {
            self.g.add_edge(v.node, n, Edge { src_port: v.port, dst_port: i });
        }
        n
    }

    /// Register `inputs[i]` as graph input number `i` (used by the parser for input nodes built
    /// with `add_raw`).
    pub fn push_input_node(&mut self, n: NodeIndex) {
        self.inputs.push(n);
    }

    pub fn add_output(&mut self, name: impl Into<String>, value: ValueRef) {
        self.outputs.push(GraphOutput { name: name.into(), value });
    }

    pub fn set_outputs(&mut self, outputs: Vec<GraphOutput>) {
        self.outputs = outputs;
    }

    pub fn inputs(&self) -> &[NodeIndex] {
        &self.inputs
    }

    pub fn input_values(&self) -> Vec<ValueRef> {
        self.inputs.iter().map(|n| ValueRef::new(*n, 0)).collect()
    }

    pub fn outputs(&self) -> &[GraphOutput] {
        &self.outputs
    }

    pub fn node(&self, n: NodeIndex) -> &Node {
        &self.g[n]
    }

    pub fn node_mut(&mut self, n: NodeIndex) -> &mut Node {
        &mut self.g[n]
    }

    pub fn contains_node(&self, n: NodeIndex) -> bool {
        self.g.contains_node(n)
    }

    pub fn node_indices(&self) -> Vec<NodeIndex> {
        self.g.node_indices().collect()
    }

    pub fn node_count(&self) -> usize {
        self.g.node_count()
    }

    pub fn value_info(&self, v: ValueRef) -> &ValueInfo {
        &self.g[v.node].outputs[v.port]
    }

    pub fn value_type(&self, v: ValueRef) -> &TensorType {
        &self.value_info(v).ty
    }

    pub fn value_name(&self, v: ValueRef) -> &str {
        &self.value_info(v).name
    }

    /// The constant tensor behind `v`, if `v` is produced by a Constant node.
    pub fn constant_value(&self, v: ValueRef) -> Option<&Arc<Tensor>> {
        match &self.g[v.node].op {
            Op::Constant(t) => Some(t),
            _ => None,
        }
    }

    /// Inputs of node `n` ordered by port.
    pub fn inputs_of(&self, n: NodeIndex) -> Vec<ValueRef> {
        let mut es: Vec<(usize, ValueRef)> = self
            .g
            .edges_directed(n, Direction::Incoming)
            .map(|e| (e.weight().dst_port, ValueRef::new(e.source(), e.weight().src_port)))
            .collect();
        es.sort_by_key(|(p, _)| *p);
        es.into_iter().map(|(_, v)| v).collect()
    }

    /// Input ports of node `n` as recorded on the edges (sorted), for the verifier.
    pub fn input_ports(&self, n: NodeIndex) -> Vec<usize> {
        let mut ps: Vec<usize> = self.g.edges_directed(n, Direction::Incoming).map(|e| e.weight().dst_port).collect();
        ps.sort();
        ps
    }

    /// Every (consumer node, input port) reading `v`.
    pub fn users_of(&self, v: ValueRef) -> Vec<(NodeIndex, usize)> {
        let mut us: Vec<(NodeIndex, usize)> = self
            .g
            .edges_directed(v.node, Direction::Outgoing)
            .filter(|e| e.weight().src_port == v.port)
            .map(|e| (e.target(), e.weight().dst_port))
            .collect();
        us.sort();
        us
    }

    /// Whether `v` is returned as a graph output.
    pub fn is_graph_output(&self, v: ValueRef) -> bool {
        self.outputs.iter().any(|o| o.value == v)
    }

    /// Point every reader of `old` (nodes and graph outputs) at `new`.
    pub fn replace_all_uses(&mut self, old: ValueRef, new: ValueRef) {
        let edges: Vec<_> = self
            .g
            .edges_directed(old.node, Direction::Outgoing)
            .filter(|e| e.weight().src_port == old.port)
            .map(|e| (e.id(), e.target(), e.weight().dst_port))
            .collect();
        for (id, target, dst_port) in edges {
            self.g.remove_edge(id);
            self.g.add_edge(new.node, target, Edge { src_port: new.port, dst_port });
        }
        for o in &mut self.outputs {
            if o.value == old {
                o.value = new;
            }
        }
    }

    /// Rename value `v` to `name` (which must be free: check with `unique_name`). Returns false and
    /// changes nothing when the name is taken by another value.
    pub fn rename_value(&mut self, v: ValueRef, name: String) -> bool {
        if self.value_name(v) == name {
            return true;
        }
        if self.names.contains(&name) {
            return false;
        }
        let old = std::mem::replace(&mut self.g[v.node].outputs[v.port].name, name.clone());
        self.names.remove(&old);
        self.names.insert(name);
        true
    }

    /// Remove a node and its edges. Its output names become free again.
    pub fn remove_node(&mut self, n: NodeIndex) -> Option<Node> {
        let node = self.g.remove_node(n)?;
        for o in &node.outputs {
            self.names.remove(&o.name);
        }
        Some(node)
    }

    /// Nodes in a deterministic topological order (Kahn's algorithm, smallest index first).
    pub fn topo_order(&self) -> Result<Vec<NodeIndex>> {
        let mut indeg: HashMap<NodeIndex, usize> = HashMap::new();
        for n in self.g.node_indices() {
            indeg.insert(n, self.g.edges_directed(n, Direction::Incoming).count());
        }
        let mut ready: BinaryHeap<Reverse<NodeIndex>> =
            indeg.iter().filter(|(_, d)| **d == 0).map(|(n, _)| Reverse(*n)).collect();
        let mut order = Vec::with_capacity(indeg.len());
        while let Some(Reverse(n)) = ready.pop() {
            order.push(n);
            for e in self.g.edges_directed(n, Direction::Outgoing) {
                let d = indeg.get_mut(&e.target()).unwrap();
                *d -= 1;
                if *d == 0 {
                    ready.push(Reverse(e.target()));
                }
            }
        }
        if order.len() != self.g.node_count() {
            return Err(IrError::Verify("the graph has a cycle".into()));
        }
        Ok(order)
    }

    /// Count of each op name, graph inputs excluded (the histogram `kiln inspect` prints).
    pub fn op_histogram(&self) -> BTreeMap<String, usize> {
        let mut h = BTreeMap::new();
        for n in self.g.node_indices() {
            let op = &self.g[n].op;
            if !matches!(op, Op::Input { .. }) {
                *h.entry(op.name().to_string()).or_insert(0) += 1;
            }
        }
        h
    }

    /// A canonical form for equality: registered graph inputs first (in input order), then the
    /// other nodes in topological order; operands and graph outputs as (position, port). Inputs
    /// come first so that where `add_input` was called among other nodes does not matter (the
    /// text format lists inputs in the header).
    #[allow(clippy::type_complexity)]
    fn canonical(&self) -> Option<(Vec<(&Node, Vec<(usize, usize)>)>, Vec<(&str, usize, usize)>)> {
        let topo = self.topo_order().ok()?;
        let mut order: Vec<NodeIndex> = self.inputs.iter().copied().filter(|n| self.g.contains_node(*n)).collect();
        let registered: HashSet<NodeIndex> = order.iter().copied().collect();
        order.extend(topo.into_iter().filter(|n| !registered.contains(n)));
        let pos: HashMap<NodeIndex, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let nodes = order
            .iter()
            .map(|n| {
                let ins = self.inputs_of(*n).iter().map(|v| (pos[&v.node], v.port)).collect();
                (&self.g[*n], ins)
            })
            .collect();
        let outs = self
            .outputs
            .iter()
            .map(|o| Some((o.name.as_str(), *pos.get(&o.value.node)?, o.value.port)))
            .collect::<Option<Vec<_>>>()?;
        Some((nodes, outs))
    }
}

/// Structural equality: same name, same nodes (ops, attributes, constants, output names and
/// types) connected the same way, same inputs and outputs. Node ids do not matter, but the
/// relative order of independent nodes does (both sides are compared in topological order).
impl PartialEq for Graph {
    fn eq(&self, other: &Self) -> bool {
        if self.name != other.name || self.inputs.len() != other.inputs.len() {
            return false;
        }
        match (self.canonical(), other.canonical()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}
