//! The ONNX backend node-suite conformance harness (onnx 1.22's `backend/test/data/node`): every
//! case is imported, compiled to a `.so`, run and compared with its recorded outputs at rtol 1e-3 /
//! atol 1e-7 (onnx's own runner tolerance), and classified.
//!
//! - [`outcome`]: a case's [`Status`](outcome::Status) and its one-line JSON form;
//! - [`case`]: one case in-process (read, import with specialization, compile, run, compare);
//! - [`compare`]: dtype / shape / value comparison at the suite's tolerance;
//! - [`driver`]: every case in its own child process (`conformance --one`), with a timeout;
//! - [`report`]: docs/onnx-conformance.md and the expected-pass list.
//!
//! The binary is `tests/src/bin/conformance.rs`; `scripts/conformance.sh` regenerates the doc.

pub mod case;
pub mod compare;
pub mod driver;
pub mod outcome;
pub mod report;

use std::path::PathBuf;

/// Where the onnx 1.22 wheel of the project's set-up keeps the node cases.
pub const DEFAULT_NODE_DATA: &str = "/tmp/kvenv/lib/python3.11/site-packages/onnx/backend/test/data/node";

/// The node data root: `$KILN_ONNX_NODE_DATA`, else [`DEFAULT_NODE_DATA`].
pub fn node_data_root() -> PathBuf {
    std::env::var("KILN_ONNX_NODE_DATA").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(DEFAULT_NODE_DATA))
}

/// Every case folder name under `root`, sorted.
pub fn all_cases(root: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(root)? {
        let e = e?;
        if e.path().join("model.onnx").is_file() {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}
