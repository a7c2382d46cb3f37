//! Target CPUs: feature tables, unknown names, artifacts built for named CPUs, opt levels.

mod support;

use kiln_codegen::target::{resolve, KNOWN_CPUS, RECORDED_FEATURES};
use kiln_codegen::{compile, target_features, CodegenOptions, Emit};
use kiln_ir::{BinaryOp, DType, Op, UnaryOp};
use std::process::Command;
use support::*;

fn small_graph() -> kiln_ir::Graph {
    build("small", &[ty(DType::F32, &[4, 33]), ty(DType::F32, &[33, 8])], |g, x| {
        let m = node(g, Op::MatMul, &[x[0], x[1]])[0];
        let e = node(g, Op::Unary(UnaryOp::Tanh), &[m])[0];
        vec![node(g, Op::Binary(BinaryOp::Mul), &[e, m])[0]]
    })
}

#[test]
fn unknown_cpu_is_a_clear_error() {
    let e = target_features("pentium-9000").unwrap_err().to_string();
    assert!(e.contains("unknown target CPU 'pentium-9000'") && e.contains("znver4") && !e.contains('\n'), "{e}");
    let opts = CodegenOptions { target_cpu: "pentium-9000".into(), ..Default::default() };
    assert!(compile(&small_graph(), &opts, Emit::So).is_err());
}

#[test]
fn sapphirerapids_records_fp16_and_amx() {
    let f = target_features("sapphirerapids").unwrap();
    for want in ["avx512fp16", "amx-tile", "amx-int8", "avx512bf16", "avx2", "sse2"] {
        assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
    }
    let opts = CodegenOptions { target_cpu: "sapphirerapids".into(), ..Default::default() };
    let l = Loaded::compile_with(&small_graph(), &opts);
    assert_eq!(l.meta.target.cpu, "sapphirerapids");
    assert_eq!(l.meta.target.features, f);
    assert!(l.meta.target.triple.starts_with("x86_64"), "{}", l.meta.target.triple);
}

#[test]
fn baseline_has_only_sse2() {
    assert_eq!(target_features("x86-64").unwrap(), vec!["sse2".to_string()]);
    let v3 = target_features("x86-64-v3").unwrap();
    assert!(v3.contains(&"avx2".to_string()) && !v3.iter().any(|f| f.starts_with("avx512")));
}

#[test]
fn host_features_are_checkable_and_named() {
    let t = resolve("host").unwrap();
    assert!(!t.cpu.is_empty() && t.cpu != "host");
    assert!(t.features.iter().all(|f| RECORDED_FEATURES.contains(&f.as_str())));
    assert!(t.features.contains(&"sse2".to_string()));
}

/// Every named CPU is one LLVM 22 knows (`llc -mcpu=help`), when llc is installed.
#[test]
fn known_cpus_are_llvm_cpus() {
    let Ok(out) = Command::new("/usr/lib/llvm-22/bin/llc").args(["-march=x86-64", "-mcpu=help"]).output() else {
        eprintln!("llc-22 not installed; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for (cpu, _) in KNOWN_CPUS {
        assert!(text.lines().any(|l| l.split_whitespace().next() == Some(cpu)), "LLVM does not list {cpu}");
    }
}

/// The feature table agrees with GCC's definition of each CPU it knows (`-Q --help=target`).
#[test]
fn feature_table_agrees_with_gcc() {
    for (cpu, _) in KNOWN_CPUS {
        let Ok(out) = Command::new("gcc").args([&format!("-march={cpu}"), "-Q", "--help=target"]).output() else {
            return;
        };
        if !out.status.success() {
            continue; // this GCC does not know the CPU (e.g. znver5 on GCC 12)
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let gcc: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (name, state) = (w.next()?, w.next()?);
                (state == "[enabled]").then(|| name.strip_prefix("-m")).flatten()
            })
            .filter(|f| RECORDED_FEATURES.contains(f))
            .collect();
        let ours = target_features(cpu).unwrap();
        let mut gcc_sorted: Vec<String> = gcc.iter().map(|s| s.to_string()).collect();
        gcc_sorted.sort();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort();
        assert_eq!(ours_sorted, gcc_sorted, "{cpu}");
    }
}

#[test]
fn named_cpus_and_opt_levels_compute_the_same() {
    let g = small_graph();
    let mut rng = Rng::new(100);
    let ins = vec![random(&mut rng, DType::F32, &[4, 33]), random(&mut rng, DType::F32, &[33, 8])];
    let want = kiln_ir::interp::evaluate(&g, &ins).unwrap();
    let host = resolve("host").unwrap().features;
    for cpu in ["x86-64", "x86-64-v3", "skylake-avx512", "znver4"] {
        for opt_level in [0, 1, 2, 3] {
            let opts = CodegenOptions { target_cpu: cpu.into(), opt_level, ..Default::default() };
            let obj = compile(&g, &opts, Emit::Obj).unwrap();
            assert_eq!(&obj[..4], b"\x7fELF");
            if target_features(cpu).unwrap().iter().all(|f| host.contains(f)) && (opt_level == 0 || opt_level == 3) {
                let l = Loaded::compile_with(&g, &opts);
                let got = l.run(&ins, &|m| m);
                assert_close(&format!("{cpu} -O{opt_level}"), &got[0], &want[0], 1e-5);
            }
        }
    }
}
