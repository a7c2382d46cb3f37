//! The verifier: structural and type checks on a graph.
//!
//! Checks: no cycle; every node's input ports are exactly 0..n with one edge each (no dangling or
//! doubled operand); every edge's source port exists; re-inferred output types equal the recorded
//! ones; Input nodes are registered in order; constant node types match their tensors; value names
//! are unique; graph outputs name existing values.

use crate::error::{IrError, Result};
use crate::graph::Graph;
use crate::op::Op;
use std::collections::HashSet;

pub fn verify(graph: &Graph) -> Result<()> {
    let order = graph.topo_order()?;
    let mut names = HashSet::new();
    for (i, n) in graph.inputs().iter().enumerate() {
        match graph.contains_node(*n).then(|| &graph.node(*n).op) {
            Some(Op::Input { index }) if *index == i => {}
            _ => return Err(IrError::Verify(format!("graph input {i} is not an Input node with index {i}"))),
        }
    }
    for n in order {
        let node = graph.node(n);
        let what = || format!("{} producing '{}'", node.op.name(), node.outputs.first().map_or("?", |o| &o.name));
        for o in &node.outputs {
            if !names.insert(o.name.clone()) {
                return Err(IrError::Verify(format!("value name '{}' is defined twice", o.name)));
            }
        }
        let ports = graph.input_ports(n);
        if ports.iter().enumerate().any(|(i, p)| i != *p) {
            return Err(IrError::Verify(format!("{}: operand ports {:?} are not 0..{}", what(), ports, ports.len())));
        }
        let ins = graph.inputs_of(n);
        for v in &ins {
            if v.port >= graph.node(v.node).outputs.len() {
                return Err(IrError::Verify(format!(
                    "{}: reads output {} of a node with {} outputs",
                    what(),
                    v.port,
                    graph.node(v.node).outputs.len()
                )));
            }
        }
        match &node.op {
            Op::Input { index } => {
                if graph.inputs().get(*index) != Some(&n) || node.outputs.len() != 1 {
                    return Err(IrError::Verify(format!("Input {index} is not registered as graph input {index}")));
                }
            }
            Op::Constant(t) => {
                if node.outputs.len() != 1 || node.outputs[0].ty != t.ty() {
                    return Err(IrError::Verify(format!(
                        "{}: declared type does not match the tensor {}",
                        what(),
                        t.ty()
                    )));
                }
            }
            op => {
                let tys: Vec<_> = ins.iter().map(|v| graph.value_type(*v).clone()).collect();
                let inferred = crate::ops::infer(op, &tys).map_err(|e| IrError::Verify(format!("{}: {e}", what())))?;
                let recorded: Vec<_> = node.outputs.iter().map(|o| o.ty.clone()).collect();
                if inferred != recorded {
                    let show = |v: &[crate::TensorType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
                    return Err(IrError::Verify(format!(
                        "{}: recorded types ({}) differ from inferred ({})",
                        what(),
                        show(&recorded),
                        show(&inferred)
                    )));
                }
            }
        }
    }
    for o in graph.outputs() {
        if !graph.contains_node(o.value.node) || o.value.port >= graph.node(o.value.node).outputs.len() {
            return Err(IrError::Verify(format!("graph output '{}' names no value", o.name)));
        }
    }
    Ok(())
}
