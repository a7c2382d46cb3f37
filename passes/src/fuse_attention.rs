//! Scaled dot-product attention as one op: `MatMul(q, kt)`, an optional scale (`Mul` or `Div`
//! by a one-element constant), an optional mask (`Add` of a float mask, or `Where(mask, scores,
//! c)` with a one-element constant `c`), `Softmax` over the last axis and `MatMul(p, v)` become
//! `Attention { scale, mask }(q, kt, v[, mask])`. The codegen then runs it flash-attention
//! style: per block of queries, blocks of keys with an online (running max and sum) softmax, so
//! the `[S, T]` score matrix is never written to memory and its buffers leave the plan.
//!
//! Applies when every intermediate value has one reader and is not a graph output, q, kt and v
//! are f32 with the same leading dims (no broadcasting), and the mask's last dim is T. A
//! division by `c` becomes the scale `1/c` (one rounding apart from dividing).

use crate::rewrite::{add_op, binary, scalar, single_user, swap_in};
use crate::{Pass, PassContext, PassError};
use kiln_ir::{AttentionMask, BinaryOp, DType, Graph, NodeIndex, Op, ValueRef};

const NAME: &str = "fuse-attention";

pub struct FuseAttention;

impl Pass for FuseAttention {
    fn name(&self) -> &'static str {
        NAME
    }

    fn run(&self, graph: &mut Graph, _cx: &mut PassContext) -> Result<bool, PassError> {
        let order = graph.topo_order().map_err(|e| PassError::ir(NAME, e))?;
        let mut changed = false;
        for n in order {
            if !graph.contains_node(n) {
                continue;
            }
            let Some(m) = match_attention(graph, n) else { continue };
            let out = ValueRef::new(m.pv, 0);
            let name = graph.value_name(out).to_string();
            let ins: Vec<ValueRef> = [m.q, m.kt, m.v].into_iter().chain(m.mask_value).collect();
            let att = add_op(graph, NAME, Op::Attention { scale: m.scale, mask: m.mask }, &ins, &name)?;
            swap_in(graph, out, att, &m.dead);
            changed = true;
        }
        Ok(changed)
    }
}

/// One matched attention: its operands, attributes, and the nodes it replaces (consumers first).
struct Match {
    q: ValueRef,
    kt: ValueRef,
    v: ValueRef,
    mask_value: Option<ValueRef>,
    scale: f32,
    mask: AttentionMask,
    pv: NodeIndex,
    dead: Vec<NodeIndex>,
}

/// `n` as the softmax of an attention block.
fn match_attention(g: &Graph, n: NodeIndex) -> Option<Match> {
    let Op::Softmax { axis } = g.node(n).op else { return None };
    let sm = ValueRef::new(n, 0);
    let ty = g.value_type(sm);
    if ty.dtype != DType::F32 || axis + 1 != ty.rank() || ty.rank() < 2 {
        return None;
    }
    let (pv, port) = single_user(g, sm)?;
    if port != 0 || g.node(pv).op != Op::MatMul {
        return None;
    }
    let v = g.inputs_of(pv)[1];
    let mut dead = vec![pv, n];
    // Mask, then scale, then the scores' MatMul.
    let mut x = g.inputs_of(n)[0];
    let (mut mask, mut mask_value) = (AttentionMask::None, None);
    if let Op::Where = g.node(x.node).op {
        let ins = g.inputs_of(x.node);
        let fill = scalar(g, ins[2])?;
        (mask, mask_value) = (AttentionMask::Where { fill: fill as f32 }, Some(ins[0]));
        dead.push(x.node);
        x = one_reader(g, ins[1])?;
    } else if let Some((a, b)) = binary(g, x, BinaryOp::Add) {
        let (s, m) = if is_scores(g, a) { (a, b) } else { (b, a) };
        (mask, mask_value) = (AttentionMask::Add, Some(m));
        dead.push(x.node);
        x = one_reader(g, s)?;
    }
    let mut scale = 1.0f32;
    if let Some((a, b)) = binary(g, x, BinaryOp::Mul) {
        let (s, c) = if scalar(g, b).is_some() { (a, b) } else { (b, a) };
        scale = scalar(g, c)? as f32;
        dead.push(x.node);
        x = one_reader(g, s)?;
    } else if let Some((a, b)) = binary(g, x, BinaryOp::Div) {
        scale = (1.0 / scalar(g, b)?) as f32;
        dead.push(x.node);
        x = one_reader(g, a)?;
    }
    if g.node(x.node).op != Op::MatMul {
        return None;
    }
    let mm = g.inputs_of(x.node);
    let (q, kt) = (mm[0], mm[1]);
    dead.push(x.node);
    // Every intermediate has the shape of the scores (no broadcast widened it) and one reader.
    let scores = g.value_type(x).clone();
    let inner_same = dead[1..].iter().all(|d| g.value_type(ValueRef::new(*d, 0)).shape == scores.shape);
    let inner_single = dead[1..].iter().all(|d| single_user(g, ValueRef::new(*d, 0)).is_some());
    let types = [q, kt, v].map(|x| g.value_type(x).clone());
    let r = types[0].rank();
    let same_lead =
        types.iter().all(|t| t.dtype == DType::F32 && t.rank() == r && t.shape[..r - 2] == types[0].shape[..r - 2]);
    if !inner_same || !inner_single || !same_lead {
        return None;
    }
    let op = Op::Attention { scale, mask };
    let mut in_tys = types.to_vec();
    in_tys.extend(mask_value.map(|m| g.value_type(m).clone()));
    // The op's own checks (mask last dim T, broadcasting) decide the rest.
    kiln_ir::ops::infer(&op, &in_tys).ok()?;
    Some(Match { q, kt, v, mask_value, scale, mask, pv, dead })
}

/// `v` when it has one reader and is not a graph output.
fn one_reader(g: &Graph, v: ValueRef) -> Option<ValueRef> {
    single_user(g, v).map(|_| v)
}

/// Whether `v` is the scores side of a mask Add: a MatMul, possibly scaled.
fn is_scores(g: &Graph, v: ValueRef) -> bool {
    match g.node(v.node).op {
        Op::MatMul => true,
        Op::Binary(BinaryOp::Mul | BinaryOp::Div) => {
            g.inputs_of(v.node).iter().any(|x| g.node(x.node).op == Op::MatMul)
        }
        _ => false,
    }
}
