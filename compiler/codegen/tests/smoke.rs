//! Smoke tests of the whole pipeline on one tiny graph, and of each emit stage's output.

mod support;

use kiln_codegen::{compile, CodegenOptions, Emit};
use kiln_ir::{BinaryOp, DType, Graph, Op, UnaryOp};
use support::*;

fn add_relu() -> Graph {
    let mut g = Graph::new("add_relu");
    let a = g.add_input("a", ty(DType::F32, &[3, 5]));
    let b = g.add_input("b", ty(DType::F32, &[5]));
    let s = g.add_node(Op::Binary(BinaryOp::Add), &[a, b]).unwrap()[0];
    let r = g.add_node(Op::Unary(UnaryOp::Relu), &[s]).unwrap()[0];
    g.add_output("y", r);
    g
}

#[test]
fn add_relu_matches_interpreter() {
    let g = add_relu();
    let mut rng = Rng::new(1);
    let ins = vec![random(&mut rng, DType::F32, &[3, 5]), random(&mut rng, DType::F32, &[5])];
    let l = check_graph(&g, &ins, 0.0);
    assert_eq!(l.meta.schedule.len(), 2);
    assert_eq!(l.meta.schedule[0].max_workgroups, 3);
}

#[test]
fn emit_stages_look_right() {
    let g = add_relu();
    let opts = CodegenOptions::default();
    let mlir = String::from_utf8(compile(&g, &opts, Emit::Mlir).unwrap()).unwrap();
    assert!(mlir.contains("scf.for") && mlir.contains("func.func @kiln_k0_body"), "{mlir}");
    let ll = String::from_utf8(compile(&g, &opts, Emit::Llvm).unwrap()).unwrap();
    assert!(ll.contains("define") && ll.contains("@kiln_artifact_v1"), "{ll}");
    let asm = String::from_utf8(compile(&g, &opts, Emit::Asm).unwrap()).unwrap();
    assert!(asm.contains("kiln_artifact_v1:"), "{asm}");
    let obj = compile(&g, &opts, Emit::Obj).unwrap();
    assert_eq!(&obj[..4], b"\x7fELF");
    let so = compile(&g, &opts, Emit::So).unwrap();
    assert_eq!(&so[..4], b"\x7fELF");
}

#[test]
fn shared_library_exports_only_the_entry_symbol() {
    let so = compile(&add_relu(), &CodegenOptions::default(), Emit::So).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.so");
    std::fs::write(&path, so).unwrap();
    let Ok(out) = std::process::Command::new("nm").args(["-D", "--defined-only"]).arg(&path).output() else {
        eprintln!("nm not installed; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let funcs: Vec<&str> = text.lines().filter(|l| l.contains(" T ")).collect();
    assert_eq!(funcs.len(), 1, "{text}");
    assert!(funcs[0].ends_with(" T kiln_artifact_v1"), "{text}");
}
