//! Emitted text at each stage: MLIR kernels, optimized LLVM IR (vectorized MatMul inner loop,
//! inline f32 erf, only the entry symbol exported) and assembly.

mod support;

use kiln_codegen::{compile, CodegenOptions, Emit};
use kiln_ir::{DType, Op, UnaryOp};
use support::*;

fn text(g: &kiln_ir::Graph, emit: Emit, cpu: &str) -> String {
    let opts = CodegenOptions { target_cpu: cpu.into(), ..Default::default() };
    String::from_utf8(compile(g, &opts, emit).unwrap()).unwrap()
}

fn matmul_graph() -> kiln_ir::Graph {
    build("mm", &[ty(DType::F32, &[16, 64]), ty(DType::F32, &[64, 128])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        vec![node(g, Op::Unary(UnaryOp::Erf), &[m])[0]]
    })
}

#[test]
fn mlir_has_one_func_per_kernel_with_loops() {
    let t = text(&matmul_graph(), Emit::Mlir, "host");
    assert_eq!(t.matches("func.func @kiln_k").count(), 2, "{t}");
    assert!(t.contains("scf.for"), "{t}");
    assert!(t.contains("memref<16x64xf32>") && t.contains("%wg: index, %nwg: index"), "{t}");
    // f32 erf is the inline rational approximation (emit::fast_math), not math.erf.
    assert!(!t.contains("math.erf") && t.contains("math.fma"), "{t}");
}

#[test]
fn llvm_ir_is_vectorized_and_exports_only_the_entry() {
    let t = text(&matmul_graph(), Emit::Llvm, "x86-64-v3");
    assert!(t.lines().any(|l| l.starts_with("define ") && l.contains("ptr @kiln_artifact_v1()")), "entry symbol");
    let exported: Vec<&str> = t.lines().filter(|l| l.starts_with("define ") && !l.contains("internal")).collect();
    assert_eq!(exported.len(), 1, "{exported:?}");
    assert!(t.contains("<8 x float>"), "the MatMul j loop is vectorized for AVX2");
    assert!(!t.contains("@erff"), "f32 erf is inline, no libm call");
    assert!(t.contains("align 64"), "constants/metadata 64-byte aligned");
}

#[test]
fn asm_targets_the_cpu() {
    let t = text(&matmul_graph(), Emit::Asm, "skylake-avx512");
    assert!(t.contains("kiln_artifact_v1:"));
    assert!(t.contains("zmm") || t.contains("ymm"), "vector registers used");
}
