//! If: a condition known at import time (after folding) imports only the taken branch inline;
//! a runtime condition imports both branches and selects each output with
//! `Where(cond, then, else)`, which needs both branches' outputs to have one type.
//! (Both branches then run: a branch must be safe to evaluate when not taken.)

use crate::context::NodeCtx;
use crate::error::Result;
use crate::subgraph::import_subgraph;
use kiln_ir::{DType, Op, ValueRef};

pub fn if_(ctx: &mut NodeCtx<'_>) -> Result<Vec<ValueRef>> {
    let node = ctx.node;
    let cond = ctx.input(0)?;
    let cty = ctx.ty(cond);
    if cty.dtype != DType::Bool || cty.num_elements() != 1 {
        return Err(ctx.err(format!("the condition must be one bool element, got {cty}")));
    }
    let branch = |name: &str| {
        let a = node.attribute.iter().find(|a| a.name() == name);
        a.and_then(|a| a.g.as_ref()).ok_or_else(|| ctx.err(format!("graph attribute '{name}' is missing")))
    };
    let (then_g, else_g) = (branch("then_branch")?, branch("else_branch")?);
    for (g, name) in [(then_g, "then_branch"), (else_g, "else_branch")] {
        if g.output.len() != node.output.len() {
            return Err(ctx.err(format!("{name} has {} outputs, the node {}", g.output.len(), node.output.len())));
        }
    }
    let label = scope_label(ctx);
    if let Some(c) = ctx.constant(cond) {
        let taken = c.to_i64_vec().map_err(|e| ctx.err(e))?.first().copied().unwrap_or(0) != 0;
        let (g, attr, sub) = if taken { (then_g, "then_branch", "then") } else { (else_g, "else_branch", "else") };
        return import_subgraph(ctx, g, attr, &[], &format!("{label}/{sub}"));
    }
    let then_v = import_subgraph(ctx, then_g, "then_branch", &[], &format!("{label}/then"))?;
    let else_v = import_subgraph(ctx, else_g, "else_branch", &[], &format!("{label}/else"))?;
    let c = ctx.reshape(cond, vec![], format!("{label}/cond"))?;
    let mut outs = Vec::with_capacity(then_v.len());
    for (i, (t, e)) in then_v.into_iter().zip(else_v).enumerate() {
        let (tt, et) = (ctx.ty(t), ctx.ty(e));
        if tt != et {
            return Err(ctx.err(format!(
                "output {i}: then_branch gives {tt} and else_branch gives {et}; with a condition known only \
                 at run time both branches must give the same type"
            )));
        }
        let name = ctx.out_name(i);
        outs.push(ctx.emit(Op::Where, &[c, t, e], &[name])?[0]);
    }
    Ok(outs)
}

/// The name scope for a control-flow node's subgraph values: its (already scoped) node name,
/// else its first output's name.
pub fn scope_label(ctx: &NodeCtx<'_>) -> String {
    match ctx.node.name() {
        "" => ctx.out_name(0),
        n => n.to_string(),
    }
}
