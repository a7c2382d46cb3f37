//! The one place where pass order lives: which passes exist, which run at each `-O` level (groups
//! that enable each other run to a fixpoint), and the driver that runs them with the verifier after
//! each and a record of what each changed.

use crate::cost;
use crate::{Pass, PassContext, PassError};
use kiln_ir::Graph;
use std::collections::BTreeMap;

type MakePass = fn() -> Box<dyn Pass>;

/// Every pass by name: the registry `--passes`, `--disable-pass` and `--print-after` resolve
/// against. Keep in the order the default pipeline runs them.
const PASSES: &[(&str, MakePass)] = &[
    ("constant-fold", || Box::new(crate::constant_fold::ConstantFold)),
    ("algebraic-simplify", || Box::new(crate::algebraic::AlgebraicSimplify)),
    ("cse", || Box::new(crate::cse::Cse)),
    ("recognize-norms", || Box::new(crate::recognize_norms::RecognizeNorms)),
    ("recognize-activations", || Box::new(crate::recognize_activations::RecognizeActivations)),
    ("dead-code", || Box::new(crate::dead_code::DeadCode)),
    ("pre-ln-to-rmsnorm", || Box::new(crate::pre_ln_to_rmsnorm::PreLnToRmsNorm)),
    ("fold-batchnorm", || Box::new(crate::fold_batchnorm::FoldBatchNorm)),
    ("repvgg-merge", || Box::new(crate::repvgg_merge::RepVggMerge)),
    ("repavit", || Box::new(crate::repavit::RePaViT)),
    ("fold-norm-affine", || Box::new(crate::fold_norm_affine::FoldNormAffine)),
    ("merge-linear", || Box::new(crate::merge_linear::MergeLinear)),
    ("fuse-bias", || Box::new(crate::fuse_bias::FuseBias)),
    ("conv1x1-to-gemm", || Box::new(crate::conv1x1_to_gemm::Conv1x1ToGemm)),
    ("conv-winograd", || Box::new(crate::conv_winograd::ConvWinograd)),
    ("conv-space-to-depth", || Box::new(crate::conv_space_to_depth::ConvSpaceToDepth)),
    ("conv-pad-input", || Box::new(crate::conv_pad_input::ConvPadInput)),
    ("conv-im2col", || Box::new(crate::conv_im2col::ConvIm2Col)),
    ("fuse-attention", || Box::new(crate::fuse_attention::FuseAttention)),
];

/// Structural reparameterizations: each can expose another (a folded BatchNorm makes a RepVGG
/// branch mergeable, a RePaViT split leaves linear pairs), so they share a fixpoint with cleanup.
const REPARAMETERIZE: &[&str] = &[
    "fold-batchnorm",
    "repvgg-merge",
    "repavit",
    "merge-linear",
    "fold-norm-affine",
    "constant-fold",
    "cse",
    "dead-code",
];

/// Passes that clean up after any rewrite; run to a fixpoint together.
const CANONICALIZE: &[&str] =
    &["constant-fold", "algebraic-simplify", "cse", "recognize-norms", "recognize-activations", "dead-code"];

/// Most rounds a fixpoint group runs before the driver stops it (each round runs every pass of
/// the group once; a group that still changes the graph then is reported, not an error).
pub const MAX_FIXPOINT_ROUNDS: usize = 8;

/// Every registered pass name, in registry order.
pub fn pass_names() -> Vec<&'static str> {
    PASSES.iter().map(|(n, _)| *n).collect()
}

/// Every pass by name (for `--passes`).
pub fn pass_by_name(name: &str) -> Option<Box<dyn Pass>> {
    PASSES.iter().find(|(n, _)| *n == name).map(|(_, make)| make())
}

/// One step of a pipeline: a pass run once, or a group run until none of its passes changes the
/// graph (at most [`MAX_FIXPOINT_ROUNDS`] rounds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Once(String),
    Fixpoint(Vec<String>),
}

/// An ordered list of steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    pub steps: Vec<Step>,
}

impl Pipeline {
    /// The given passes, each run once in order (`--passes a,b,c`).
    pub fn from_names(names: &[&str]) -> Pipeline {
        Pipeline { steps: names.iter().map(|n| Step::Once(n.to_string())).collect() }
    }

    /// Every pass name the pipeline mentions, in order, without repeats.
    pub fn pass_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.steps {
            let names = match s {
                Step::Once(n) => std::slice::from_ref(n),
                Step::Fixpoint(g) => g.as_slice(),
            };
            for n in names {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        out
    }

    /// The pipeline without the named passes (`--disable-pass`).
    pub fn without(mut self, disabled: &[String]) -> Pipeline {
        for s in &mut self.steps {
            if let Step::Fixpoint(g) = s {
                g.retain(|n| !disabled.contains(n));
            }
        }
        self.steps.retain(|s| match s {
            Step::Once(n) => !disabled.contains(n),
            Step::Fixpoint(g) => !g.is_empty(),
        });
        self
    }
}

fn group(names: &[&str]) -> Step {
    Step::Fixpoint(names.iter().map(|n| n.to_string()).collect())
}

/// The default graph-level pipeline for an optimization level (0..=3).
/// - `-O0`: dead-code only (the graph as imported).
/// - `-O1`: canonicalization to a fixpoint.
/// - `-O2`, `-O3`: canonicalization; Pre-LN -> Pre-RMSNorm (on recognized LayerNorms); the
///   reparameterizations to a fixpoint; bias fusion last (it turns MatMul + Add into Gemm, which the
///   linear merges do not read); pointwise convolutions as GEMMs; large 3x3 stride-1 ones by
///   Winograd F(2x2, 3x3); strided ones as stride-1
///   ones over their input's phases; stride-1 ones with their padding made explicit (the
///   codegen runs them directly); the remaining small strided ones as GEMMs over their im2col
///   matrix; attention blocks as one `Attention` op; canonicalization again.
pub fn default_pipeline(opt_level: u8) -> Pipeline {
    let canon = group(CANONICALIZE);
    let steps = match opt_level {
        0 => vec![Step::Once("dead-code".into())],
        1 => vec![canon],
        _ => vec![
            canon.clone(),
            Step::Once("pre-ln-to-rmsnorm".into()),
            group(REPARAMETERIZE),
            Step::Once("fuse-bias".into()),
            Step::Once("conv1x1-to-gemm".into()),
            Step::Once("conv-winograd".into()),
            Step::Once("conv-space-to-depth".into()),
            Step::Once("conv-pad-input".into()),
            Step::Once("conv-im2col".into()),
            Step::Once("fuse-attention".into()),
            canon,
        ],
    };
    Pipeline { steps }
}

#[derive(Clone, Debug, Default)]
pub struct PipelineOptions {
    /// Run the verifier after every pass (always on in tests and debug builds).
    pub verify_each: bool,
    /// Pass names after which to capture the IR text ("all" for every pass).
    pub print_after: Vec<String>,
    /// Merge linear maps even when that costs more FLOPs.
    pub force_linear_merge: bool,
}

/// What one execution of a pass did.
#[derive(Clone, Debug)]
pub struct PassRun {
    pub pass: String,
    pub changed: bool,
    pub ops_before: BTreeMap<String, usize>,
    pub ops_after: BTreeMap<String, usize>,
    pub flops_before: u64,
    pub flops_after: u64,
    pub weight_bytes_before: u64,
    pub weight_bytes_after: u64,
    /// Rewrites the pass declined and why, or what it did.
    pub notes: Vec<String>,
    /// IR text after the pass, when requested by `print_after`.
    pub ir_after: Option<String>,
}

impl PassRun {
    /// Ops whose count went down (name -> how many fewer) and up (name -> how many more).
    pub fn op_delta(&self) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
        let mut removed = BTreeMap::new();
        let mut added = BTreeMap::new();
        let names: std::collections::BTreeSet<&String> = self.ops_before.keys().chain(self.ops_after.keys()).collect();
        for n in names {
            let b = self.ops_before.get(n).copied().unwrap_or(0);
            let a = self.ops_after.get(n).copied().unwrap_or(0);
            if b > a {
                removed.insert(n.clone(), b - a);
            } else if a > b {
                added.insert(n.clone(), a - b);
            }
        }
        (removed, added)
    }
}

/// Run the named passes once each, in order, on `graph`.
pub fn run_passes(graph: &mut Graph, names: &[&str], opts: &PipelineOptions) -> Result<Vec<PassRun>, PassError> {
    run_pipeline(graph, &Pipeline::from_names(names), opts)
}

/// Run `pipeline` on `graph`: every step in order, fixpoint groups until they stop changing it.
pub fn run_pipeline(graph: &mut Graph, pipeline: &Pipeline, opts: &PipelineOptions) -> Result<Vec<PassRun>, PassError> {
    for n in pipeline.pass_names() {
        if pass_by_name(&n).is_none() {
            return Err(PassError::Unknown(n));
        }
    }
    let mut runs = Vec::new();
    for step in &pipeline.steps {
        match step {
            Step::Once(name) => {
                run_one(graph, name, opts, &mut runs)?;
            }
            Step::Fixpoint(names) => {
                for _ in 0..MAX_FIXPOINT_ROUNDS {
                    let mut changed = false;
                    for name in names {
                        changed |= run_one(graph, name, opts, &mut runs)?;
                    }
                    if !changed {
                        break;
                    }
                }
            }
        }
    }
    Ok(runs)
}

fn run_one(graph: &mut Graph, name: &str, opts: &PipelineOptions, runs: &mut Vec<PassRun>) -> Result<bool, PassError> {
    let pass = pass_by_name(name).ok_or_else(|| PassError::Unknown(name.to_string()))?;
    let verify = opts.verify_each || cfg!(debug_assertions);
    let (ops_before, flops_before, weight_bytes_before) =
        (graph.op_histogram(), cost::flops(graph), cost::weight_bytes(graph));
    let mut cx = PassContext { force_linear_merge: opts.force_linear_merge, ..Default::default() };
    let changed = pass.run(graph, &mut cx)?;
    if verify {
        kiln_ir::verify::verify(graph).map_err(|err| PassError::Verify { pass: name.into(), err })?;
    }
    let wants_text = opts.print_after.iter().any(|n| n == "all" || n == name);
    runs.push(PassRun {
        pass: name.into(),
        changed,
        ops_before,
        ops_after: graph.op_histogram(),
        flops_before,
        flops_after: cost::flops(graph),
        weight_bytes_before,
        weight_bytes_after: cost::weight_bytes(graph),
        notes: cx.notes,
        ir_after: wants_text.then(|| kiln_ir::text::print(graph)),
    });
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pipeline_pass_is_registered() {
        for o in 0..=3 {
            for n in default_pipeline(o).pass_names() {
                assert!(pass_by_name(&n).is_some(), "-O{o} names unknown pass {n}");
            }
        }
    }

    #[test]
    fn disabling_removes_a_pass_everywhere() {
        let p = default_pipeline(3).without(&["cse".to_string(), "pre-ln-to-rmsnorm".to_string()]);
        assert!(!p.pass_names().contains(&"cse".to_string()));
        assert!(!p.pass_names().contains(&"pre-ln-to-rmsnorm".to_string()));
        assert!(p.pass_names().contains(&"constant-fold".to_string()));
    }
}
