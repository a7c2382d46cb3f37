//! If / Loop / Scan: subgraphs imported inline (taken branch, Where select, unrolled bodies),
//! outer-scope names visible inside, checked with the IR interpreter against hand values.

mod common;
use common::*;
use kiln_ir::Tensor;
use kiln_onnx::proto::{attribute_proto::AttributeType, AttributeProto, GraphProto, TensorProto};

/// A subgraph under construction (a `ModelBuilder`'s graph; its opset is unused).
fn sub() -> ModelBuilder {
    ModelBuilder::new(0)
}

fn a_graph(name: &str, g: ModelBuilder) -> AttributeProto {
    let g: GraphProto = g.graph;
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Graph as i32),
        g: Some(g),
        ..Default::default()
    }
}

fn tbool(name: &str, dims: &[usize], data: &[bool]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(BOOL),
        dims: dims.iter().map(|d| *d as i64).collect(),
        int32_data: data.iter().map(|b| *b as i32).collect(),
        ..Default::default()
    }
}

fn f32s(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_f32(shape, v.to_vec()).unwrap()
}

fn boolean(shape: &[usize], v: bool) -> Tensor {
    Tensor::from_bool(shape, vec![v]).unwrap()
}

/// then: x + x, else: -x (both read the outer `x`).
fn branches() -> Vec<AttributeProto> {
    vec![
        a_graph("then_branch", sub().node("Add", &["x", "x"], &["t"], vec![]).output("t")),
        a_graph("else_branch", sub().node("Neg", &["x"], &["e"], vec![]).output("e")),
    ]
}

#[test]
fn if_with_constant_condition_imports_the_taken_branch() {
    for (c, want) in [(true, [2.0, 4.0, 6.0]), (false, [-1.0, -2.0, -3.0])] {
        let g = ModelBuilder::new(13)
            .input("x", F32, &[3])
            .init(tbool("c", &[], &[c]))
            .node("If", &["c"], &["y"], branches())
            .output("y")
            .import()
            .unwrap();
        let op = if c { "Add" } else { "Neg" };
        assert_eq!(histogram(&g), hist(&[(op, 1)]));
        let y = run(&g, &[f32s(&[3], &[1.0, 2.0, 3.0])]);
        assert_close(&y[0], &[3], &want);
    }
}

#[test]
fn if_with_runtime_condition_selects_with_where() {
    let g = ModelBuilder::new(13)
        .input("c", BOOL, &[1])
        .input("x", F32, &[3])
        .node("If", &["c"], &["y"], branches())
        .output("y")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Add", 1), ("Neg", 1), ("Reshape", 1), ("Where", 1)]));
    let x = f32s(&[3], &[1.0, 2.0, 3.0]);
    assert_close(&run(&g, &[boolean(&[1], true), x.clone()])[0], &[3], &[2.0, 4.0, 6.0]);
    assert_close(&run(&g, &[boolean(&[1], false), x])[0], &[3], &[-1.0, -2.0, -3.0]);
}

#[test]
fn if_with_runtime_condition_and_different_branch_types_is_an_error() {
    let else_b = sub().init(tf32("k", &[2], &[1.0, 2.0])).node("Identity", &["k"], &["e"], vec![]).output("e");
    let err = ModelBuilder::new(13)
        .input("c", BOOL, &[])
        .input("x", F32, &[3])
        .node("If", &["c"], &["y"], vec![a_graph("then_branch", sub().output("x")), a_graph("else_branch", else_b)])
        .output("y")
        .import()
        .unwrap_err()
        .to_string();
    assert!(err.contains("node 'n0_If' (If)"), "{err}");
    assert!(err.contains("then_branch gives f32[3] and else_branch gives f32[2]"), "{err}");
}

#[test]
fn unsupported_op_inside_a_branch_is_reported_up_front() {
    let then_b = sub().node("NonZero", &["x"], &["t"], vec![]).output("t");
    let err = ModelBuilder::new(13)
        .input("c", BOOL, &[])
        .input("x", F32, &[3])
        .node("If", &["c"], &["y"], vec![a_graph("then_branch", then_b), a_graph("else_branch", sub().output("x"))])
        .output("y")
        .import()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("unsupported ops: NonZero (ai.onnx opset 13; nodes: n0_NonZero)"), "{err}");
}

/// Loop body: (i, cond_in, y_in) -> (cond_in, y_in + float(i) + w, same as scan output);
/// `w` is an outer-scope graph input.
fn counting_body() -> ModelBuilder {
    sub()
        .input("i", I64, &[])
        .input("cond_in", BOOL, &[])
        .input("y_in", F32, &[1])
        .node("Identity", &["cond_in"], &["cond_out"], vec![])
        .node("Cast", &["i"], &["fi"], vec![a_int("to", 1)])
        .node("Add", &["y_in", "fi"], &["a"], vec![])
        .node("Add", &["a", "w"], &["y_out"], vec![])
        .node("Identity", &["y_out"], &["s"], vec![])
        .output("cond_out")
        .output("y_out")
        .output("s")
}

#[test]
fn loop_with_constant_trip_count_unrolls_with_scan_output() {
    let g = ModelBuilder::new(11)
        .input("y", F32, &[1])
        .input("w", F32, &[1])
        .init(ti64("m", &[], &[3]))
        .init(tbool("c", &[], &[true]))
        .node("Loop", &["m", "c", "y"], &["y_final", "scan"], vec![a_graph("body", counting_body())])
        .output("y_final")
        .output("scan")
        .import()
        .unwrap();
    let out = run(&g, &[f32s(&[1], &[10.0]), f32s(&[1], &[1.0])]);
    // y: 10 -> 10+0+1 = 11 -> 11+1+1 = 13 -> 13+2+1 = 16
    assert_close(&out[0], &[1], &[16.0]);
    assert_close(&out[1], &[3, 1], &[11.0, 13.0, 16.0]);
}

#[test]
fn loop_stops_when_the_body_condition_folds_to_false() {
    // No trip count; cond_out = i < 2 (body initializer): iterations 0, 1, 2 run.
    let body = sub()
        .input("i", I64, &[])
        .input("cond_in", BOOL, &[])
        .input("y_in", F32, &[2])
        .init(ti64("two", &[], &[2]))
        .init(tf32("one", &[], &[1.0]))
        .node("Less", &["i", "two"], &["cond_out"], vec![])
        .node("Add", &["y_in", "one"], &["y_out"], vec![])
        .output("cond_out")
        .output("y_out");
    let g = ModelBuilder::new(13)
        .input("y", F32, &[2])
        .init(tbool("c", &[], &[true]))
        .node("Loop", &["", "c", "y"], &["y_final"], vec![a_graph("body", body)])
        .output("y_final")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Add", 3), ("Constant", 3)]));
    assert_close(&run(&g, &[f32s(&[2], &[0.0, 5.0])])[0], &[2], &[3.0, 8.0]);
}

#[test]
fn loop_with_runtime_trip_count_is_an_error() {
    let err = ModelBuilder::new(11)
        .input("m", I64, &[])
        .input("y", F32, &[1])
        .input("w", F32, &[1])
        .init(tbool("c", &[], &[true]))
        .node("Loop", &["m", "c", "y"], &["y_final", "scan"], vec![a_graph("body", counting_body())])
        .output("y_final")
        .import()
        .unwrap_err()
        .to_string();
    assert!(err.contains("Loop 'n0_Loop': trip count must be a compile-time constant"), "{err}");
}

#[test]
fn loop_with_runtime_body_condition_is_an_error() {
    let body = sub()
        .input("i", I64, &[])
        .input("cond_in", BOOL, &[])
        .input("y_in", F32, &[])
        .init(tf32("zero", &[], &[0.0]))
        .node("Greater", &["y_in", "zero"], &["cond_out"], vec![])
        .node("Neg", &["y_in"], &["y_out"], vec![])
        .output("cond_out")
        .output("y_out");
    let err = ModelBuilder::new(13)
        .input("y", F32, &[])
        .init(ti64("m", &[], &[4]))
        .node("Loop", &["m", "", "y"], &["y_final"], vec![a_graph("body", body)])
        .output("y_final")
        .import()
        .unwrap_err()
        .to_string();
    assert!(err.contains("the body's condition output must be a compile-time constant (iteration 0)"), "{err}");
}

#[test]
fn loop_unrolling_is_capped() {
    let body = sub()
        .input("i", I64, &[])
        .input("cond_in", BOOL, &[])
        .input("y_in", F32, &[1])
        .node("Identity", &["cond_in"], &["cond_out"], vec![])
        .output("cond_out")
        .output("y_in");
    let err = ModelBuilder::new(13)
        .input("y", F32, &[1])
        .init(ti64("m", &[], &[5000]))
        .node("Loop", &["m", "", "y"], &["y_final"], vec![a_graph("body", body)])
        .output("y_final")
        .import()
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than 4096 iterations"), "{err}");
}

#[test]
fn loop_body_with_nested_if_sees_both_enclosing_scopes() {
    // Branches read `y_in` (the body's input) and `w` (the main graph's input).
    let body = sub()
        .input("i", I64, &[])
        .input("cond_in", BOOL, &[])
        .input("y_in", F32, &[1])
        .node("Identity", &["cond_in"], &["cond_out"], vec![])
        .node(
            "If",
            &["c"],
            &["y_out"],
            vec![
                a_graph("then_branch", sub().node("Add", &["y_in", "w"], &["t"], vec![]).output("t")),
                a_graph("else_branch", sub().node("Sub", &["y_in", "w"], &["e"], vec![]).output("e")),
            ],
        )
        .output("cond_out")
        .output("y_out");
    let g = ModelBuilder::new(13)
        .input("c", BOOL, &[])
        .input("y", F32, &[1])
        .input("w", F32, &[1])
        .init(ti64("m", &[], &[2]))
        .node("Loop", &["m", "", "y"], &["y_final"], vec![a_graph("body", body)])
        .output("y_final")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Add", 2), ("Sub", 2), ("Where", 2)]));
    let (y, w) = (f32s(&[1], &[0.5]), f32s(&[1], &[2.0]));
    assert_close(&run(&g, &[boolean(&[], true), y.clone(), w.clone()])[0], &[1], &[4.5]);
    assert_close(&run(&g, &[boolean(&[], false), y, w])[0], &[1], &[-3.5]);
}

#[test]
fn scan_reversed_input_along_axis_1_with_two_output_layouts() {
    let body = sub()
        .input("s_in", F32, &[2])
        .input("x_t", F32, &[2])
        .node("Add", &["s_in", "x_t"], &["s_out"], vec![])
        .node("Identity", &["s_out"], &["o1"], vec![])
        .node("Identity", &["s_out"], &["o2"], vec![])
        .output("s_out")
        .output("o1")
        .output("o2");
    let attrs = vec![
        a_graph("body", body),
        a_int("num_scan_inputs", 1),
        a_ints("scan_input_axes", &[1]),
        a_ints("scan_input_directions", &[1]),
        a_ints("scan_output_axes", &[1, 0]),
        a_ints("scan_output_directions", &[0, 1]),
    ];
    let g = ModelBuilder::new(11)
        .input("s", F32, &[2])
        .input("x", F32, &[2, 3])
        .node("Scan", &["s", "x"], &["s_final", "by_column", "reversed"], attrs)
        .output("s_final")
        .output("by_column")
        .output("reversed")
        .import()
        .unwrap();
    let out = run(&g, &[f32s(&[2], &[0.0, 0.0]), iota(&[2, 3])]);
    // x = [[0,1,2],[3,4,5]] read column 2, 1, 0: states [2,5], [3,9], [3,12].
    assert_close(&out[0], &[2], &[3.0, 12.0]);
    assert_close(&out[1], &[2, 3], &[2.0, 3.0, 3.0, 5.0, 9.0, 12.0]);
    assert_close(&out[2], &[3, 2], &[3.0, 12.0, 3.0, 9.0, 2.0, 5.0]);
}

#[test]
fn scan8_runs_the_body_per_batch_entry() {
    let body = sub()
        .input("s_in", F32, &[])
        .input("x_t", F32, &[])
        .node("Mul", &["s_in", "x_t"], &["s_out"], vec![])
        .node("Identity", &["s_out"], &["o"], vec![])
        .output("s_out")
        .output("o");
    let g = ModelBuilder::new(8)
        .input("s", F32, &[2])
        .input("x", F32, &[2, 3])
        .node("Scan", &["", "s", "x"], &["s_final", "o"], vec![a_graph("body", body), a_int("num_scan_inputs", 1)])
        .output("s_final")
        .output("o")
        .import()
        .unwrap();
    let out = run(&g, &[f32s(&[2], &[1.0, 2.0]), f32s(&[2, 3], &[1.0, 2.0, 3.0, 2.0, 2.0, 0.5])]);
    // batch 0: 1*1, *2, *3 = 1, 2, 6; batch 1: 2*2, *2, *0.5 = 4, 8, 4.
    assert_close(&out[0], &[2], &[6.0, 4.0]);
    assert_close(&out[1], &[2, 3], &[1.0, 2.0, 6.0, 4.0, 8.0, 4.0]);
}
