//! Embedding: a C program (examples/c/run_model.c, through libkiln_runtime.so and kiln.h) and a
//! Rust program (runtime/examples/run_model.rs) load a kiln-compiled model.so and produce the same
//! output bytes as `kiln run` (the CLI's .npy outputs).

use kiln_tests::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn profile_dir() -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn build_c_example(dir: &Path) -> PathBuf {
    let lib = profile_dir();
    assert!(
        lib.join("libkiln_runtime.so").is_file(),
        "libkiln_runtime.so missing in {} (cargo build --workspace)",
        lib.display()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let exe = dir.join("run_model_c");
    let st = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-O2", "-I"])
        .arg(root.join("runtime/include"))
        .arg(root.join("examples/c/run_model.c"))
        .arg("-L")
        .arg(&lib)
        .arg("-lkiln_runtime")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(st.success(), "compiling the C example failed");
    exe
}

fn check(model: &str, inputs_order: &[&str], outputs: &[&str]) {
    let dir = model_dir(model);
    let tmp = tempfile::tempdir().unwrap();
    let inputs = load_inputs(&dir, inputs_order).unwrap();
    let so = compile_model(&dir, &inputs, tmp.path()).unwrap();

    // kiln run (the CLI code path) -> .npy
    let given: Vec<(String, PathBuf)> = inputs_order
        .iter()
        .map(|n| (n.to_string(), dir.join("inputs").join(format!("{}.npy", kiln_cli::npy::sanitize(n)))))
        .collect();
    let cli_out = tmp.path().join("cli");
    kiln_cli::run::run(&so, &given, &cli_out, Some(2)).unwrap();

    // the same inputs as raw bytes for the example programs
    let raws: Vec<PathBuf> = inputs
        .iter()
        .map(|(n, t)| {
            let p = tmp.path().join(format!("{}.raw", kiln_cli::npy::sanitize(n)));
            std::fs::write(&p, &t.data).unwrap();
            p
        })
        .collect();
    let c_exe = build_c_example(tmp.path());
    let rust_exe = profile_dir().join("examples/run_model");
    assert!(rust_exe.is_file(), "{} missing (cargo build --workspace --all-targets builds it)", rust_exe.display());
    for (who, exe) in [("C", c_exe), ("Rust", rust_exe)] {
        let out_dir = tmp.path().join(who);
        std::fs::create_dir_all(&out_dir).unwrap();
        let out = Command::new(&exe).arg(&so).arg(&out_dir).args(&raws).args(["--threads", "2"]).output().unwrap();
        assert!(out.status.success(), "{who} example failed: {}", String::from_utf8_lossy(&out.stderr));
        for o in outputs {
            let name = kiln_cli::npy::sanitize(o);
            let from_cli = kiln_cli::npy::read(&cli_out.join(format!("{name}.npy"))).unwrap();
            let from_example = std::fs::read(out_dir.join(format!("{name}.raw"))).unwrap();
            assert_eq!(from_example, from_cli.data, "{model}/{o}: {who} example output differs from kiln run");
        }
    }
}

#[test]
fn c_and_rust_programs_match_kiln_run_on_gpt2() {
    check("gpt2", &["input_ids"], &["logits"]);
}

#[test]
fn c_and_rust_programs_match_kiln_run_on_cnn() {
    check("cnn", &["image"], &["class/probs:0"]);
}
