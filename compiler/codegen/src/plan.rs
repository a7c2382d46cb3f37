//! The execution plan: which buffer holds each value, one kernel step per op, and the arena
//! layout of intermediates.
//!
//! - Graph inputs/outputs are the caller's buffers; used constants become constant buffers.
//! - Reshape needs no kernel when its result is not a graph output: it aliases its input's buffer
//!   (kernels never write their inputs, so aliasing a graph input or constant is safe).
//! - A graph output is written in place by the kernel producing it when that is a real kernel;
//!   an output that is a graph input, a constant, an aliasing Reshape result or a value already
//!   returned gets a copy step at the end of the schedule.
//! - A tiled product and the elementwise ops after it (`crate::fusion`) are one step; the values
//!   between them get no buffer.
//! - Intermediates get arena slots by liveness: a slot is taken at its producer's step and freed
//!   after its last reader's step; first-fit reuse, offsets multiples of `BUFFER_ALIGN`.
//! - A Concat whose inputs are each one contiguous block of its output (every dim before the
//!   axis is 1) and whose output is an intermediate runs no kernel of its own: an input computed
//!   by a step (directly or through aliasing Reshapes), read only by the Concat and not a graph
//!   output, is written by its producer straight into its block of the Concat's slot (an alias
//!   buffer at the block's offset); the other inputs are copied into their blocks by copy steps
//!   where the Concat was. The slot is taken at the first producer's step. Needs at least one
//!   input written in place, and every block on a `BUFFER_ALIGN` boundary (the ABI's pointer
//!   alignment).
//! - A Split whose outputs are each one contiguous block of its input (every dim before the axis
//!   is 1), none a graph output, on `BUFFER_ALIGN` boundaries, of a value a step writes into
//!   its own arena slot, runs no kernel: each output is a view of its block of the input's slot
//!   (readers only read it; the slot lives until the views' last reader and is not written
//!   over in place).

use crate::error::{CodegenError, Result};
use crate::lower::conv_direct::ConvTaps;
use kiln_abi::{align_up, Buffer, BufferKind, TensorSig};
use kiln_ir::{DType, Graph, NodeIndex, Op, Tensor, ValueRef};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What a step computes.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// The kernel of this node.
    Node(NodeIndex),
    /// Copy the first buffer into the second (graph outputs that are not written in place).
    Copy,
    /// A tiled product with its epilogue (`crate::fusion`): buffers are the product's inputs,
    /// the epilogue's other operands, then the last epilogue node's output.
    Fused(crate::fusion::Chain),
}

#[derive(Clone, Debug)]
pub struct PlannedStep {
    pub kind: StepKind,
    /// Op name for metadata and errors (`Copy` for copies).
    pub op_name: String,
    /// Name of the first value the step writes (for errors).
    pub value_name: String,
    /// Buffer ids: the op's inputs then its outputs.
    pub buffers: Vec<usize>,
    pub n_in: usize,
    /// Dtype and shape of each buffer as the kernel sees it, in `buffers` order.
    pub params: Vec<(DType, Vec<usize>)>,
    /// An input (position in `buffers`) the output may overwrite in place: elementwise ops
    /// whose output has that input's exact type, so element `i` is read before it is written.
    pub in_place: Option<usize>,
    /// Input 1 (a constant B of a tiled MatMul or Gemm) is packed at compile time into the panel
    /// layout (`lower::gemm_pack::pack_constant`), a 1-D f32 buffer.
    pub prepacked_b: bool,
    /// The constant A of a tiled Gemm whose B is not constant (input 0), or a one-group Conv's
    /// weights (input 1), is packed at compile time into row-tile micro-panels
    /// (`lower::gemm_pack::pack_constant_a`); the value is its shape.
    pub prepacked_a: Option<Vec<usize>>,
    /// The taps those packed weights cover, for a direct convolution.
    pub conv_taps: Option<ConvTaps>,
    /// That direct convolution runs pixels as rows (`lower::conv_pixel_rows`), its weights
    /// packed as channel-strip panels.
    pub conv_pixel_rows: bool,
}

impl PlannedStep {
    /// A step copying buffer `src` (holding value `v`) into `dst`, of `v`'s type.
    fn copy(graph: &Graph, v: ValueRef, src: usize, dst: usize) -> PlannedStep {
        let ty = graph.value_type(v);
        PlannedStep {
            kind: StepKind::Copy,
            op_name: "Copy".into(),
            value_name: graph.value_name(v).to_string(),
            buffers: vec![src, dst],
            n_in: 1,
            params: vec![(ty.dtype, ty.shape.clone()), (ty.dtype, ty.shape.clone())],
            in_place: None,
            prepacked_b: false,
            prepacked_a: None,
            conv_taps: None,
            conv_pixel_rows: false,
        }
    }
}

#[derive(Debug)]
pub struct Plan {
    pub inputs: Vec<TensorSig>,
    pub outputs: Vec<TensorSig>,
    pub buffers: Vec<Buffer>,
    pub arena_bytes: usize,
    pub steps: Vec<PlannedStep>,
    /// Constant tensors in `BufferKind::Constant { index }` order.
    pub constants: Vec<Arc<Tensor>>,
}

/// The plan with epilogue fusion and no weight packing.
pub fn plan(graph: &Graph) -> Result<Plan> {
    plan_with(graph, true, None)
}

/// The plan, fusing epilogues into tiled products when `fuse`, and packing constant right
/// operands of tiled products for `lanes`-wide vectors when given.
pub fn plan_with(graph: &Graph, fuse: bool, lanes: Option<usize>) -> Result<Plan> {
    let chains = if fuse { crate::fusion::chains(graph) } else { HashMap::new() };
    // Nodes computed inside a later fused step: the products and all but the last chain node.
    let absorbed: HashSet<NodeIndex> = chains
        .values()
        .flat_map(|c| std::iter::once(c.producer).chain(c.absorbed.iter().copied().filter(|n| *n != c.last())))
        .collect();
    let mut p = Planner::default();
    for (i, n) in graph.inputs().iter().enumerate() {
        let v = ValueRef::new(*n, 0);
        let ty = graph.value_type(v);
        p.inputs.push(sig(graph.value_name(v), ty));
        let b = p.push(BufferKind::Input { index: i }, ty.size_bytes());
        p.val_buf.insert(v, b);
    }
    // Which value each output buffer is written by in place, and which outputs need a copy.
    let mut claimed: HashMap<ValueRef, usize> = HashMap::new();
    let mut copies = Vec::new();
    for (i, o) in graph.outputs().iter().enumerate() {
        let ty = graph.value_type(o.value);
        p.outputs.push(sig(&o.name, ty));
        let b = p.push(BufferKind::Output { index: i }, ty.size_bytes());
        let computed = !matches!(graph.node(o.value.node).op, Op::Input { .. } | Op::Constant(_));
        if computed && !claimed.contains_key(&o.value) {
            claimed.insert(o.value, b);
        } else {
            copies.push((o.value, b));
        }
    }
    let order = graph.topo_order()?;
    let split_views = split_views(graph, &order, &absorbed);
    let concats = concat_blocks(graph, &order, &absorbed, &split_views);
    let into: HashMap<ValueRef, (NodeIndex, usize)> = concats
        .iter()
        .flat_map(|(c, blocks)| blocks.iter().filter_map(move |b| b.writer.map(|w| (w, (*c, b.offset)))))
        .collect();
    for n in order {
        if absorbed.contains(&n) {
            continue;
        }
        let node = graph.node(n);
        match &node.op {
            Op::Input { .. } => {}
            // Its producers wrote their blocks in place (`concat_blocks`), the first opened its
            // slot; the other blocks are copied in here.
            Op::Concat { .. } if concats.contains_key(&n) => {
                let parent = p.val_buf[&ValueRef::new(n, 0)];
                for b in concats[&n].iter().filter(|b| b.writer.is_none()) {
                    let src = p.buf_of(graph, b.value)?;
                    let dst = p.push(BufferKind::Intermediate { offset: 0 }, graph.value_type(b.value).size_bytes());
                    p.alias.insert(dst, (parent, b.offset, p.steps.len()));
                    p.steps.push(PlannedStep::copy(graph, b.value, src, dst));
                }
            }
            // Constant buffers are made when a step first reads them (`buf_of`), so a weight
            // read only packed (`prepacked_b`) is not stored twice.
            Op::Constant(_) => {}
            // Views of blocks of the input's slot (`split_views`), unless a Concat's block
            // took that input's writer; then a kernel as usual.
            Op::Split { .. } if split_views.contains(&n) && !into.contains_key(&graph.inputs_of(n)[0]) => {
                let src = graph.inputs_of(n)[0];
                let parent = p.buf_of(graph, src)?;
                let mut at = 0;
                for (port, info) in node.outputs.iter().enumerate() {
                    let b = p.push(BufferKind::Intermediate { offset: 0 }, info.ty.size_bytes());
                    p.alias.insert(b, (parent, at, p.steps.len()));
                    p.views.insert(b, parent);
                    p.val_buf.insert(ValueRef::new(n, port), b);
                    at += info.ty.size_bytes();
                }
            }
            Op::Reshape { .. } if !graph.is_graph_output(ValueRef::new(n, 0)) => {
                let src = graph.inputs_of(n)[0];
                let b = p.buf_of(graph, src)?;
                p.val_buf.insert(ValueRef::new(n, 0), b);
            }
            op => {
                let chain = chains.get(&n);
                let ins = match chain {
                    Some(c) => [graph.inputs_of(c.producer), c.others.clone()].concat(),
                    None => graph.inputs_of(n),
                };
                let mut buffers = Vec::new();
                let mut params = Vec::new();
                let producer = chain.map_or(n, |c| c.producer);
                let packed = lanes.and_then(|l| prepackable(graph, producer).map(|pk| (l, pk)));
                let packed_a = lanes.and_then(|l| prepackable_a(graph, producer).map(|pk| (l, pk)));
                for (i, v) in ins.iter().enumerate() {
                    let packed_data = match (&packed, &packed_a) {
                        (_, Some((lanes, pk))) if i == pk.input => Some(pk.pack_a(*lanes)),
                        (Some((lanes, pk)), _) if i == pk.input => Some(pk.pack(*lanes)),
                        _ => None,
                    };
                    match packed_data {
                        Some(data) => {
                            let len = data.len();
                            let t = Arc::new(Tensor::from_f32(&[len], data).map_err(CodegenError::from)?);
                            buffers.push(p.constant(t));
                            params.push((DType::F32, vec![len]));
                        }
                        None => {
                            buffers.push(p.buf_of(graph, *v)?);
                            let ty = graph.value_type(*v);
                            params.push((ty.dtype, ty.shape.clone()));
                        }
                    }
                }
                for (port, info) in node.outputs.iter().enumerate() {
                    let v = ValueRef::new(n, port);
                    let b = match (claimed.get(&v), into.get(&v)) {
                        (Some(b), _) => *b,
                        (None, Some(&(concat, offset))) => {
                            // A block of a Concat's output: the Concat's slot, taken at the first
                            // producer's step.
                            let out = ValueRef::new(concat, 0);
                            let parent = match p.val_buf.get(&out) {
                                Some(b) => *b,
                                None => {
                                    let size = graph.value_type(out).size_bytes();
                                    let b = p.push(BufferKind::Intermediate { offset: 0 }, size);
                                    p.val_buf.insert(out, b);
                                    p.def_step.insert(b, p.steps.len());
                                    b
                                }
                            };
                            let b = p.push(BufferKind::Intermediate { offset: 0 }, info.ty.size_bytes());
                            p.alias.insert(b, (parent, offset, p.steps.len()));
                            b
                        }
                        (None, None) => {
                            let b = p.push(BufferKind::Intermediate { offset: 0 }, info.ty.size_bytes());
                            p.def_step.insert(b, p.steps.len());
                            b
                        }
                    };
                    p.val_buf.insert(v, b);
                    buffers.push(b);
                    params.push((info.ty.dtype, info.ty.shape.clone()));
                }
                let value_name = node.outputs.first().map_or(String::new(), |o| o.name.clone());
                let (kind, op_name) = match chain {
                    Some(c) => {
                        let names: Vec<&str> = std::iter::once(c.producer)
                            .chain(c.ops.iter().copied())
                            .map(|m| graph.node(m).op.name())
                            .collect();
                        (StepKind::Fused(c.clone()), names.join("+"))
                    }
                    None => (StepKind::Node(n), op.name().to_string()),
                };
                let elementwise = chain.is_none() && matches!(op, Op::Unary(_) | Op::Binary(_));
                let in_place =
                    elementwise.then(|| ins.iter().position(|v| graph.value_type(*v) == &node.outputs[0].ty)).flatten();
                let prepacked_b = packed.is_some();
                let conv_taps = packed_a.as_ref().and_then(|(_, pk)| pk.taps.clone());
                let conv_pixel_rows = packed_a.as_ref().is_some_and(|(l, pk)| pk.pixel_rows(*l));
                let prepacked_a = packed_a.map(|(_, pk)| pk.b.shape().to_vec());
                let n_in = ins.len();
                p.steps.push(PlannedStep {
                    kind,
                    op_name,
                    value_name,
                    buffers,
                    n_in,
                    params,
                    in_place,
                    prepacked_b,
                    prepacked_a,
                    conv_taps,
                    conv_pixel_rows,
                });
            }
        }
    }
    for (v, dst) in copies {
        let src = p.buf_of(graph, v)?;
        p.steps.push(PlannedStep::copy(graph, v, src, dst));
    }
    p.assign_arena();
    Ok(Plan {
        inputs: p.inputs,
        outputs: p.outputs,
        buffers: p.buffers,
        arena_bytes: p.arena_bytes,
        steps: p.steps,
        constants: p.constants,
    })
}

fn sig(name: &str, ty: &kiln_ir::TensorType) -> TensorSig {
    TensorSig { name: name.to_string(), dtype: ty.dtype.name().to_string(), shape: ty.shape.clone() }
}

#[derive(Default)]
struct Planner {
    inputs: Vec<TensorSig>,
    outputs: Vec<TensorSig>,
    buffers: Vec<Buffer>,
    val_buf: HashMap<ValueRef, usize>,
    def_step: HashMap<usize, usize>,
    /// Buffers that are a block of another intermediate: (that buffer, byte offset, the step
    /// that writes the block).
    alias: HashMap<usize, (usize, usize, usize)>,
    /// Of those, the read-only views of a Split's input slot: view -> that slot.
    views: HashMap<usize, usize>,
    steps: Vec<PlannedStep>,
    constants: Vec<Arc<Tensor>>,
    arena_bytes: usize,
}

impl Planner {
    fn push(&mut self, kind: BufferKind, size_bytes: usize) -> usize {
        self.buffers.push(Buffer { kind, size_bytes, view_of: None });
        self.buffers.len() - 1
    }

    fn constant(&mut self, t: Arc<Tensor>) -> usize {
        let b = self.push(BufferKind::Constant { index: self.constants.len() }, t.ty().size_bytes());
        self.constants.push(t);
        b
    }

    fn buf_of(&mut self, graph: &Graph, v: ValueRef) -> Result<usize> {
        if let (None, Op::Constant(t)) = (self.val_buf.get(&v), &graph.node(v.node).op) {
            let b = self.constant(t.clone());
            self.val_buf.insert(v, b);
        }
        self.val_buf.get(&v).copied().ok_or_else(|| {
            CodegenError::new(format!("plan: value '{}' is read before it is computed", graph.value_name(v)))
        })
    }

    /// Offsets for intermediates: greedy first fit in step order, freeing after the last read;
    /// an elementwise step whose in-place input dies at that step writes over it.
    fn assign_arena(&mut self) {
        let mut last_use: HashMap<usize, usize> = self.def_step.clone();
        for (s, st) in self.steps.iter().enumerate() {
            for b in &st.buffers[..st.n_in] {
                let slot = self.views.get(b).unwrap_or(b);
                if let Some(l) = last_use.get_mut(slot) {
                    *l = (*l).max(s);
                }
            }
        }
        let viewed: HashSet<usize> = self.views.values().copied().collect();
        // A Concat slot lives at least until its last block is written.
        for &(parent, _, step) in self.alias.values() {
            if let Some(l) = last_use.get_mut(&parent) {
                *l = (*l).max(step);
            }
        }
        let mut live: Vec<(usize, usize, usize)> = Vec::new(); // (offset, size, buffer)
        let mut defs: Vec<(usize, usize)> = self.def_step.iter().map(|(b, s)| (*s, *b)).collect();
        defs.sort();
        for s in 0..self.steps.len() {
            let n_in = self.steps[s].n_in;
            // The step's outputs, then any Concat slot its aliased output opened.
            let mut here: Vec<usize> =
                self.steps[s].buffers[n_in..].iter().copied().filter(|b| self.def_step.get(b) == Some(&s)).collect();
            let opened: Vec<usize> =
                defs.iter().filter(|(d, b)| *d == s && !here.contains(b)).map(|(_, b)| *b).collect();
            here.extend(opened);
            for b in here {
                let size = align_up(self.buffers[b].size_bytes);
                let reuse = self.steps[s].in_place.map(|i| self.steps[s].buffers[i]).filter(|ib| {
                    self.def_step.contains_key(ib) && last_use.get(ib) == Some(&s) && *ib != b && !viewed.contains(ib)
                });
                if let Some(slot) = reuse.and_then(|ib| live.iter_mut().find(|e| e.2 == ib && e.1 == size)) {
                    // The dying input's slot becomes the output's.
                    slot.2 = b;
                    self.buffers[b].kind = BufferKind::Intermediate { offset: slot.0 };
                    continue;
                }
                live.sort();
                let mut off = 0;
                for &(o, sz, _) in &live {
                    if off + size <= o {
                        break;
                    }
                    off = off.max(o + sz);
                }
                live.push((off, size, b));
                self.buffers[b].kind = BufferKind::Intermediate { offset: off };
                self.arena_bytes = self.arena_bytes.max(off + size);
            }
            live.retain(|(_, _, b)| last_use.get(b).is_none_or(|l| *l > s));
        }
        for (&b, &(parent, at, _)) in &self.alias {
            if let BufferKind::Intermediate { offset } = self.buffers[parent].kind {
                self.buffers[b].kind = BufferKind::Intermediate { offset: offset + at };
                self.buffers[b].view_of = Some(parent);
            }
        }
    }
}

/// One input of an elided Concat: the value, its block's byte offset in the output, and the
/// value whose producer writes the block in place (the input itself or what an aliasing
/// Reshape chain reads), when there is one; otherwise a copy step fills the block.
struct Block {
    value: ValueRef,
    offset: usize,
    writer: Option<ValueRef>,
}

/// The Concats whose blocks are written in place (see the module doc), with their blocks.
fn concat_blocks(
    graph: &Graph,
    order: &[NodeIndex],
    absorbed: &HashSet<NodeIndex>,
    split_views: &HashSet<NodeIndex>,
) -> HashMap<NodeIndex, Vec<Block>> {
    let mut out = HashMap::new();
    let mut taken: HashSet<ValueRef> = HashSet::new();
    for &n in order {
        let Op::Concat { axis } = graph.node(n).op else { continue };
        let oty = &graph.node(n).outputs[0].ty;
        if graph.is_graph_output(ValueRef::new(n, 0)) || oty.shape[..axis.min(oty.shape.len())].iter().any(|d| *d != 1)
        {
            continue;
        }
        let ins = graph.inputs_of(n);
        let mut blocks = Vec::new();
        let mut at = 0;
        let mut aligned = true;
        for (i, v) in ins.iter().enumerate() {
            aligned &= at % kiln_abi::BUFFER_ALIGN == 0;
            let once = graph.users_of(*v).len() == 1 && !ins[..i].contains(v) && !graph.is_graph_output(*v);
            let writer = once
                .then(|| in_place_writer(graph, *v, absorbed))
                .flatten()
                .filter(|w| !taken.contains(w) && !split_views.contains(&w.node));
            if let Some(w) = writer {
                taken.insert(w);
            }
            blocks.push(Block { value: *v, offset: at, writer });
            at += graph.value_type(*v).size_bytes();
        }
        if aligned && blocks.iter().any(|b| b.writer.is_some()) {
            out.insert(n, blocks);
        } else {
            for b in &blocks {
                if let Some(w) = b.writer {
                    taken.remove(&w);
                }
            }
        }
    }
    out
}

/// Splits whose outputs can be views of their input's slot: every dim before the axis is 1,
/// the blocks start on `BUFFER_ALIGN` boundaries, no output is a graph output, and the input is
/// written by a step of its own into an arena slot (not a graph input, constant, graph output,
/// aliasing Reshape, Concat or other Split).
fn split_views(graph: &Graph, order: &[NodeIndex], absorbed: &HashSet<NodeIndex>) -> HashSet<NodeIndex> {
    let mut out = HashSet::new();
    for &n in order {
        let Op::Split { axis, .. } = graph.node(n).op else { continue };
        let src = graph.inputs_of(n)[0];
        let ity = graph.value_type(src);
        let producer = &graph.node(src.node).op;
        let written = !matches!(
            producer,
            Op::Input { .. } | Op::Constant(_) | Op::Reshape { .. } | Op::Concat { .. } | Op::Split { .. }
        ) && !absorbed.contains(&src.node)
            && !graph.is_graph_output(src);
        let outs = &graph.node(n).outputs;
        let mut at = 0;
        let mut aligned = true;
        for o in outs {
            aligned &= at % kiln_abi::BUFFER_ALIGN == 0;
            at += o.ty.size_bytes();
        }
        let leading_ones = ity.shape[..axis.min(ity.shape.len())].iter().all(|d| *d == 1);
        let no_output = (0..outs.len()).all(|i| !graph.is_graph_output(ValueRef::new(n, i)));
        if written && aligned && leading_ones && no_output {
            out.insert(n);
        }
    }
    out
}

/// The value whose step can write `v` in place: `v` when a step of its own computes it, or
/// through an aliasing Reshape (not a graph output) whose input is read only by it.
fn in_place_writer(graph: &Graph, v: ValueRef, absorbed: &HashSet<NodeIndex>) -> Option<ValueRef> {
    let node = graph.node(v.node);
    match node.op {
        Op::Input { .. } | Op::Constant(_) => None,
        Op::Reshape { .. } => {
            let src = graph.inputs_of(v.node)[0];
            let once = graph.users_of(src).len() == 1 && !graph.is_graph_output(src);
            once.then(|| in_place_writer(graph, src, absorbed)).flatten()
        }
        // A fused chain's inner values have no buffer; its last node is a step.
        _ => (!absorbed.contains(&v.node)).then_some(v),
    }
}

/// A constant B read packed by a tiled product: the weights, `[K, N]` extents and whether they
/// are stored transposed (`[N, K]`, Gemm `trans_b`), and which input of the step they are.
struct Prepack {
    b: Arc<Tensor>,
    input: usize,
    k: usize,
    n: usize,
    trans: bool,
    /// A direct convolution's weights: packed as one depth block (it does not block its depth)
    /// over these taps' columns.
    taps: Option<ConvTaps>,
    /// That convolution's output `[OH, OW]` and input width (which orientation runs it).
    conv_geo: Option<([usize; 2], usize)>,
    /// Matrices of a batched A (a MatMul's `[batch, M, K]`), each packed on its own.
    batch: usize,
}

impl Prepack {
    /// Whether a direct convolution's weights are packed for (and it runs) pixels as rows.
    fn pixel_rows(&self, lanes: usize) -> bool {
        match (&self.taps, self.conv_geo) {
            (Some(taps), Some((out_hw, in_w))) => {
                crate::lower::conv_pixel_rows::better(lanes, self.n, taps.depth(self.b.shape()[1]), out_hw, in_w)
            }
            _ => false,
        }
    }

    fn values(&self) -> Vec<f32> {
        self.b.to_f64_vec().into_iter().map(|x| x as f32).collect()
    }

    fn pack(&self, lanes: usize) -> Vec<f32> {
        crate::lower::gemm_pack::pack_constant(lanes, &self.values(), self.k, self.n, self.trans)
    }

    /// As the left operand: `b` holds A, `n` is M.
    fn pack_a(&self, lanes: usize) -> Vec<f32> {
        use crate::lower::gemm_pack::pack_constant_a;
        match &self.taps {
            Some(taps) if self.pixel_rows(lanes) => {
                let s = self.b.shape();
                let cols = taps.gather(&self.values(), [s[0], s[1], s[2], s[3]]);
                crate::lower::conv_pixel_rows::pack_whole_depth(lanes, &cols, self.n, taps.depth(s[1]))
            }
            Some(taps) => {
                let s = self.b.shape();
                let shape = [s[0], s[1], s[2], s[3]];
                let cols = taps.gather(&self.values(), shape);
                pack_constant_a(lanes, &cols, self.n, taps.depth(s[1]), false, true)
            }
            None => {
                let values = self.values();
                let per = self.n * self.k;
                (0..self.batch)
                    .flat_map(|b| pack_constant_a(lanes, &values[b * per..][..per], self.n, self.k, self.trans, false))
                    .collect()
            }
        }
    }
}

/// Whether `n` is an f32 Gemm on the tiled kernel with a constant A and a computed B (a
/// convolution's weights against its patches), or a one-group f32 Conv on the tiled kernel
/// with constant weights (`[M, C*kH*kW]` row-major as they are), and that A (in a [`Prepack`]
/// with `n` = M).
fn prepackable_a(graph: &Graph, n: NodeIndex) -> Option<Prepack> {
    let node = graph.node(n);
    if let Op::Conv { group: 1, strides, pads, .. } = &node.op {
        let w = graph.inputs_of(n)[1];
        let Op::Constant(t) = &graph.node(w.node).op else { return None };
        let s = t.shape();
        let dt = node.outputs[0].ty.dtype;
        let tiled = crate::lower::conv::takes_tiled(dt, s[0], 1);
        if !tiled || t.dtype() != DType::F32 || s.len() != 4 {
            return None;
        }
        let direct = crate::lower::conv_direct::applies(dt, strides, pads, 1, &node.outputs[0].ty.shape);
        let (y, x) = (&node.outputs[0].ty.shape, &graph.value_type(graph.inputs_of(n)[0]).shape);
        let conv_geo = direct.then(|| ([y[2], y[3]], x[3]));
        let mut pk = Prepack {
            b: t.clone(),
            input: 1,
            k: s[1..].iter().product(),
            n: s[0],
            trans: false,
            taps: None,
            conv_geo,
            batch: 1,
        };
        if direct {
            pk.taps = Some(ConvTaps::of_weights(&pk.values(), [s[0], s[1], s[2], s[3]]));
        }
        return Some(pk);
    }
    if let Op::MatMul = &node.op {
        return prepackable_matmul_a(graph, n);
    }
    let Op::Gemm { trans_a, trans_b, .. } = &node.op else { return None };
    let ins = graph.inputs_of(n);
    let Op::Constant(t) = &graph.node(ins[0].node).op else { return None };
    if matches!(graph.node(ins[1].node).op, Op::Constant(_))
        || node.outputs[0].ty.dtype != DType::F32
        || t.dtype() != DType::F32
    {
        return None;
    }
    let (a, b) = (t.shape(), &graph.value_type(ins[1]).shape);
    let (m, k) = if *trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
    let nn = if *trans_b { b[0] } else { b[1] };
    crate::lower::gemm_tiled::applies(DType::F32, m, nn, k).then(|| Prepack {
        b: t.clone(),
        input: 0,
        k,
        n: m,
        trans: *trans_a,
        taps: None,
        conv_geo: None,
        batch: 1,
    })
}

/// An f32 MatMul on the tiled kernel with a constant A `[M, K]` or `[batch, M, K]` and a
/// computed B batched alike (`[K, N]` or `[batch, K, N]`): Winograd's products, which read 16
/// filter matrices.
fn prepackable_matmul_a(graph: &Graph, n: NodeIndex) -> Option<Prepack> {
    let node = graph.node(n);
    let ins = graph.inputs_of(n);
    let Op::Constant(t) = &graph.node(ins[0].node).op else { return None };
    let (a, b) = (t.shape(), &graph.value_type(ins[1]).shape);
    let computed_b = !matches!(graph.node(ins[1].node).op, Op::Constant(_));
    if !computed_b || node.outputs[0].ty.dtype != DType::F32 || t.dtype() != DType::F32 {
        return None;
    }
    let batch = match (a.len(), b.len()) {
        (2, _) => 1,
        (3, 3) if a[0] == b[0] => a[0],
        _ => return None,
    };
    let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
    crate::lower::matmul::takes_tiled(DType::F32, a, b).then(|| Prepack {
        b: t.clone(),
        input: 0,
        k,
        n: m,
        trans: false,
        taps: None,
        conv_geo: None,
        batch,
    })
}

/// Whether `n` is an f32 MatMul (B without batch) or Gemm on the tiled kernel whose B is a
/// constant, and that constant.
fn prepackable(graph: &Graph, n: NodeIndex) -> Option<Prepack> {
    let node = graph.node(n);
    let ins = graph.inputs_of(n);
    let b = ins.get(1)?;
    let Op::Constant(t) = &graph.node(b.node).op else { return None };
    if node.outputs[0].ty.dtype != DType::F32 || t.dtype() != DType::F32 {
        return None;
    }
    let (a, bs) = (&graph.value_type(ins[0]).shape, t.shape());
    match &node.op {
        Op::MatMul => {
            let r = bs.len();
            let unbatched = r >= 2 && bs[..r - 2].iter().product::<usize>() == 1;
            (unbatched && crate::lower::matmul::takes_tiled(DType::F32, a, bs)).then(|| Prepack {
                b: t.clone(),
                input: 1,
                k: bs[r - 2],
                n: bs[r - 1],
                trans: false,
                taps: None,
                conv_geo: None,
                batch: 1,
            })
        }
        Op::Gemm { trans_a, trans_b, .. } => {
            let k = if *trans_a { a[0] } else { a[1] };
            let nn = if *trans_b { bs[0] } else { bs[1] };
            crate::lower::gemm_tiled::applies(DType::F32, node.outputs[0].ty.shape[0], nn, k).then(|| Prepack {
                b: t.clone(),
                input: 1,
                k,
                n: nn,
                trans: *trans_b,
                taps: None,
                conv_geo: None,
                batch: 1,
            })
        }
        _ => None,
    }
}
