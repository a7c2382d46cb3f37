//! Graph -> text. Inputs go in the header, then one line per node in `Graph::topo_order()`,
//! then `return`. Never panics, even on a graph the verifier would reject.

use super::attrs::print_attrs;
use super::num::{fmt_bf16, fmt_f16, fmt_f32, fmt_f64};
use super::{name, quote, PrintOptions};
use crate::graph::{Graph, ValueRef};
use crate::op::Op;
use crate::tensor::Tensor;
use petgraph::stable_graph::NodeIndex;
use std::fmt::Write;

/// The full text of `graph` (every constant element; parses back to an equal graph).
pub fn print(graph: &Graph) -> String {
    print_with(graph, &PrintOptions::default())
}

pub fn print_with(graph: &Graph, opts: &PrintOptions) -> String {
    let mut s = String::new();
    let params: Vec<String> = graph
        .inputs()
        .iter()
        .map(|n| match value(graph, ValueRef::new(*n, 0)) {
            Some((v, ty)) => format!("{v}: {ty}"),
            None => "%\"<missing input>\": bool[]".into(),
        })
        .collect();
    let _ = writeln!(s, "graph {}({}) {{", name('@', &graph.name), params.join(", "));
    let order: Vec<NodeIndex> = match graph.topo_order() {
        Ok(o) => o,
        Err(_) => {
            s.push_str("  // error: the graph has a cycle; nodes in id order\n");
            graph.node_indices()
        }
    };
    for n in order {
        let node = graph.node(n);
        if matches!(node.op, Op::Input { .. }) {
            continue;
        }
        let outs: Vec<String> = node.outputs.iter().map(|o| format!("{}: {}", name('%', &o.name), o.ty)).collect();
        let _ = write!(s, "  {} = {}", outs.join(", "), node.op.name());
        match &node.op {
            Op::Constant(t) => {
                s.push(' ');
                s.push_str(&constant(t, opts));
            }
            op => {
                let args: Vec<String> = graph
                    .inputs_of(n)
                    .iter()
                    .map(|v| value(graph, *v).map_or("%\"<dangling>\"".to_string(), |(v, _)| v))
                    .collect();
                let _ = write!(s, "({})", args.join(", "));
                let attrs = print_attrs(op);
                if !attrs.is_empty() {
                    let kv: Vec<String> = attrs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    let _ = write!(s, " {{{}}}", kv.join(", "));
                }
            }
        }
        s.push('\n');
    }
    let rets: Vec<String> = graph
        .outputs()
        .iter()
        .map(|o| match graph.contains_node(o.value.node).then(|| graph.node(o.value.node).outputs.get(o.value.port)) {
            Some(Some(info)) if info.name == o.name => name('%', &info.name),
            Some(Some(info)) => format!("{} as {}", name('%', &info.name), quote(&o.name)),
            _ => format!("%\"<dangling>\" as {}", quote(&o.name)),
        })
        .collect();
    s.push_str("  return");
    if !rets.is_empty() {
        s.push(' ');
        s.push_str(&rets.join(", "));
    }
    s.push_str("\n}\n");
    s
}

/// `%name` and type of a value, if it exists.
fn value(graph: &Graph, v: ValueRef) -> Option<(String, String)> {
    if !graph.contains_node(v.node) {
        return None;
    }
    let info = graph.node(v.node).outputs.get(v.port)?;
    Some((name('%', &info.name), info.ty.to_string()))
}

/// `splat<v>` when there are 2+ elements, all bitwise equal; else `dense<elided N elements>`
/// when over the option's limit; else `dense<[v, ...]>` in row-major order.
fn constant(t: &Tensor, opts: &PrintOptions) -> String {
    let n = t.len();
    let bytes = t.to_le_bytes();
    let w = t.dtype().size_bytes();
    if n >= 2 && bytes.chunks_exact(w).all(|c| c == &bytes[..w]) {
        return format!("splat<{}>", elements(t, 1)[0]);
    }
    if opts.elide_constants_over.is_some_and(|m| n > m) {
        return format!("dense<elided {n} elements>");
    }
    format!("dense<[{}]>", elements(t, n).join(", "))
}

/// The first `k` elements, row-major, spelled bit-exactly.
fn elements(t: &Tensor, k: usize) -> Vec<String> {
    match t {
        Tensor::F32(a) => a.iter().take(k).map(|v| fmt_f32(*v)).collect(),
        Tensor::F64(a) => a.iter().take(k).map(|v| fmt_f64(*v)).collect(),
        Tensor::I32(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::I64(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::Bool(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::F16(a) => a.iter().take(k).map(|v| fmt_f16(*v)).collect(),
        Tensor::BF16(a) => a.iter().take(k).map(|v| fmt_bf16(*v)).collect(),
        Tensor::I8(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::I16(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::U8(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::U16(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::U32(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
        Tensor::U64(a) => a.iter().take(k).map(|v| v.to_string()).collect(),
    }
}
