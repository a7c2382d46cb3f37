//! Constant folding: a node whose inputs are all constants is evaluated once at compile time with
//! the reference interpreter's op evaluation and replaced by a constant.
//!
//! Identity relied on: ops are pure functions of their inputs, so evaluating one at compile time gives
//! the same values as at run time. Results larger than [`MAX_FOLDED_ELEMENTS`] stay as ops (folding an
//! Expand of a scalar into a huge tensor would bloat the artifact). The folded constant keeps the
//! value's name so graph outputs and later passes see the same names.

use crate::{Pass, PassContext, PassError};
use kiln_ir::{Graph, NodeIndex, Op, Tensor, ValueRef};
use std::sync::Arc;

pub const MAX_FOLDED_ELEMENTS: usize = 1 << 24;

pub struct ConstantFold;

impl Pass for ConstantFold {
    fn name(&self) -> &'static str {
        "constant-fold"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order =
            graph.topo_order().map_err(|e| PassError::Failed { pass: self.name().into(), msg: e.to_string() })?;
        let mut changed = false;
        for n in order {
            let node = graph.node(n);
            if matches!(node.op, Op::Input { .. } | Op::Constant(_)) {
                continue;
            }
            if node.outputs.iter().any(|o| o.ty.num_elements() > MAX_FOLDED_ELEMENTS) {
                continue;
            }
            let ins = graph.inputs_of(n);
            let Some(consts) = ins.iter().map(|v| graph.constant_value(*v).cloned()).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let refs: Vec<&Tensor> = consts.iter().map(|t| t.as_ref()).collect();
            let results = kiln_ir::ops::eval(&node.op, &refs).map_err(|e| PassError::Failed {
                pass: self.name().into(),
                msg: format!("evaluating {} of '{}': {e}", node.op.name(), node.outputs[0].name),
            })?;
            replace_with_constants(graph, n, results);
            changed = true;
        }
        Ok(changed)
    }
}

/// Replace node `n` by one constant per output, rewiring every reader; the constants take over the
/// outputs' names.
fn replace_with_constants(graph: &mut Graph, n: NodeIndex, values: Vec<Tensor>) {
    let names: Vec<String> = graph.node(n).outputs.iter().map(|o| o.name.clone()).collect();
    let consts: Vec<ValueRef> = values
        .into_iter()
        .enumerate()
        .map(|(p, t)| {
            let c = graph.add_constant(format!("{}.folded", names[p]), Arc::new(t));
            graph.replace_all_uses(ValueRef::new(n, p), c);
            c
        })
        .collect();
    graph.remove_node(n);
    for (c, name) in consts.into_iter().zip(names) {
        graph.rename_value(c, name);
    }
}
