//! Every way a model file can be wrong gives one clear error line at load, never a crash:
//! missing/random/truncated files, libraries without the entry symbol, bad descriptors, bad or
//! inconsistent metadata, and CPU features this host lacks.

mod support;

use kiln_abi::{BufferKind, Metadata};
use kiln_runtime::Model;
use std::path::Path;

fn load_err(path: &Path) -> String {
    match Model::load_with_threads(path, 2) {
        Ok(_) => panic!("{} loaded but should not", path.display()),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "error is not one line: {msg}");
            msg
        }
    }
}

fn build_err(name: &str, meta: &Metadata) -> String {
    let dir = support::tempdir();
    let so = support::build(dir.path(), name, meta, &[]);
    load_err(&so)
}

#[test]
fn missing_file() {
    let e = load_err(Path::new("/nonexistent/model.so"));
    assert!(e.starts_with("/nonexistent/model.so: cannot read:"), "{e}");
}

#[test]
fn directory_and_empty_and_random_files() {
    let dir = support::tempdir();
    let e = load_err(dir.path());
    assert!(e.contains("not a shared object (not a regular file)"), "{e}");

    let empty = dir.path().join("empty.so");
    std::fs::write(&empty, b"").expect("write");
    assert!(load_err(&empty).ends_with("empty.so: not a shared object (no ELF magic)"));

    let random = dir.path().join("random.so");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&random, bytes).expect("write");
    assert!(load_err(&random).ends_with("random.so: not a shared object (no ELF magic)"));

    // ELF magic followed by garbage.
    let fake = dir.path().join("fake.so");
    let mut bytes = b"\x7fELF".to_vec();
    bytes.extend((0..200u32).map(|i| (i * 37) as u8));
    std::fs::write(&fake, bytes).expect("write");
    let e = load_err(&fake);
    assert!(e.contains("fake.so: not a shared object ("), "{e}");
}

#[test]
fn truncated_library() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let full = std::fs::read(&so).expect("read");
    for keep in [20, 64, 200, full.len() / 2, full.len() - 1] {
        let cut = dir.path().join(format!("cut{keep}.so"));
        std::fs::write(&cut, &full[..keep]).expect("write");
        let e = load_err(&cut);
        assert!(e.contains(&format!("cut{keep}.so: not a shared object (")), "{keep}: {e}");
    }
}

#[test]
fn executable_is_not_a_shared_object() {
    let dir = support::tempdir();
    let src = dir.path().join("main.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").expect("write");
    let exe = dir.path().join("main");
    let ok = std::process::Command::new("cc").args(["-no-pie", "-o"]).arg(&exe).arg(&src).status().expect("cc");
    assert!(ok.success());
    let e = load_err(&exe);
    assert!(e.contains("ELF type 2, expected a shared library"), "{e}");
}

#[test]
fn library_without_entry_symbol() {
    let dir = support::tempdir();
    let so = support::build_c_lib(dir.path(), "plain.so", "int plain_function(void) { return 42; }\n");
    let e = load_err(&so);
    assert_eq!(e, format!("{}: not a kiln artifact (no kiln_artifact_v1 symbol)", so.display()));
}

#[test]
fn bad_descriptor_header() {
    let dir = support::tempdir();
    let meta = support::metadata();
    let so = support::build(dir.path(), "magic.so", &meta, &["-DFIXTURE_MAGIC=0x12345678u"]);
    let e = load_err(&so);
    assert!(e.ends_with("magic.so: not a kiln artifact (bad magic 0x12345678, expected 0x4e4c494b (\"KILN\"))"), "{e}");

    let so = support::build(dir.path(), "abi.so", &meta, &["-DFIXTURE_ABI=7u"]);
    let e = load_err(&so);
    assert!(e.ends_with("abi.so: was built for ABI version 7, this runtime reads 1"), "{e}");

    let so = support::build(dir.path(), "null.so", &meta, &["-DFIXTURE_NULL_DESCRIPTOR"]);
    let e = load_err(&so);
    assert!(e.ends_with("null.so: not a kiln artifact (kiln_artifact_v1 returned NULL)"), "{e}");
}

#[test]
fn corrupt_metadata_json() {
    let dir = support::tempdir();
    let json = support::metadata().to_json();
    let so = support::build_raw(dir.path(), "trunc.so", &json[..json.len() / 2], &[]);
    let e = load_err(&so);
    assert!(e.contains("trunc.so: malformed metadata JSON: EOF while parsing"), "{e}");

    let so = support::build_raw(dir.path(), "notjson.so", "hello", &[]);
    assert!(load_err(&so).contains("notjson.so: malformed metadata JSON: expected value"));

    let mut meta = support::metadata();
    meta.abi_version = 9;
    let e = build_err("metaabi.so", &meta);
    assert!(e.ends_with("metaabi.so: was built for ABI version 9, this runtime reads 1"), "{e}");
}

#[test]
fn inconsistent_metadata() {
    type Mutation = Box<dyn Fn(&mut Metadata)>;
    let cases: Vec<(&str, Mutation, String)> = vec![
        (
            "input_size",
            Box::new(|m| m.buffers[0].size_bytes = 12),
            format!(
                "buffer 0 (input 'x') is 12 bytes, f32[{},{}] needs {}",
                support::ROWS,
                support::COLS,
                support::N * 4
            ),
        ),
        (
            "output_size",
            Box::new(|m| m.buffers[5].size_bytes += 4),
            format!(
                "buffer 5 (output 'w') is {} bytes, i32[{}] needs {}",
                support::COLS * 4 + 4,
                support::COLS,
                support::COLS * 4
            ),
        ),
        (
            "input_index",
            Box::new(|m| m.buffers[3].kind = BufferKind::Input { index: 5 }),
            "buffer 3 names input 5, there are 2".into(),
        ),
        (
            "const_index",
            Box::new(|m| m.buffers[1].kind = BufferKind::Constant { index: 1 }),
            "buffer 1 names constant 1, there are 1".into(),
        ),
        (
            "arena_overflow",
            Box::new(|m| m.arena_bytes = 64),
            format!("buffer 2: arena slot 64+{} exceeds arena_bytes 64", support::N * 4),
        ),
        (
            "arena_misaligned",
            Box::new(|m| m.buffers[2].kind = BufferKind::Intermediate { offset: 8 }),
            "buffer 2: arena offset 8 is not a multiple of 64".into(),
        ),
        ("kernel_index", Box::new(|m| m.schedule[1].kernel = 3), "step 1 names kernel 3, there are 3".into()),
        ("buffer_index", Box::new(|m| m.schedule[2].buffers[1] = 6), "step 2 names buffer 6, there are 6".into()),
        ("zero_wg", Box::new(|m| m.schedule[0].max_workgroups = 0), "step 0 (add_const) has max_workgroups 0".into()),
        (
            "kernel_count",
            Box::new(|m| {
                m.kernels.pop();
            }),
            "metadata lists 2 kernels, the kernel table has 3".into(),
        ),
        ("dtype", Box::new(|m| m.inputs[1].dtype = "f8".into()), "input 'k' has unknown dtype 'f8'".into()),
        (
            "output_alias_size",
            Box::new(|m| m.buffers[5].kind = BufferKind::Output { index: 0 }),
            "buffer 5 (output 'z') is 132 bytes, f32[7,33] needs 924".into(),
        ),
        ("huge_shape", Box::new(|m| m.inputs[0].shape = vec![usize::MAX / 2, 4]), "input 'x' is too large".into()),
    ];
    for (name, mutate, want) in cases {
        let mut meta = support::metadata();
        mutate(&mut meta);
        let e = build_err(&format!("{name}.so"), &meta);
        assert!(e.ends_with(&format!("{name}.so: invalid artifact: {want}")), "{name}: {e}");
    }
}

#[test]
fn output_not_written() {
    let mut meta = support::metadata();
    meta.outputs.push(kiln_abi::TensorSig { name: "extra".into(), dtype: "f32".into(), shape: vec![2] });
    let e = build_err("extra.so", &meta);
    assert!(e.ends_with("extra.so: invalid artifact: output 'extra' is not written by any buffer"), "{e}");
}

#[test]
fn target_for_another_architecture() {
    let mut meta = support::metadata();
    meta.target.triple = "aarch64-unknown-linux-gnu".into();
    let e = build_err("arm.so", &meta);
    assert!(
        e.ends_with(&format!(
            "arm.so: built for target aarch64-unknown-linux-gnu, this host is {}",
            std::env::consts::ARCH
        )),
        "{e}"
    );
}

#[test]
fn unknown_cpu_feature() {
    let mut meta = support::metadata();
    meta.target.features = vec!["sse2".into(), "warp-drive".into()];
    let e = build_err("unknown.so", &meta);
    assert!(
        e.ends_with("unknown.so: needs CPU features warp-drive that this runtime cannot check (built for x86-64)"),
        "{e}"
    );
}

#[test]
fn missing_cpu_features_are_all_listed() {
    let missing: Vec<&str> = kiln_runtime::cpu_features::checkable()
        .filter(|f| kiln_runtime::cpu_features::detect(f) == Some(false))
        .collect();
    if missing.is_empty() {
        eprintln!("SKIP missing_cpu_features_are_all_listed: this CPU has every checkable feature");
        return;
    }
    let wanted: Vec<&str> = missing.iter().take(2).copied().collect();
    let mut meta = support::metadata();
    meta.target.cpu = "futurelake".into();
    meta.target.features = std::iter::once("sse2").chain(wanted.iter().copied()).map(String::from).collect();
    let e = build_err("future.so", &meta);
    let want =
        format!("future.so: needs CPU features {} that this CPU lacks (built for futurelake)", wanted.join(", "));
    assert!(e.ends_with(&want), "{e}");
}

#[test]
fn host_features_load() {
    // Every feature this CPU has, as the code generator would record for `--cpu host`.
    let present: Vec<String> = kiln_runtime::cpu_features::checkable()
        .filter(|f| kiln_runtime::cpu_features::detect(f) == Some(true))
        .map(|f| f.to_string())
        .collect();
    let mut meta = support::metadata();
    meta.target.features = present;
    let dir = support::tempdir();
    let so = support::build(dir.path(), "host.so", &meta, &[]);
    Model::load_with_threads(&so, 1).expect("artifact needing only present features loads");
}
