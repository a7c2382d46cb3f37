//! CI gate for ONNX conformance: every case in tests/conformance/expected_pass.txt (written by
//! scripts/conformance.sh) still compiles, runs and matches its recorded outputs at rtol 1e-3 /
//! atol 1e-7. Cases run in child processes of the conformance binary, 2 at a time, at -O3 like
//! the doc's run (the whole list takes a few minutes on 2 cores). Skipped with a message when the
//! node data folder (`$KILN_ONNX_NODE_DATA`) is missing.

use kiln_tests::conformance::{self, driver, outcome::Status, report};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[test]
fn expected_pass_cases_still_pass() {
    let root = conformance::node_data_root();
    if !root.is_dir() {
        eprintln!("skipping ONNX conformance: {} not found (set KILN_ONNX_NODE_DATA)", root.display());
        return;
    }
    let list_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance").join("expected_pass.txt");
    let text = std::fs::read_to_string(&list_path).unwrap_or_else(|e| panic!("{}: {e}", list_path.display()));
    let cases = report::read_list(&text);
    assert!(!cases.is_empty(), "{} lists no case", list_path.display());
    let opts = driver::DriverOptions {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_conformance")),
        root,
        jobs: 2,
        timeout: Duration::from_secs(60),
        opt_level: 3,
    };
    let outcomes = driver::run_all(&cases, &opts, &|_, _, _| {});
    let failed: Vec<String> =
        outcomes.iter().filter(|o| o.status != Status::Pass).map(|o| format!("{}: {}", o.case, o.summary())).collect();
    let slowest = outcomes.iter().map(|o| o.seconds).fold(0.0f64, f64::max);
    eprintln!("{} expected-pass cases run; slowest {slowest:.1}s", outcomes.len());
    assert!(
        failed.is_empty(),
        "{} of {} expected-pass cases regressed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}
