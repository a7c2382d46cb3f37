//! What an op importer sees: the node (attributes with typed getters), its input values (and
//! whether they are constants), the opset, and `emit`, which adds IR ops to the graph and folds
//! them into constants when every input is constant.

use crate::error::{ImportError, Result};
use crate::proto::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};
use crate::subgraph::Env;
use kiln_ir::{Graph, Op, Tensor, TensorType, ValueRef};
use std::collections::HashMap;
use std::sync::Arc;

/// Results of folding with more elements than this stay ops (weights are not duplicated).
pub const FOLD_LIMIT: usize = 65536;

/// One op importer: adds the node's IR ops and returns its outputs in ONNX output order. It may
/// return fewer values than the node declares; the driver rejects any missing one that is used.
pub type Importer = fn(&mut NodeCtx<'_>) -> Result<Vec<ValueRef>>;

pub struct NodeCtx<'a> {
    /// Opset version of the default domain.
    pub opset: i64,
    pub node: &'a NodeProto,
    pub graph: &'a mut Graph,
    /// One entry per ONNX input; `None` for an omitted optional input (empty name).
    pub inputs: Vec<Option<ValueRef>>,
    /// Outer-scope values read by this node's subgraphs (If/Loop/Scan bodies), by ONNX name;
    /// empty for a node without graph attributes.
    pub captured: HashMap<String, ValueRef>,
    /// Opset, op table and model folder, for importing subgraphs.
    pub env: Env<'a>,
}

impl<'a> NodeCtx<'a> {
    // ---- errors -------------------------------------------------------------------------

    /// Where this node is, for error messages: `node 'conv1' (Conv)`.
    pub fn where_(&self) -> String {
        describe_node(self.node)
    }

    /// An error about this node.
    pub fn err(&self, msg: impl std::fmt::Display) -> ImportError {
        ImportError::new(format!("{}: {msg}", self.where_()))
    }

    // ---- inputs -------------------------------------------------------------------------

    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Input `i`, which the op requires.
    pub fn input(&self, i: usize) -> Result<ValueRef> {
        self.opt_input(i).ok_or_else(|| self.err(format!("input {i} is required but missing")))
    }

    /// Input `i` if present (optional inputs may be omitted or given an empty name).
    pub fn opt_input(&self, i: usize) -> Option<ValueRef> {
        self.inputs.get(i).copied().flatten()
    }

    /// All present inputs, in order.
    pub fn present_inputs(&self) -> Vec<ValueRef> {
        self.inputs.iter().flatten().copied().collect()
    }

    pub fn ty(&self, v: ValueRef) -> TensorType {
        self.graph.value_type(v).clone()
    }

    pub fn rank(&self, v: ValueRef) -> usize {
        self.graph.value_type(v).rank()
    }

    pub fn shape(&self, v: ValueRef) -> Vec<usize> {
        self.graph.value_type(v).shape.clone()
    }

    /// The tensor behind `v` when it is a constant.
    pub fn constant(&self, v: ValueRef) -> Option<Arc<Tensor>> {
        self.graph.constant_value(v).cloned()
    }

    /// Input `i` as integers, for shape-like operands. `None` when the input is absent; an
    /// error when it is present but not constant after folding.
    pub fn const_ints_input(&self, i: usize, what: &str) -> Result<Option<Vec<i64>>> {
        let Some(v) = self.opt_input(i) else {
            return Ok(None);
        };
        let name = self.node.input.get(i).map(String::as_str).unwrap_or("");
        let Some(t) = self.constant(v) else {
            return Err(self.err(format!("{what} (input {i} '{name}') needs a constant shape operand")));
        };
        t.to_i64_vec().map(Some).map_err(|e| self.err(format!("{what} (input {i} '{name}'): {e}")))
    }

    // ---- attributes ---------------------------------------------------------------------

    pub fn attr(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }

    fn typed(&self, name: &str, want: AttributeType) -> Result<Option<&'a AttributeProto>> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        let ty = a.r#type();
        if ty != want && ty != AttributeType::Undefined {
            return Err(self.err(format!(
                "attribute '{name}' is {}, expected {}",
                ty.as_str_name(),
                want.as_str_name()
            )));
        }
        Ok(Some(a))
    }

    pub fn attr_int_opt(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.typed(name, AttributeType::Int)?.map(|a| a.i()))
    }

    pub fn attr_int(&self, name: &str, default: i64) -> Result<i64> {
        Ok(self.attr_int_opt(name)?.unwrap_or(default))
    }

    pub fn attr_float(&self, name: &str, default: f32) -> Result<f32> {
        Ok(self.typed(name, AttributeType::Float)?.map(|a| a.f()).unwrap_or(default))
    }

    pub fn attr_ints(&self, name: &str) -> Result<Option<Vec<i64>>> {
        Ok(self.typed(name, AttributeType::Ints)?.map(|a| a.ints.clone()))
    }

    pub fn attr_floats(&self, name: &str) -> Result<Option<Vec<f32>>> {
        Ok(self.typed(name, AttributeType::Floats)?.map(|a| a.floats.clone()))
    }

    pub fn attr_string(&self, name: &str, default: &str) -> Result<String> {
        Ok(match self.typed(name, AttributeType::String)? {
            Some(a) => String::from_utf8_lossy(a.s()).into_owned(),
            None => default.to_string(),
        })
    }

    pub fn attr_tensor(&self, name: &str) -> Result<Option<&'a TensorProto>> {
        let a = self.typed(name, AttributeType::Tensor)?;
        Ok(a.and_then(|a| a.t.as_ref()))
    }

    /// An int attribute that must be 0 or 1.
    pub fn attr_bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.attr_int(name, default as i64)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.err(format!("attribute '{name}' must be 0 or 1, got {v}"))),
        }
    }

    // ---- axes -----------------------------------------------------------------------------

    /// Normalize a possibly negative axis against `rank` (valid range `-rank..rank`).
    pub fn axis(&self, axis: i64, rank: usize, what: &str) -> Result<usize> {
        let r = rank as i64;
        let a = if axis < 0 { axis + r } else { axis };
        if a < 0 || a >= r {
            return Err(self.err(format!("{what} {axis} is out of range for rank {rank}")));
        }
        Ok(a as usize)
    }

    /// Normalize a list of axes; duplicates are an error.
    pub fn axes(&self, axes: &[i64], rank: usize, what: &str) -> Result<Vec<usize>> {
        let mut out = Vec::with_capacity(axes.len());
        for a in axes {
            let n = self.axis(*a, rank, what)?;
            if out.contains(&n) {
                return Err(self.err(format!("{what} {axes:?} repeat axis {n}")));
            }
            out.push(n);
        }
        Ok(out)
    }

    // ---- output names and emitting ops ----------------------------------------------------

    /// ONNX name of output `i` (empty when the node does not name it).
    pub fn out_name(&self, i: usize) -> String {
        self.node.output.get(i).cloned().unwrap_or_default()
    }

    /// A name for an intermediate value of this node: `{output 0}/{suffix}`.
    pub fn tmp_name(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.out_name(0))
    }

    /// Add `op` on `inputs` with output names `names`. When every input is a constant and the
    /// results are small, the op is evaluated now and its results are added as constants.
    pub fn emit(&mut self, op: Op, inputs: &[ValueRef], names: &[String]) -> Result<Vec<ValueRef>> {
        let in_tys: Vec<TensorType> = inputs.iter().map(|v| self.ty(*v)).collect();
        let out_tys = kiln_ir::ops::infer(&op, &in_tys).map_err(|e| self.err(e))?;
        let consts: Option<Vec<Arc<Tensor>>> = inputs.iter().map(|v| self.constant(*v)).collect();
        let small = out_tys.iter().map(|t| t.num_elements()).sum::<usize>() <= FOLD_LIMIT;
        if let (Some(consts), true, false) = (consts, small, inputs.is_empty()) {
            let refs: Vec<&Tensor> = consts.iter().map(|t| t.as_ref()).collect();
            let outs = kiln_ir::ops::eval(&op, &refs).map_err(|e| self.err(format!("folding {}: {e}", op.name())))?;
            let mut vals = Vec::with_capacity(outs.len());
            for (i, (t, want)) in outs.into_iter().zip(&out_tys).enumerate() {
                if &t.ty() != want {
                    return Err(self.err(format!(
                        "folding {} produced {} where {} was inferred",
                        op.name(),
                        t.ty(),
                        want
                    )));
                }
                let name = names.get(i).cloned().unwrap_or_default();
                vals.push(self.graph.add_constant(name, t));
            }
            return Ok(vals);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.graph.add_node_named(op, inputs, &names).map_err(|e| self.err(e))
    }

    /// Emit a one-output op named after the node's output 0.
    pub fn emit_out(&mut self, op: Op, inputs: &[ValueRef]) -> Result<ValueRef> {
        let name = self.out_name(0);
        self.emit_one(op, inputs, name)
    }

    /// Emit a one-output intermediate op named `{output 0}/{suffix}`.
    pub fn emit_tmp(&mut self, op: Op, inputs: &[ValueRef], suffix: &str) -> Result<ValueRef> {
        let name = self.tmp_name(suffix);
        self.emit_one(op, inputs, name)
    }

    fn emit_one(&mut self, op: Op, inputs: &[ValueRef], name: String) -> Result<ValueRef> {
        let what = op.name();
        let outs = self.emit(op, inputs, &[name])?;
        match outs.as_slice() {
            [v] => Ok(*v),
            _ => Err(self.err(format!("{what} produced {} outputs, 1 expected", outs.len()))),
        }
    }

    /// Add a constant named `name`.
    pub fn add_constant(&mut self, name: String, t: Tensor) -> ValueRef {
        self.graph.add_constant(name, t)
    }

    /// `v` reshaped to `shape` (no op when it already has that shape).
    pub fn reshape(&mut self, v: ValueRef, shape: Vec<usize>, name: String) -> Result<ValueRef> {
        if self.shape(v) == shape {
            return Ok(v);
        }
        self.emit_one(Op::Reshape { shape }, &[v], name)
    }
}

/// `node 'name' (OpType)`, or `node (OpType) producing 'y'` for an unnamed node.
pub fn describe_node(node: &NodeProto) -> String {
    let op = node.op_type();
    if !node.name().is_empty() {
        format!("node '{}' ({op})", node.name())
    } else {
        match node.output.first() {
            Some(o) => format!("node ({op}) producing '{o}'"),
            None => format!("node ({op})"),
        }
    }
}
