//! The `kiln` binary as users meet it: the documented command forms, and every kind of bad input
//! getting one clear line on stderr, a non-zero exit, and no panic or backtrace.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("kiln runs")
}

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

fn model(name: &str) -> String {
    models().join(name).join("model.onnx").display().to_string()
}

fn input(model: &str, name: &str) -> String {
    format!("{name}={}", models().join(model).join("inputs").join(format!("{name}.npy")).display())
}

/// A failed command: non-zero exit, exactly one line on stderr starting with "error:", no panic.
fn assert_clean_error(out: &Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "expected failure, got success; stderr: {stderr}");
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("internal compiler error"), "{stderr}");
    assert!(stderr.contains(needle), "'{needle}' not in: {stderr}");
    stderr
}

fn compile_mlp(dir: &Path, extra: &[&str]) -> String {
    let so = dir.join("mlp.so").display().to_string();
    let m = model("mlp");
    let mut args = vec!["compile", &m, "-o", &so];
    args.extend_from_slice(extra);
    let out = kiln(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    so
}

#[test]
fn compile_run_inspect_bench() {
    let tmp = tempfile::tempdir().unwrap();
    let so = compile_mlp(tmp.path(), &[]);
    let out_dir = tmp.path().join("out");
    let out =
        kiln(&["run", &so, "--input", &input("mlp", "x"), "--output-dir", out_dir.to_str().unwrap(), "--threads", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out_dir.join("probs.npy").exists());

    let out = kiln(&["inspect", &so, "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inputs"][0]["name"], "x");
    assert_eq!(v["inputs"][0]["shape"], serde_json::json!([4, 64]));
    assert_eq!(v["outputs"][0]["name"], "probs");
    assert_eq!(v["ops_imported"]["Gemm"], 1);
    assert_eq!(v["ops"]["Softmax"], 1);

    let out = kiln(&["inspect", &model("mlp"), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ops_imported"]["MatMul"], 2);

    let out = kiln(&["bench", &so, "--runs", "5", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["median_ms"].as_f64().unwrap() > 0.0 && v["runs"] == 5);

    // A bare file name is a path in the working directory, not a library-path search.
    let dir = Path::new(&so).parent().unwrap();
    let name = Path::new(&so).file_name().unwrap().to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .current_dir(dir)
        .args(["bench", name, "--runs", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn output_names_are_sanitized() {
    let tmp = tempfile::tempdir().unwrap();
    let so = tmp.path().join("cnn.so").display().to_string();
    assert!(kiln(&["compile", &model("cnn"), "-o", &so]).status.success());
    let out_dir = tmp.path().join("o");
    let out = kiln(&["run", &so, "--input", &input("cnn", "image"), "--output-dir", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out_dir.join("class_probs_0.npy").exists());
}

#[test]
fn emit_text_stages_to_stdout() {
    for (stage, needle) in
        [("ir", "graph @"), ("mlir", "func.func"), ("llvm", "kiln_artifact_v1"), ("asm", "kiln_artifact_v1")]
    {
        let out = kiln(&["compile", &model("mlp"), "-o", "-", "--emit", stage]);
        assert!(out.status.success(), "{stage}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(needle), "{stage} output lacks {needle}");
    }
    let out = kiln(&["compile", &model("mlp"), "-o", "-", "--emit", "so"]);
    assert_clean_error(&out, "binary");
}

#[test]
fn random_bytes_as_model() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("junk.onnx");
    let mut state = 12345u64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 33) as u8
        })
        .collect();
    std::fs::write(&p, bytes).unwrap();
    assert_clean_error(
        &kiln(&["compile", p.to_str().unwrap(), "-o", tmp.path().join("o.so").to_str().unwrap()]),
        "junk.onnx",
    );
    assert!(!tmp.path().join("o.so").exists(), "no output on failure");
}

#[test]
fn truncated_model() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(model("mlp")).unwrap();
    let p = tmp.path().join("half.onnx");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    assert_clean_error(
        &kiln(&["compile", p.to_str().unwrap(), "-o", tmp.path().join("o.so").to_str().unwrap()]),
        "half.onnx",
    );
}

#[test]
fn missing_model_file() {
    assert_clean_error(&kiln(&["compile", "/nonexistent/model.onnx", "-o", "/tmp/x.so"]), "no such file");
}

#[test]
fn unsupported_ops_are_all_listed() {
    let bad = models().join("bad/unsupported.onnx");
    let err = assert_clean_error(&kiln(&["compile", bad.to_str().unwrap(), "-o", "/tmp/never.so"]), "NonZero");
    for needle in ["nz1", "nz2", "FancyOp", "com.example", "fancy"] {
        assert!(err.contains(needle), "'{needle}' missing from: {err}");
    }
}

#[test]
fn symbolic_dims_need_shape() {
    let err = assert_clean_error(&kiln(&["compile", &model("bert"), "-o", "/tmp/never.so"]), "--shape");
    assert!(err.contains("batch") && err.contains("seq"), "{err}");
}

#[test]
fn output_never_overwrites_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("m.onnx");
    std::fs::copy(model("mlp"), &p).unwrap();
    let before = std::fs::read(&p).unwrap();
    assert_clean_error(&kiln(&["compile", p.to_str().unwrap(), "-o", p.to_str().unwrap()]), "overwrite");
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn wrong_input_shape_and_dtype_at_run_time() {
    let tmp = tempfile::tempdir().unwrap();
    let so = compile_mlp(tmp.path(), &[]);
    let od = tmp.path().join("o");
    // cnn's image is f32[2,3,32,32]; mlp wants f32[4,64]
    let wrong_shape = format!("x={}", models().join("cnn/inputs/image.npy").display());
    assert_clean_error(&kiln(&["run", &so, "--input", &wrong_shape, "--output-dir", od.to_str().unwrap()]), "x");
    // gpt2's input_ids is i64
    let wrong_dtype = format!("x={}", models().join("gpt2/inputs/input_ids.npy").display());
    assert_clean_error(&kiln(&["run", &so, "--input", &wrong_dtype, "--output-dir", od.to_str().unwrap()]), "i64");
    assert_clean_error(&kiln(&["run", &so, "--output-dir", od.to_str().unwrap()]), "missing --input");
    let unknown = format!("y={}", models().join("mlp/inputs/x.npy").display());
    assert_clean_error(
        &kiln(&["run", &so, "--input", &unknown, "--output-dir", od.to_str().unwrap()]),
        "unknown input",
    );
}

#[test]
fn not_a_kiln_artifact() {
    let tmp = tempfile::tempdir().unwrap();
    let od = tmp.path().join("o");
    // an ONNX file where an artifact is expected
    assert_clean_error(
        &kiln(&["run", &model("mlp"), "--input", &input("mlp", "x"), "--output-dir", od.to_str().unwrap()]),
        "mlp",
    );
    // a real shared library that is not a kiln artifact
    let c = tmp.path().join("lib.c");
    std::fs::write(&c, "int answer(void) { return 42; }\n").unwrap();
    let so = tmp.path().join("libforeign.so");
    assert!(Command::new("cc")
        .args(["-shared", "-fPIC", "-o", so.to_str().unwrap(), c.to_str().unwrap()])
        .status()
        .unwrap()
        .success());
    assert_clean_error(
        &kiln(&["run", so.to_str().unwrap(), "--output-dir", od.to_str().unwrap()]),
        "not a kiln artifact",
    );
}

#[test]
fn stale_artifact_abi_version() {
    let tmp = tempfile::tempdir().unwrap();
    let so = compile_mlp(tmp.path(), &[]);
    let mut bytes = std::fs::read(&so).unwrap();
    let mut pat = b"KILN".to_vec();
    pat.extend_from_slice(&kiln_abi::ABI_VERSION.to_le_bytes());
    let at: Vec<usize> = (0..bytes.len() - pat.len()).filter(|i| bytes[*i..*i + pat.len()] == pat[..]).collect();
    assert_eq!(at.len(), 1, "the descriptor's magic+version appear once in the .so");
    bytes[at[0] + 4] = 7;
    let stale = tmp.path().join("stale.so");
    std::fs::write(&stale, bytes).unwrap();
    assert_clean_error(&kiln(&["inspect", stale.to_str().unwrap()]), "ABI version 7");
}

#[test]
fn artifact_for_missing_cpu_features() {
    // No x86 CPU has both AMD's SSE4a (every Zen) and AVX512-FP16/AMX (Sapphire Rapids and later
    // Intel parts), so on any host at least one of these artifacts must be refused at load time,
    // naming a missing feature: one of the distinguishing ones, or AVX-512 itself on a host
    // without it (an AVX2-only Zen lacks znver4's AVX-512 before anything else). One that does
    // load must compute the right numbers.
    let tmp = tempfile::tempdir().unwrap();
    let mut refused = Vec::new();
    for (cpu, features) in
        [("znver4", &["sse4a", "avx512f"][..]), ("sapphirerapids", &["avx512fp16", "amx-tile", "avx512f"][..])]
    {
        let so = tmp.path().join(format!("{cpu}.so")).display().to_string();
        let out = kiln(&["compile", &model("mlp"), "-o", &so, "--target-cpu", cpu]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let od = tmp.path().join(cpu);
        let out = kiln(&["run", &so, "--input", &input("mlp", "x"), "--output-dir", od.to_str().unwrap()]);
        if out.status.success() {
            let got = std::fs::read(od.join("probs.npy")).unwrap();
            assert!(!got.is_empty());
            continue;
        }
        let err = assert_clean_error(&out, cpu);
        assert!(features.iter().any(|f| err.contains(f)), "{err}");
        refused.push(cpu);
    }
    assert!(!refused.is_empty(), "one of the two artifacts needs a feature this CPU lacks");
}

#[test]
fn unknown_target_cpu() {
    assert_clean_error(
        &kiln(&["compile", &model("mlp"), "-o", "/tmp/never.so", "--target-cpu", "pentium9000"]),
        "pentium9000",
    );
}
