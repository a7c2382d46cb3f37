//! The C API end to end: compile examples/c/run_model.c against the built libkiln_runtime.so, run
//! it on the fixture artifact (with .raw inputs and with the built-in pattern) and check its output
//! bytes; the Rust example (runtime/examples/run_model.rs) must write the same bytes; load errors
//! reach the C caller as one line.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{COLS, N, ROWS};

/// The directory holding libkiln_runtime.so: next to this test binary (target/<profile>/deps),
/// or its parent (target/<profile>).
fn runtime_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary dir").to_path_buf();
    for dir in [deps.clone(), deps.parent().unwrap_or(&deps).to_path_buf()] {
        if dir.join("libkiln_runtime.so").is_file() {
            return dir;
        }
    }
    panic!("libkiln_runtime.so not found next to {} or in its parent", exe.display());
}

fn compile_c_example(dir: &Path) -> PathBuf {
    let lib = runtime_lib_dir();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/c/run_model.c");
    let exe = dir.join("run_model");
    let status = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(support::include_dir())
        .arg(&src)
        .arg("-L")
        .arg(&lib)
        .arg("-lkiln_runtime")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("run cc");
    assert!(status.success(), "compiling run_model.c failed");
    exe
}

fn rust_example() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let example = profile_dir.join("examples/run_model");
    assert!(example.is_file(), "{} missing (cargo test builds examples)", example.display());
    example
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{:?} failed:\n{}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i32_bytes(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn c_example_runs_fixture_from_raw_files() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let exe = compile_c_example(dir.path());
    let x_raw = dir.path().join("x.raw");
    let k_raw = dir.path().join("k.raw");
    std::fs::write(&x_raw, f32_bytes(&support::input_x())).expect("write");
    std::fs::write(&k_raw, i32_bytes(&support::input_k())).expect("write");
    let (z, w) = support::expected();
    for threads in ["1", "3"] {
        let out_dir = dir.path().join(format!("out{threads}"));
        std::fs::create_dir(&out_dir).expect("mkdir");
        let out = run(Command::new(&exe).arg(&so).arg(&out_dir).arg(&x_raw).arg(&k_raw).args(["--threads", threads]));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(&format!("input 0 'x': f32[{ROWS},{COLS}]")), "{stdout}");
        assert!(stdout.contains(&format!("output 1 'w': i32[{COLS}]")), "{stdout}");
        assert_eq!(std::fs::read(out_dir.join("z.raw")).expect("z.raw"), f32_bytes(&z));
        assert_eq!(std::fs::read(out_dir.join("w.raw")).expect("w.raw"), i32_bytes(&w));
    }
}

#[test]
fn c_and_rust_examples_agree_on_the_pattern_inputs() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let exe = compile_c_example(dir.path());
    // The documented pattern: input k element i -> v = (i*7 + k*3) % 17 - 8; f32: v * 0.125.
    let v = |i: usize, k: usize| ((i * 7 + k * 3) % 17) as i64 - 8;
    let x: Vec<f32> = (0..N).map(|i| v(i, 0) as f32 * 0.125).collect();
    let k: Vec<i32> = (0..COLS).map(|i| v(i, 1) as i32).collect();
    let c = support::const_values();
    let z: Vec<f32> = (0..N).map(|i| (x[i] + c[i]) * 2.0 + k[i % COLS] as f32).collect();
    let w: Vec<i32> = k.iter().map(|v| v * 3).collect();
    for (tag, program) in [("c", exe), ("rust", rust_example())] {
        let out_dir = dir.path().join(tag);
        std::fs::create_dir(&out_dir).expect("mkdir");
        run(Command::new(&program).arg(&so).arg(&out_dir).args(["--threads", "2"]));
        assert_eq!(std::fs::read(out_dir.join("z.raw")).expect("z.raw"), f32_bytes(&z), "{tag}");
        assert_eq!(std::fs::read(out_dir.join("w.raw")).expect("w.raw"), i32_bytes(&w), "{tag}");
    }
}

#[test]
fn c_example_reports_errors_in_one_line() {
    let dir = support::tempdir();
    let exe = compile_c_example(dir.path());
    let so = support::build(dir.path(), "abi.so", &support::metadata(), &["-DFIXTURE_ABI=7u"]);
    let out = Command::new(&exe).arg(&so).arg(dir.path()).output().expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, format!("run_model: {}: was built for ABI version 7, this runtime reads 1\n", so.display()));

    // Wrong input file size: the example checks before running.
    let good = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let short = dir.path().join("short.raw");
    std::fs::write(&short, [0u8; 8]).expect("write");
    let out = Command::new(&exe).arg(&good).arg(dir.path()).arg(&short).arg(&short).output().expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected exactly 924 bytes"));
}
