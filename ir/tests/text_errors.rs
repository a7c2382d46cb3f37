//! Parse errors name the line and what was expected.

use kiln_ir::text::parse;
use kiln_ir::IrError;

fn err(text: &str) -> (usize, String) {
    match parse(text) {
        Err(IrError::Parse { line, msg }) => (line, msg),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

const HEAD: &str = "graph @g(%x: f32[2]) {\n";

#[test]
fn syntax_errors() {
    assert_eq!(err("grph @g() {}"), (1, "expected 'graph', found 'grph'".into()));
    assert_eq!(err("graph g() {}"), (1, "expected the graph name like @main, found 'g'".into()));
    assert_eq!(
        err(&format!("{HEAD}  %y: f32[2] = Relu(%x\n  return %y\n}}")),
        (3, "expected ',', found 'return'".into())
    );
    assert_eq!(
        err(&format!("{HEAD}  %y: f33[2] = Relu(%x)\n  return %y\n}}")).1,
        "unknown dtype 'f33' (expected f32, f64, i32, i64 or bool)"
    );
    assert_eq!(
        err(&format!("{HEAD}  return %x\n}}\nextra")),
        (4, "expected end of text after the graph's '}', found 'extra'".into())
    );
    assert_eq!(
        err(&format!("{HEAD}  %y: f32[2] = Relu(%x)\n")).1,
        "expected a node `%name: type = Op(...)` or `return`, found end of text"
    );
    assert_eq!(err(&format!("{HEAD}  %y: f32[2] = Foo(%x)\n  return %y\n}}")), (2, "unknown op 'Foo'".into()));
    assert_eq!(err("graph @g() {\n  return %x as out\n}").1, "value %x is not defined before this use");
    assert_eq!(err("graph @g() {\n  \"open\n}").0, 2);
}

#[test]
fn semantic_errors() {
    let e = err(&format!("{HEAD}  %y: f32[2] = Relu(%z)\n  return %y\n}}"));
    assert_eq!(e, (2, "value %z is not defined before this use".into()));
    let e = err(&format!("{HEAD}  %x: f32[2] = Relu(%x)\n  return %x\n}}"));
    assert_eq!(e, (2, "value %x is defined twice".into()));
    let e = err(&format!("{HEAD}  %y: f32[3] = Relu(%x)\n  return %y\n}}"));
    assert_eq!(e, (2, "Relu: declared result types (f32[3]) differ from inferred (f32[2])".into()));
    let e = err(&format!("{HEAD}  %y: f32[2] = Add(%x)\n  return %y\n}}"));
    assert_eq!(e, (2, "Add: expects 2 inputs, got 1".into()));
    let e = err(&format!("{HEAD}\n  %y: f32[2] = Softmax(%x) {{axis = 0, axes = 1}}\n  return %y\n}}"));
    assert_eq!(e, (3, "Softmax: unknown attribute 'axes'".into()));
    let e = err(&format!("{HEAD}  %y: f32[2] = Softmax(%x)\n  return %y\n}}"));
    assert_eq!(e, (2, "Softmax: missing attribute 'axis'".into()));
    let e = err(&format!("{HEAD}  %y: f32[2] = Softmax(%x) {{axis = -1}}\n  return %y\n}}"));
    assert_eq!(e, (2, "Softmax: attribute 'axis': expected a non-negative integer, found '-1'".into()));
    let e = err(&format!("{HEAD}  %y: f32[2] = Cast(%x) {{to = f8}}\n  return %y\n}}"));
    assert_eq!(
        e.1,
        "Cast: attribute 'to': expected a dtype (f32, f64, f16, bf16, i8, i16, i32, i64, u8, u16, u32, u64, bool), found 'f8'"
    );
    let e = err(&format!("{HEAD}  %y: f32[2] = Input()\n  return %y\n}}"));
    assert_eq!(e.1, "Input: graph inputs are declared in the graph header, not as nodes");
}

#[test]
fn constant_errors() {
    let e = err("graph @g() {\n  %c: f32[3] = Constant dense<[1.0, 2.0]>\n  return %c\n}");
    assert_eq!(e, (2, "dense<...> has 2 elements, f32[3] needs 3".into()));
    let e = err("graph @g() {\n  %c: i32[2] = Constant dense<[1, 2.5]>\n  return %c\n}");
    assert_eq!(e, (2, "'2.5' is not a i32 value".into()));
    let e = err("graph @g() {\n  %c: bool[2] = Constant splat<1>\n  return %c\n}");
    assert_eq!(e.1, "'1' is not a bool value");
    let e = err("graph @g() {\n  %c: f32[9] = Constant dense<elided 9 elements>\n  return %c\n}");
    assert!(e.1.starts_with("constant data was elided by the printer"), "{}", e.1);
    let e = err("graph @g() {\n  %c: f32[1] = Constant sparse<[1.0]>\n  return %c\n}");
    assert_eq!(e.1, "expected dense<...> or splat<...>, found 'sparse'");
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let g =
        parse("// a comment\ngraph @g(%x: f32[2]) { // trailing\n\n  %y: f32[2] = Neg(%x)\n  return %y\n}\n").unwrap();
    assert_eq!(g.node_count(), 2);
}
