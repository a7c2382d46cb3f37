//! The reference interpreter: evaluates any verified graph on concrete inputs, op by op in
//! topological order, with each op's plain `ops::*::eval`. Slow and obviously correct; it is the
//! oracle for pass equivalence checks and compiled-code tests.

use crate::error::{IrError, Result};
use crate::graph::{Graph, ValueRef};
use crate::op::Op;
use crate::tensor::Tensor;
use std::collections::HashMap;

/// Evaluate `graph` on `inputs` (in graph-input order); returns the graph outputs in order.
pub fn evaluate(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    if inputs.len() != graph.inputs().len() {
        return Err(IrError::Eval(format!(
            "graph '{}' takes {} inputs, got {}",
            graph.name,
            graph.inputs().len(),
            inputs.len()
        )));
    }
    let mut values: HashMap<ValueRef, Tensor> = HashMap::new();
    for n in graph.topo_order()? {
        let node = graph.node(n);
        let outs = match &node.op {
            Op::Input { index } => {
                let t = &inputs[*index];
                let want = &node.outputs[0].ty;
                if &t.ty() != want {
                    return Err(IrError::Eval(format!(
                        "input '{}' expects {}, got {}",
                        node.outputs[0].name,
                        want,
                        t.ty()
                    )));
                }
                vec![t.clone()]
            }
            op => {
                let ins: Vec<&Tensor> = graph.inputs_of(n).iter().map(|v| &values[v]).collect();
                let outs = crate::ops::eval(op, &ins)?;
                for (o, info) in outs.iter().zip(&node.outputs) {
                    if o.ty() != info.ty {
                        return Err(IrError::Eval(format!(
                            "{} produced {} for '{}', which is typed {}",
                            op.name(),
                            o.ty(),
                            info.name,
                            info.ty
                        )));
                    }
                }
                outs
            }
        };
        for (p, t) in outs.into_iter().enumerate() {
            values.insert(ValueRef::new(n, p), t);
        }
    }
    graph
        .outputs()
        .iter()
        .map(|o| {
            values
                .get(&o.value)
                .cloned()
                .ok_or_else(|| IrError::Eval(format!("output '{}' was never computed", o.name)))
        })
        .collect()
}
