//! kiln graph passes and the pipeline that orders them.
//!
//! A pass is one file implementing [`Pass`]; [`pipeline`] is the one place that says which passes
//! run, in which order, at each `-O` level. The verifier runs after every pass when asked (tests and
//! debug builds always ask), and a failure names the pass.

pub mod constant_fold;
pub mod dead_code;
pub mod pipeline;

pub use pipeline::{default_pipeline, run_passes, PassRun, PipelineOptions};

use kiln_ir::Graph;

/// One graph-to-graph rewrite. `run` edits the graph in place and says whether it changed it.
pub trait Pass {
    /// Stable name used by `--passes`, `--disable-pass`, `--print-after` and reports.
    fn name(&self) -> &'static str;
    fn run(&self, graph: &mut Graph) -> Result<bool, PassError>;
}

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The pass could not complete (e.g. folding hit an evaluation error).
    #[error("pass {pass}: {msg}")]
    Failed { pass: String, msg: String },
    /// The verifier rejected the graph a pass produced: a compiler bug, named after the pass.
    #[error("verifier failed after pass {pass}: {err}")]
    Verify { pass: String, err: kiln_ir::IrError },
    #[error("unknown pass '{0}'")]
    Unknown(String),
}
