//! Common-subexpression elimination: two nodes with the same op, the same attributes and the same
//! operands compute the same values (ops are pure), so the later one's readers move to the
//! earlier one. Constants are merged when they hold the same bits: small ones (folded shape
//! arithmetic, scalars) by value, large ones only when they share the same stored tensor.

use crate::{Pass, PassContext, PassError};
use kiln_ir::{Graph, Op, ValueRef};
use std::collections::HashMap;
use std::sync::Arc;

pub struct Cse;

const NAME: &str = "cse";

/// Constants up to this many elements are compared by value.
const SMALL_CONSTANT: usize = 64;

impl Pass for Cse {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut seen: HashMap<String, kiln_ir::NodeIndex> = HashMap::new();
        let mut changed = false;
        for n in order {
            let node = graph.node(n);
            let key = match &node.op {
                Op::Input { .. } => continue,
                Op::Constant(t) if t.len() <= SMALL_CONSTANT => {
                    format!("const {:?} {:?} {:?}", t.dtype(), t.shape(), t.to_le_bytes())
                }
                Op::Constant(t) => format!("const@{:p}", Arc::as_ptr(t)),
                op => format!("{op:?} {:?}", graph.inputs_of(n)),
            };
            match seen.get(&key) {
                Some(&first) if graph.node(first).outputs.len() == node.outputs.len() => {
                    for p in 0..node.outputs.len() {
                        graph.replace_all_uses(ValueRef::new(n, p), ValueRef::new(first, p));
                    }
                    graph.remove_node(n);
                    changed = true;
                }
                _ => {
                    seen.insert(key, n);
                }
            }
        }
        Ok(changed)
    }
}
