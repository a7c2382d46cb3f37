//! kiln graph passes and the pipeline that orders them.
//!
//! A pass is one file implementing [`Pass`]; [`pipeline`] is the one place that says which passes
//! exist, which run at each `-O` level and in which order (groups that enable each other run to a
//! fixpoint). The verifier runs after every pass when asked (tests and debug builds always ask),
//! and a failure names the pass. [`cost`] measures FLOPs and weight bytes for the per-pass report;
//! [`rewrite`] holds the small graph-editing helpers the passes share.

pub mod algebraic;
pub mod const_conv;
pub mod constant_fold;
pub mod conv1x1_to_gemm;
pub mod conv_im2col;
pub mod conv_pad_input;
pub mod conv_space_to_depth;
pub mod conv_winograd;
pub mod cost;
pub mod cse;
pub mod dead_code;
pub mod fold_batchnorm;
pub mod fold_norm_affine;
pub mod fuse_attention;
pub mod fuse_bias;
pub mod merge_linear;
pub mod pipeline;
pub mod pre_ln_to_rmsnorm;
pub mod recognize_activations;
pub mod recognize_norms;
pub mod repavit;
pub mod repvgg_merge;
pub mod rewrite;

pub use pipeline::{default_pipeline, pass_names, run_passes, run_pipeline, PassRun, Pipeline, PipelineOptions, Step};

use kiln_ir::Graph;

/// One graph-to-graph rewrite. `run` edits the graph in place and says whether it changed it.
/// Every rewrite must keep the graph's outputs equal up to float rounding; where a precondition
/// does not hold the pass leaves that part of the graph alone and says why in `cx.notes`.
pub trait Pass {
    /// Stable name used by `--passes`, `--disable-pass`, `--print-after` and reports.
    fn name(&self) -> &'static str;
    fn run(&self, graph: &mut Graph, cx: &mut PassContext) -> Result<bool, PassError>;
}

/// What a pass may read besides the graph, and where it leaves its notes.
#[derive(Clone, Debug, Default)]
pub struct PassContext {
    /// One line per rewrite declined (and why) or worth telling; shown by `kiln compile --report`.
    pub notes: Vec<String>,
    /// Merge linear maps even when the merged form costs more FLOPs (`--force-linear-merge`).
    pub force_linear_merge: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The pass could not complete (e.g. folding hit an evaluation error).
    #[error("pass {pass}: {msg}")]
    Failed { pass: String, msg: String },
    /// The verifier rejected the graph a pass produced: a compiler bug, named after the pass.
    #[error("verifier failed after pass {pass}: {err}")]
    Verify { pass: String, err: kiln_ir::IrError },
    #[error("unknown pass '{0}' (known: {known})", known = pass_names().join(", "))]
    Unknown(String),
}

impl PassError {
    /// A failure of `pass` from an IR error (a rewrite that built an ill-typed node).
    pub fn ir(pass: &str, e: kiln_ir::IrError) -> PassError {
        PassError::Failed { pass: pass.into(), msg: e.to_string() }
    }
}
