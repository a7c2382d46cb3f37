//! Bad input: every failure is an `ImportError` with one line naming the cause and its place.

mod common;
use common::*;
use kiln_onnx::proto::{tensor_proto::DataLocation, NodeProto, OperatorSetIdProto, StringStringEntryProto};
use kiln_onnx::{import_bytes, import_file, ImportOptions};
use std::collections::BTreeMap;

fn one_line(e: &kiln_onnx::ImportError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n'), "multi-line error: {s}");
    assert!(!s.is_empty());
    s
}

#[test]
fn random_bytes_are_not_a_model() {
    let bytes: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let e = import_bytes(&bytes, None, &ImportOptions::default()).unwrap_err();
    assert!(one_line(&e).contains("not an ONNX model"), "{e}");
}

#[test]
fn truncated_model_is_refused() {
    let bytes = ModelBuilder::new(13)
        .input("x", F32, &[4])
        .init(tf32("w", &[4], &[1.0; 4]))
        .node("Add", &["x", "w"], &["y"], vec![])
        .output("y")
        .bytes();
    let e = import_bytes(&bytes[..bytes.len() / 2], None, &ImportOptions::default()).unwrap_err();
    assert!(one_line(&e).contains("not an ONNX model"), "{e}");
}

#[test]
fn missing_file_names_the_path() {
    let e = import_file(std::path::Path::new("/nonexistent/kiln/model.onnx"), &ImportOptions::default()).unwrap_err();
    let s = one_line(&e);
    assert!(s.contains("cannot read model") && s.contains("/nonexistent/kiln/model.onnx"), "{s}");
}

#[test]
fn unsupported_ops_are_listed_together() {
    let mut b = ModelBuilder::new(13)
        .input("x", F32, &[4])
        .node("NonZero", &["x"], &["a"], vec![])
        .node("Relu", &["x"], &["r"], vec![])
        .node("NonZero", &["x"], &["b"], vec![])
        .output("a");
    b.graph.node[0].name = Some("nz1".into());
    b.graph.node[2].name = Some("nz2".into());
    b.graph.node.push(NodeProto {
        name: Some("f".into()),
        op_type: Some("Foo".into()),
        domain: Some("com.example".into()),
        input: vec!["x".into()],
        output: vec!["c".into()],
        ..Default::default()
    });
    let mut m = b.model();
    m.opset_import.push(OperatorSetIdProto { domain: Some("com.example".into()), version: Some(1) });
    use prost::Message;
    let e = import_bytes(&m.encode_to_vec(), None, &ImportOptions::default()).unwrap_err();
    assert_eq!(
        one_line(&e),
        "unsupported ops: NonZero (ai.onnx opset 13; nodes: nz1, nz2), Foo (com.example opset 1; nodes: f)"
    );
}

#[test]
fn unsupported_opset_is_refused() {
    let e = ModelBuilder::new(6)
        .input("x", F32, &[1])
        .node("Relu", &["x"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(one_line(&e).contains("opset 6"), "{e}");
}

#[test]
fn symbolic_dims_are_all_reported_with_the_flag() {
    let e = ModelBuilder::new(13)
        .input_dims("input_ids", I64, &[Dim::Param("batch"), Dim::Param("seq")])
        .input_dims("mask", F32, &[Dim::Param("batch"), Dim::Fixed(4), Dim::Unknown])
        .node("Identity", &["input_ids"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert_eq!(
        one_line(&e),
        "input 'input_ids' has symbolic dims [batch, seq]: fix them with --shape input_ids=<d0>x<d1>; \
         input 'mask' has symbolic dims [batch, ?]: fix them with --shape mask=<d0>x4x<d2>"
    );
}

fn symbolic_model() -> ModelBuilder {
    ModelBuilder::new(13)
        .input_dims("x", F32, &[Dim::Param("batch"), Dim::Fixed(3)])
        .node("Relu", &["x"], &["y"], vec![])
        .output("y")
}

#[test]
fn shape_option_fixes_symbolic_dims() {
    let opts = ImportOptions { shapes: BTreeMap::from([("x".to_string(), vec![5, 3])]) };
    let g = symbolic_model().import_with(&opts).unwrap();
    assert_eq!(g.value_type(g.input_values()[0]).shape, vec![5, 3]);
}

#[test]
fn shape_option_must_agree_with_fixed_dims_and_rank() {
    let opts = ImportOptions { shapes: BTreeMap::from([("x".to_string(), vec![5, 4])]) };
    let e = symbolic_model().import_with(&opts).unwrap_err();
    assert!(one_line(&e).contains("fixes it to 3"), "{e}");
    let opts = ImportOptions { shapes: BTreeMap::from([("x".to_string(), vec![5])]) };
    let e = symbolic_model().import_with(&opts).unwrap_err();
    assert!(one_line(&e).contains("rank"), "{e}");
}

#[test]
fn shape_option_naming_no_input_is_an_error() {
    let opts = ImportOptions { shapes: BTreeMap::from([("nope".to_string(), vec![1])]) };
    let e = symbolic_model().import_with(&opts).unwrap_err();
    assert!(one_line(&e).contains("'nope'"), "{e}");
}

#[test]
fn unsupported_dtype_names_the_value() {
    let mut t = tf32("fp8", &[2], &[]);
    t.data_type = Some(17); // FLOAT8E4M3FN
    t.raw_data = Some(vec![0; 2]);
    let e = ModelBuilder::new(13)
        .input("x", F32, &[2])
        .init(t)
        .node("Add", &["x", "fp8"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(one_line(&e).contains("unsupported dtype FLOAT8E4M3FN for 'fp8'"), "{e}");
}

#[test]
fn non_constant_shape_operand_is_refused() {
    let e = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .input("s", I64, &[2])
        .node("Reshape", &["x", "s"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    let s = one_line(&e);
    assert!(s.contains("Reshape") && s.contains("needs a constant shape operand"), "{s}");
}

#[test]
fn used_extra_output_is_refused() {
    let e = ModelBuilder::new(13)
        .input("x", F32, &[1, 1, 4, 4])
        .node("MaxPool", &["x"], &["y", "idx"], vec![a_ints("kernel_shape", &[2, 2])])
        .output("y")
        .output("idx")
        .import()
        .unwrap_err();
    let s = one_line(&e);
    assert!(s.contains("MaxPool") && s.contains("'idx'"), "{s}");
}

#[test]
fn shape_errors_name_the_node() {
    let e = ModelBuilder::new(13)
        .input("a", F32, &[2, 3])
        .input("b", F32, &[4, 5])
        .node("MatMul", &["a", "b"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(one_line(&e).starts_with("node 'n0_MatMul' (MatMul): "), "{e}");
}

#[test]
fn undefined_value_is_reported() {
    let e = ModelBuilder::new(13)
        .input("x", F32, &[2])
        .node("Add", &["x", "ghost"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(one_line(&e).contains("'ghost'"), "{e}");
}

// ---- external data ---------------------------------------------------------------------------

fn external(name: &str, location: &str, offset: usize, n: usize) -> kiln_onnx::proto::TensorProto {
    let mut t = tf32(name, &[n], &[]);
    t.data_location = Some(DataLocation::External as i32);
    let kv = |k: &str, v: String| StringStringEntryProto { key: Some(k.into()), value: Some(v) };
    t.external_data =
        vec![kv("location", location.into()), kv("offset", offset.to_string()), kv("length", (n * 4).to_string())];
    t
}

fn external_model(location: &str, offset: usize) -> Vec<u8> {
    ModelBuilder::new(13)
        .input("x", F32, &[2])
        .init(external("w", location, offset, 2))
        .node("Add", &["x", "w"], &["y"], vec![])
        .output("y")
        .bytes()
}

#[test]
fn external_data_is_read_from_the_model_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![0u8; 8];
    data.extend(3.0f32.to_le_bytes());
    data.extend(4.0f32.to_le_bytes());
    std::fs::write(dir.path().join("weights.bin"), &data).unwrap();
    std::fs::write(dir.path().join("m.onnx"), external_model("weights.bin", 8)).unwrap();
    let g = import_file(&dir.path().join("m.onnx"), &ImportOptions::default()).unwrap();
    let y = run(&g, &[iota(&[2])]);
    assert_close(&y[0], &[2], &[3.0, 5.0]);
}

#[test]
fn external_data_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("model");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("outside.bin"), [0u8; 64]).unwrap();
    std::fs::write(sub.join("short.bin"), [0u8; 4]).unwrap();
    let cases = [
        ("../outside.bin", "escapes the model's folder"),
        ("/etc/passwd", "absolute path"),
        ("missing.bin", "cannot be opened"),
        ("short.bin", "too short"),
    ];
    for (loc, want) in cases {
        let bytes = external_model(loc, 0);
        let e = import_bytes(&bytes, Some(&sub), &ImportOptions::default()).unwrap_err();
        let s = one_line(&e);
        assert!(s.contains(want) && s.contains("'w'"), "{loc}: {s}");
    }
    // Without a model folder, external data cannot be resolved.
    let e = import_bytes(&external_model("short.bin", 0), None, &ImportOptions::default()).unwrap_err();
    assert!(one_line(&e).contains("external data"), "{e}");
}

#[cfg(unix)]
#[test]
fn external_data_symlink_escaping_the_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("model");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("outside.bin"), [0u8; 64]).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.bin"), sub.join("link.bin")).unwrap();
    let e = import_bytes(&external_model("link.bin", 0), Some(&sub), &ImportOptions::default()).unwrap_err();
    assert!(one_line(&e).contains("outside the model's folder"), "{e}");
}
