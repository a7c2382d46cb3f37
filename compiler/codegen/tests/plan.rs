//! The execution plan: output copies, aliasing, arena packing without overlap, and the metadata
//! the artifact records.

mod support;

use kiln_abi::BufferKind;
use kiln_codegen::plan::plan;
use kiln_codegen::CodegenOptions;
use kiln_ir::{BinaryOp, DType, Graph, Op, Tensor, UnaryOp};
use std::collections::BTreeMap;
use support::*;

/// Outputs that are an input, a constant, a value returned twice and a reshape of an input.
fn odd_outputs() -> Graph {
    let mut g = Graph::new("odd_outputs");
    let x = g.add_input("x", ty(DType::F32, &[2, 3]));
    let c = g.add_constant("c", Tensor::from_f32(&[3], vec![1.0, -2.0, 0.5]).unwrap());
    let s = node(&mut g, Op::Binary(BinaryOp::Add), &[x, c])[0];
    let r = node(&mut g, Op::Reshape { shape: vec![6] }, &[x])[0];
    g.add_output("x_again", x);
    g.add_output("c", c);
    g.add_output("s", s);
    g.add_output("s_again", s);
    g.add_output("r", r);
    g
}

#[test]
fn odd_outputs_are_copied_and_correct() {
    let g = odd_outputs();
    let p = plan(&g).unwrap();
    let copies = p.steps.iter().filter(|s| s.op_name == "Copy").count();
    assert_eq!(copies, 3, "x, c and the second s are copies");
    let mut rng = Rng::new(1);
    let l = check_graph(&g, &[random(&mut rng, DType::F32, &[2, 3])], 0.0);
    assert_eq!(l.meta.outputs.len(), 5);
    assert_eq!(l.meta.arena_bytes, 0, "nothing is intermediate");
}

#[test]
fn internal_reshape_aliases_its_input() {
    let g = build("alias", &[ty(DType::F32, &[2, 3])], |g, x| {
        let e = node(g, Op::Unary(UnaryOp::Exp), &[x[0]])[0];
        let r = node(g, Op::Reshape { shape: vec![3, 2] }, &[e])[0];
        vec![node(g, Op::Unary(UnaryOp::Neg), &[r])[0]]
    });
    let p = plan(&g).unwrap();
    assert_eq!(p.steps.len(), 2, "no kernel for the reshape");
    assert_eq!(p.steps[0].buffers[1], p.steps[1].buffers[0], "the reshape reads exp's buffer");
    let mut rng = Rng::new(2);
    check_graph(&g, &[random(&mut rng, DType::F32, &[2, 3])], 1e-6);
}

/// A diamond-heavy graph: every pair of intermediates live at the same step must not overlap.
#[test]
fn arena_slots_of_live_values_never_overlap() {
    let g = build("diamonds", &[ty(DType::F32, &[3, 7])], |g, x| {
        let mut vals = vec![x[0]];
        for i in 0..12 {
            let a = vals[vals.len() - 1];
            let b = vals[vals.len().saturating_sub(3)];
            let op = if i % 2 == 0 { Op::Binary(BinaryOp::Add) } else { Op::Binary(BinaryOp::Mul) };
            let v = node(g, op, &[a, b])[0];
            let v = if i % 3 == 0 { node(g, Op::Unary(UnaryOp::Tanh), &[v])[0] } else { v };
            vals.push(v);
        }
        vec![vals[vals.len() - 1], vals[5]]
    });
    let p = plan(&g).unwrap();
    let n_steps = p.steps.len();
    let mut span: BTreeMap<usize, (usize, usize)> = BTreeMap::new(); // buffer -> (def, last use)
    for (s, st) in p.steps.iter().enumerate() {
        for (i, b) in st.buffers.iter().enumerate() {
            if let BufferKind::Intermediate { .. } = p.buffers[*b].kind {
                let e = span.entry(*b).or_insert((s, s));
                if i >= st.n_in {
                    e.0 = s;
                }
                e.1 = e.1.max(s);
            }
        }
    }
    assert!(span.len() > 4);
    for (a, (da, la)) in &span {
        for (b, (db, lb)) in &span {
            if a >= b || la < db || lb < da {
                continue;
            }
            // In place: the step defining one writes over the other, whose last read it is.
            let over = |dead: usize, d: usize, def: usize| {
                let st = &p.steps[def];
                d == def && st.in_place.is_some_and(|i| st.buffers[i] == dead)
            };
            if over(*a, *la, *db) || over(*b, *lb, *da) {
                continue;
            }
            let off = |x: usize| match p.buffers[x].kind {
                BufferKind::Intermediate { offset } => offset,
                _ => unreachable!(),
            };
            let (oa, ob) = (off(*a), off(*b));
            let (sa, sb) = (p.buffers[*a].size_bytes, p.buffers[*b].size_bytes);
            assert!(oa + sa <= ob || ob + sb <= oa, "buffers {a} and {b} overlap while both live");
        }
    }
    let total: usize = span.keys().map(|b| kiln_abi::align_up(p.buffers[*b].size_bytes)).sum();
    assert!(p.arena_bytes < total, "slots are reused ({} of {total})", p.arena_bytes);
    assert!(n_steps > 12);
    let mut rng = Rng::new(3);
    check_graph(&g, &[random_in(&mut rng, DType::F32, &[3, 7], -1.0, 1.0)], 1e-5);
}

#[test]
fn metadata_records_signature_ops_and_constants() {
    let mut g = Graph::new("mlp");
    let x = g.add_input("x", ty(DType::F32, &[2, 4]));
    let mut rng = Rng::new(4);
    let w = g.add_constant("w", random(&mut rng, DType::F32, &[4, 3]));
    let b = g.add_constant("b", random(&mut rng, DType::F32, &[3]));
    let m = node(&mut g, Op::MatMul, &[x, w])[0];
    let a = node(&mut g, Op::Binary(BinaryOp::Add), &[m, b])[0];
    let y = node(&mut g, Op::Unary(UnaryOp::Relu), &[a])[0];
    g.add_output("logits", y);
    let mut imported = BTreeMap::new();
    imported.insert("Gemm".to_string(), 1usize);
    let opts = CodegenOptions { model_name: "mlp".into(), ops_imported: imported.clone(), ..Default::default() };
    let l = Loaded::compile_with(&g, &opts);
    let m = &l.meta;
    assert_eq!(m.model_name, "mlp");
    assert_eq!(m.ops_imported, imported);
    assert_eq!(m.ops, g.op_histogram());
    assert_eq!(
        (m.inputs[0].name.as_str(), m.inputs[0].dtype.as_str(), m.inputs[0].shape.clone()),
        ("x", "f32", vec![2, 4])
    );
    assert_eq!((m.outputs[0].name.as_str(), m.outputs[0].shape.clone()), ("logits", vec![2, 3]));
    let consts = m.buffers.iter().filter(|b| matches!(b.kind, BufferKind::Constant { .. })).count();
    assert_eq!(consts, 2);
    assert_eq!(m.kernels.len(), 3);
    assert_eq!(m.kernels[0].ops, vec!["MatMul".to_string()]);
    let xin = random(&mut rng, DType::F32, &[2, 4]);
    let want = kiln_ir::interp::evaluate(&g, std::slice::from_ref(&xin)).unwrap();
    assert_close("mlp", &l.run(&[xin], &|m| m)[0], &want[0], 1e-5);
}

#[test]
fn invalid_graph_is_rejected_with_one_line() {
    let mut g = Graph::new("bad");
    let x = g.add_input("x", ty(DType::F32, &[2]));
    g.add_output("y", x);
    // An output naming a value that does not exist.
    g.add_output("z", kiln_ir::ValueRef::new(kiln_ir::NodeIndex::new(99), 0));
    let e = kiln_codegen::compile(&g, &CodegenOptions::default(), kiln_codegen::Emit::So).unwrap_err().to_string();
    assert!(!e.contains('\n') && e.contains("z"), "{e}");
}

/// Concats whose blocks are contiguous in their output run no kernel: a producer read only by
/// the Concat writes its block in place (also through an aliasing Reshape), an input read
/// elsewhere too is copied into its block; a Concat along an inner dim, one with a block off the
/// 64-byte alignment and one that is a graph output keep their kernel.
#[test]
fn concat_blocks_are_written_in_place() {
    let f = DType::F32;
    let g = build("concats", &[ty(f, &[1, 4, 5, 8]), ty(f, &[1, 3])], |g, x| {
        let a = node(g, Op::Unary(UnaryOp::Relu), &[x[0]])[0];
        let b = node(g, Op::Unary(UnaryOp::Neg), &[x[0]])[0];
        let e = node(g, Op::Unary(UnaryOp::Exp), &[x[0]])[0];
        let c = node(g, Op::Reshape { shape: vec![1, 160] }, &[e])[0];
        let c = node(g, Op::Reshape { shape: vec![1, 4, 5, 8] }, &[c])[0];
        let cat = node(g, Op::Concat { axis: 1 }, &[a, b, c])[0];
        let y = node(g, Op::Unary(UnaryOp::Tanh), &[cat])[0];
        let b2 = node(g, Op::Binary(BinaryOp::Mul), &[b, b])[0];
        // Along an inner dim: blocks interleave, so it stays a kernel.
        let s = node(g, Op::Unary(UnaryOp::Sigmoid), &[x[0]])[0];
        let t = node(g, Op::Unary(UnaryOp::Abs), &[x[0]])[0];
        let inner = node(g, Op::Concat { axis: 2 }, &[s, t])[0];
        let inner = node(g, Op::Unary(UnaryOp::Neg), &[inner])[0];
        // 12-byte blocks: off the alignment.
        let u = node(g, Op::Unary(UnaryOp::Neg), &[x[1]])[0];
        let v = node(g, Op::Unary(UnaryOp::Exp), &[x[1]])[0];
        let small = node(g, Op::Concat { axis: 1 }, &[u, v])[0];
        let small = node(g, Op::Unary(UnaryOp::Tanh), &[small])[0];
        // A graph output.
        let w = node(g, Op::Unary(UnaryOp::Sqrt), &[x[0]])[0];
        let z = node(g, Op::Unary(UnaryOp::Exp), &[x[0]])[0];
        let out = node(g, Op::Concat { axis: 1 }, &[w, z])[0];
        vec![y, b2, inner, small, out]
    });
    let p = plan(&g).unwrap();
    let count = |name: &str| p.steps.iter().filter(|s| s.op_name == name).count();
    assert_eq!(count("Concat"), 3, "only the first Concat is elided");
    assert_eq!(count("Copy"), 1, "b, read twice, is copied into its block");
    // The Relu and the Exp (behind the Reshape) write into the Concat's slot, at block offsets.
    let out_of = |op: &str| {
        let st = p.steps.iter().find(|s| s.op_name == op).unwrap();
        match &p.buffers[st.buffers[st.n_in]].kind {
            BufferKind::Intermediate { offset } => *offset,
            k => panic!("{op} writes {k:?}"),
        }
    };
    let tanh = p.steps.iter().find(|s| s.op_name == "Tanh").unwrap();
    let BufferKind::Intermediate { offset: slot } = p.buffers[tanh.buffers[0]].kind else { panic!() };
    let block = 4 * 5 * 8 * 4;
    assert_eq!(out_of("Relu"), slot);
    let relu = p.steps.iter().find(|s| s.op_name == "Relu").unwrap();
    assert_eq!(p.buffers[relu.buffers[1]].view_of, Some(tanh.buffers[0]), "the block records its Concat slot");
    assert_eq!(out_of("Exp"), slot + 2 * block);
    let mut rng = Rng::new(4);
    let ins = [random_in(&mut rng, f, &[1, 4, 5, 8], 0.1, 1.0), random_in(&mut rng, f, &[1, 3], 0.1, 1.0)];
    check_graph(&g, &ins, 1e-6);
}

/// Splits whose blocks are contiguous in their input run no kernel: each output is a view of its
/// block of the input's slot, which stays live until the views' last reader and is never
/// written over in place; a Split along an inner dim, one with a block off the 64-byte
/// alignment, one of a graph input and one with an output that is a graph output keep their
/// kernel.
#[test]
fn split_outputs_are_views_of_their_input() {
    let f = DType::F32;
    let g = build("splits", &[ty(f, &[1, 8, 5, 8]), ty(f, &[1, 3])], |g, x| {
        let a = node(g, Op::Unary(UnaryOp::Relu), &[x[0]])[0];
        let parts = node(g, Op::Split { axis: 1, sizes: vec![4, 4] }, &[a]);
        // `a` is read directly too (an elementwise op of `a`'s type that could take its slot)
        // before the views' last reader.
        let t = node(g, Op::Unary(UnaryOp::Tanh), &[a])[0];
        let y0 = node(g, Op::Unary(UnaryOp::Neg), &[parts[0]])[0];
        let y1 = node(g, Op::Binary(BinaryOp::Mul), &[parts[1], parts[1]])[0];
        // Along an inner dim: blocks interleave.
        let b = node(g, Op::Unary(UnaryOp::Exp), &[x[0]])[0];
        let inner = node(g, Op::Split { axis: 2, sizes: vec![2, 3] }, &[b]);
        let inner = node(g, Op::Binary(BinaryOp::Add), &[inner[0], inner[0]])[0];
        // 4-byte blocks: off the alignment.
        let c = node(g, Op::Unary(UnaryOp::Neg), &[x[1]])[0];
        let small = node(g, Op::Split { axis: 1, sizes: vec![1, 2] }, &[c]);
        let small = node(g, Op::Unary(UnaryOp::Exp), &[small[1]])[0];
        // Of a graph input.
        let of_input = node(g, Op::Split { axis: 1, sizes: vec![4, 4] }, &[x[0]]);
        let of_input = node(g, Op::Unary(UnaryOp::Sqrt), &[of_input[1]])[0];
        // An output that is a graph output.
        let d = node(g, Op::Unary(UnaryOp::Abs), &[x[0]])[0];
        let out = node(g, Op::Split { axis: 1, sizes: vec![4, 4] }, &[d]);
        let o1 = node(g, Op::Unary(UnaryOp::Neg), &[out[1]])[0];
        vec![t, y0, y1, inner, small, of_input, out[0], o1]
    });
    let p = plan(&g).unwrap();
    assert_eq!(p.steps.iter().filter(|s| s.op_name == "Split").count(), 4, "only the first Split is elided");
    let relu = p.steps.iter().position(|s| s.op_name == "Relu").unwrap();
    let slot = p.steps[relu].buffers[1];
    let BufferKind::Intermediate { offset: at } = p.buffers[slot].kind else { panic!() };
    let read = |op: &str| p.steps.iter().find(|s| s.op_name == op).unwrap().buffers[0];
    let (v0, v1) = (read("Neg"), read("Mul"));
    assert_eq!(p.buffers[v0].view_of, Some(slot));
    assert_eq!(p.buffers[v0].kind, BufferKind::Intermediate { offset: at });
    assert_eq!(p.buffers[v1].kind, BufferKind::Intermediate { offset: at + 4 * 5 * 8 * 4 });
    let tanh = p.steps.iter().find(|s| s.op_name == "Tanh").unwrap();
    assert_ne!(tanh.buffers[1], slot);
    let mut rng = Rng::new(5);
    let ins = [random_in(&mut rng, f, &[1, 8, 5, 8], 0.1, 1.0), random_in(&mut rng, f, &[1, 3], 0.1, 1.0)];
    check_graph(&g, &ins, 1e-6);
}
