//! Test support: builds the hand-made fixture artifact (tests/fixtures/add_mul.c) with a chosen
//! metadata and descriptor header into a temp dir, its inputs, and its expected outputs.
#![allow(dead_code)]

use kiln_abi::{Buffer, BufferKind, KernelInfo, Metadata, Step, Target, TensorSig, ABI_VERSION};
use kiln_runtime::HostTensor;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const ROWS: usize = 7;
pub const COLS: usize = 33;
pub const N: usize = ROWS * COLS;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    manifest_dir().join("include")
}

/// The constant `c` of the fixture.
pub fn const_values() -> Vec<f32> {
    (0..N).map(|i| (i % 13) as f32 * 0.5 - 3.0).collect()
}

pub fn input_x() -> Vec<f32> {
    (0..N).map(|i| ((i * 7) % 19) as f32 * 0.25 - 2.0).collect()
}

pub fn input_k() -> Vec<i32> {
    (0..COLS as i32).map(|j| j * 5 - 40).collect()
}

pub fn inputs() -> Vec<HostTensor> {
    vec![HostTensor::from_f32(vec![ROWS, COLS], &input_x()), HostTensor::from_i32(vec![COLS], &input_k())]
}

/// z = (x + c) * 2 + k (broadcast over rows), w = k * 3; computed exactly as the C kernels do.
pub fn expected() -> (Vec<f32>, Vec<i32>) {
    let (x, c, k) = (input_x(), const_values(), input_k());
    let z = (0..N).map(|i| (x[i] + c[i]) * 2.0 + k[i % COLS] as f32).collect();
    let w = k.iter().map(|v| v * 3).collect();
    (z, w)
}

fn target() -> Target {
    Target { triple: "x86_64-unknown-linux-gnu".into(), cpu: "x86-64".into(), features: vec!["sse2".into()] }
}

fn sig(name: &str, dtype: &str, shape: &[usize]) -> TensorSig {
    TensorSig { name: name.into(), dtype: dtype.into(), shape: shape.to_vec() }
}

/// The fixture's correct metadata.
pub fn metadata() -> Metadata {
    let buf = |kind, size_bytes| Buffer { kind, size_bytes, view_of: None };
    let kernel = |name: &str, op: &str| KernelInfo {
        name: name.into(),
        ops: vec![op.into()],
        scratch_bytes: 0,
        one_workgroup_per_thread: false,
    };
    Metadata {
        abi_version: ABI_VERSION,
        compiler_version: "test-fixture".into(),
        model_name: "add_mul".into(),
        target: target(),
        inputs: vec![sig("x", "f32", &[ROWS, COLS]), sig("k", "i32", &[COLS])],
        outputs: vec![sig("z", "f32", &[ROWS, COLS]), sig("w", "i32", &[COLS])],
        buffers: vec![
            buf(BufferKind::Input { index: 0 }, N * 4),
            buf(BufferKind::Constant { index: 0 }, N * 4),
            buf(BufferKind::Intermediate { offset: 64 }, N * 4),
            buf(BufferKind::Input { index: 1 }, COLS * 4),
            buf(BufferKind::Output { index: 0 }, N * 4),
            buf(BufferKind::Output { index: 1 }, COLS * 4),
        ],
        arena_bytes: 64 + kiln_abi::align_up(N * 4),
        kernels: vec![kernel("add_const", "Add"), kernel("scale_bias", "Mul"), kernel("triple", "Mul")],
        schedule: vec![
            Step { kernel: 0, buffers: vec![0, 1, 2], max_workgroups: N as u64 },
            Step { kernel: 1, buffers: vec![2, 3, 4], max_workgroups: ROWS as u64 },
            Step { kernel: 2, buffers: vec![3, 5], max_workgroups: COLS as u64 },
        ],
        ops_imported: Default::default(),
        ops: Default::default(),
    }
}

/// A C string literal holding `s`.
fn c_string_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Compile the fixture with raw metadata text and extra `cc` flags into `dir/name`.
pub fn build_raw(dir: &Path, name: &str, metadata_json: &str, defines: &[&str]) -> PathBuf {
    let consts: Vec<String> = const_values().iter().map(|v| format!("{v:?}f")).collect();
    let inc = format!(
        "#define FIXTURE_ROWS {ROWS}\n#define FIXTURE_COLS {COLS}\n#define FIXTURE_CONST_INIT {{{}}}\n#define FIXTURE_METADATA {}\n",
        consts.join(","),
        c_string_literal(metadata_json)
    );
    let src_dir = dir.join(format!("{name}.src"));
    std::fs::create_dir_all(&src_dir).expect("create fixture dir");
    std::fs::write(src_dir.join("fixture.inc"), inc).expect("write fixture.inc");
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&out)
        .arg("-I")
        .arg(&src_dir)
        .arg("-I")
        .arg(include_dir())
        .args(defines)
        .arg(manifest_dir().join("tests/fixtures/add_mul.c"))
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed for fixture {name}");
    out
}

/// Compile the fixture with `meta` into `dir/name`.
pub fn build(dir: &Path, name: &str, meta: &Metadata, defines: &[&str]) -> PathBuf {
    build_raw(dir, name, &meta.to_json(), defines)
}

/// Compile an arbitrary C source into a shared library `dir/name`.
pub fn build_c_lib(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).expect("write source");
    let out = dir.join(name);
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&out).arg(&src).status().expect("run cc");
    assert!(status.success(), "cc failed for {name}");
    out
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
