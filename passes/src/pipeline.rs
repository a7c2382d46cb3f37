//! The one place where pass order lives: which passes run at each `-O` level, and the driver that
//! runs a list of passes with the verifier after each and a record of what each changed.

use crate::constant_fold::ConstantFold;
use crate::dead_code::DeadCode;
use crate::{Pass, PassError};
use kiln_ir::Graph;
use std::collections::BTreeMap;

/// Every pass by name (for `--passes`): the registry.
pub fn pass_by_name(name: &str) -> Option<Box<dyn Pass>> {
    match name {
        "constant-fold" => Some(Box::new(ConstantFold)),
        "dead-code" => Some(Box::new(DeadCode)),
        _ => None,
    }
}

/// The default graph-level pipeline for an optimization level (0..=3).
pub fn default_pipeline(opt_level: u8) -> Vec<&'static str> {
    match opt_level {
        0 => vec!["dead-code"],
        _ => vec!["constant-fold", "dead-code"],
    }
}

#[derive(Clone, Debug, Default)]
pub struct PipelineOptions {
    /// Run the verifier after every pass (always on in tests and debug builds).
    pub verify_each: bool,
    /// Pass names after which to capture the IR text ("all" for every pass).
    pub print_after: Vec<String>,
}

/// What one pass did.
#[derive(Clone, Debug)]
pub struct PassRun {
    pub pass: String,
    pub changed: bool,
    pub ops_before: BTreeMap<String, usize>,
    pub ops_after: BTreeMap<String, usize>,
    /// IR text after the pass, when requested by `print_after`.
    pub ir_after: Option<String>,
}

/// Run the named passes in order on `graph`.
pub fn run_passes(graph: &mut Graph, names: &[&str], opts: &PipelineOptions) -> Result<Vec<PassRun>, PassError> {
    let passes: Vec<Box<dyn Pass>> = names
        .iter()
        .map(|n| pass_by_name(n).ok_or_else(|| PassError::Unknown(n.to_string())))
        .collect::<Result<_, _>>()?;
    let verify = opts.verify_each || cfg!(debug_assertions);
    let mut runs = Vec::new();
    for p in passes {
        let ops_before = graph.op_histogram();
        let changed = p.run(graph)?;
        if verify {
            kiln_ir::verify::verify(graph).map_err(|err| PassError::Verify { pass: p.name().into(), err })?;
        }
        let wants_text = opts.print_after.iter().any(|n| n == "all" || n == p.name());
        runs.push(PassRun {
            pass: p.name().into(),
            changed,
            ops_before,
            ops_after: graph.op_histogram(),
            ir_after: wants_text.then(|| kiln_ir::text::print(graph)),
        });
    }
    Ok(runs)
}
