//! Text round trip and interpreter agreement for the reduction / indexing ops: Reduce
//! Prod/Max/Min, ArgMax/ArgMin, TopK, CumSum, GatherElements, GatherND, ScatterElements,
//! ScatterND and Pad (every attribute spelled out, parse(print(g)) == g, same results).

use kiln_ir::op::{ArgOp, PadMode, ScatterReduction};
use kiln_ir::text::{parse, print};
use kiln_ir::{interp, verify, DType, Graph, Op, ReduceOp, Tensor, TensorType};

fn node(g: &mut Graph, op: Op, ins: &[kiln_ir::ValueRef]) -> Vec<kiln_ir::ValueRef> {
    g.add_node(op, ins).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn indexing_ops_round_trip() {
    let mut g = Graph::new("reduce_ops");
    let x = g.add_input("x", TensorType::new(DType::F32, vec![3, 4]));
    let i = g.add_input("i", TensorType::new(DType::I64, vec![2, 4]));
    let mut outs = Vec::new();
    for op in [ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        outs.extend(node(&mut g, Op::Reduce { op, axes: vec![1], keep_dims: true }, &[x]));
    }
    for op in [ArgOp::Max, ArgOp::Min] {
        outs.extend(node(&mut g, Op::ArgReduce { op, axis: 0, keep_dims: false, select_last_index: true }, &[x]));
    }
    outs.extend(node(&mut g, Op::TopK { k: 2, axis: 1, largest: false, sorted: true }, &[x]));
    outs.extend(node(&mut g, Op::CumSum { axis: 1, exclusive: true, reverse: false }, &[x]));
    outs.extend(node(&mut g, Op::GatherElements { axis: 0 }, &[x, i]));
    let nd = g.add_constant("nd", Tensor::from_i64(&[2, 1], vec![2, -1]).unwrap());
    outs.extend(node(&mut g, Op::GatherND { batch_dims: 0 }, &[x, nd]));
    let upd = node(&mut g, Op::GatherElements { axis: 0 }, &[x, i])[0];
    let op = Op::ScatterElements { axis: 0, reduction: ScatterReduction::Mul };
    outs.extend(node(&mut g, op, &[x, i, upd]));
    let rows = node(&mut g, Op::GatherND { batch_dims: 0 }, &[x, nd])[0];
    outs.extend(node(&mut g, Op::ScatterND { reduction: ScatterReduction::None }, &[x, nd, rows]));
    let v = g.add_constant("v", Tensor::from_f32(&[], vec![-0.5]).unwrap());
    outs.extend(node(&mut g, Op::Pad { pads: vec![1, -1, 0, 2], mode: PadMode::Constant }, &[x, v]));
    outs.extend(node(&mut g, Op::Pad { pads: vec![2, 0, 0, 3], mode: PadMode::Reflect }, &[x]));
    for (k, o) in outs.into_iter().enumerate() {
        g.add_output(format!("y{k}"), o);
    }
    verify::verify(&g).unwrap();
    let text = print(&g);
    for word in
        ["ReduceProd", "ArgMin", "TopK", "CumSum", "GatherND", "ScatterElements", "reduction = mul", "mode = reflect"]
    {
        assert!(text.contains(word), "{word} missing:\n{text}");
    }
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(back == g, "graphs differ after round trip:\n{text}");
    assert_eq!(print(&back), text);
    let xs = Tensor::from_f32(&[3, 4], (0..12).map(|v| v as f32 * 0.5 - 2.0).collect()).unwrap();
    let is = Tensor::from_i64(&[2, 4], vec![0, 1, 2, -1, 2, 2, 0, 1]).unwrap();
    assert_eq!(interp::evaluate(&g, &[xs.clone(), is.clone()]).unwrap(), interp::evaluate(&back, &[xs, is]).unwrap());
}

#[test]
fn bad_attribute_values_are_parse_errors() {
    let text = "graph @g(%x: f32[2], %i: i64[2]) {\n  %y: f32[2] = ScatterElements(%x, %i, %x) {axis = 0, reduction = sum}\n  return %y\n}\n";
    let e = parse(text).unwrap_err().to_string();
    assert!(e.contains("none, add, mul, max or min"), "{e}");
    let text = "graph @g(%x: f32[2]) {\n  %y: f32[4] = Pad(%x) {pads = [1, 1], mode = mirror}\n  return %y\n}\n";
    let e = parse(text).unwrap_err().to_string();
    assert!(e.contains("constant, reflect, edge or wrap"), "{e}");
}
