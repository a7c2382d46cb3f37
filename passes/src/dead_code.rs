//! Dead-code elimination: removes every node whose outputs no graph output depends on.
//!
//! Identity relied on: a node's outputs are only observable through its readers, so a node with no
//! path to a graph output can go. Graph inputs stay (they are the model's signature) even if unused.

use crate::{Pass, PassContext, PassError};
use kiln_ir::{Graph, NodeIndex, Op};
use std::collections::HashSet;

pub struct DeadCode;

impl Pass for DeadCode {
    fn name(&self) -> &'static str {
        "dead-code"
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let mut live: HashSet<NodeIndex> = HashSet::new();
        let mut stack: Vec<NodeIndex> = graph.outputs().iter().map(|o| o.value.node).collect();
        while let Some(n) = stack.pop() {
            if live.insert(n) {
                stack.extend(graph.inputs_of(n).into_iter().map(|v| v.node));
            }
        }
        let dead: Vec<NodeIndex> = graph
            .node_indices()
            .into_iter()
            .filter(|n| !live.contains(n) && !matches!(graph.node(*n).op, Op::Input { .. }))
            .collect();
        for n in &dead {
            graph.remove_node(*n);
        }
        Ok(!dead.is_empty())
    }
}
