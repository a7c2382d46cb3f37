//! kiln codegen: kiln IR -> MLIR (melior) -> LLVM (inkwell) -> object -> `model.so`.
//!
//! Pipeline (one file per stage):
//! 1. [`plan`]: buffers (caller inputs/outputs, constants, liveness-packed arena) and one kernel
//!    step per op.
//! 2. [`lower`] + [`emit`]: each step's kernel as an MLIR `func.func` over static memrefs,
//!    partitioned over a 1-D workgroup grid (see `kiln_abi`).
//! 3. [`mlir`]: MLIR lowering to the LLVM dialect and translation to an LLVM module.
//! 4. [`llvm`]: wrappers, constants, metadata and the `kiln_artifact_v1` descriptor; optimization
//!    and object emission for the target CPU ([`target`]).
//! 5. [`link`]: `cc -shared`.

pub mod emit;
pub mod error;
pub mod fusion;
pub mod link;
pub mod llvm;
pub mod lower;
pub mod mlir;
pub mod plan;
pub mod target;

pub use error::CodegenError;
pub use target::target_features;

use emit::Kernel;
use error::Result;
use inkwell::targets::FileType;
use kiln_abi::{KernelInfo, Metadata, Step};
use kiln_ir::Graph;
use std::collections::BTreeMap;

/// What [`compile`] returns (`--emit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// The kernel module before lowering (MLIR text).
    Mlir,
    /// The final optimized LLVM module (text).
    Llvm,
    /// Assembly text.
    Asm,
    /// ELF object bytes.
    Obj,
    /// The shared library bytes.
    So,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CodegenOptions {
    /// `host` or an LLVM x86 CPU name from [`target::KNOWN_CPUS`].
    pub target_cpu: String,
    /// 0..=3 (-O0..-O3).
    pub opt_level: u8,
    pub model_name: String,
    /// Op histogram right after import, copied into the metadata.
    pub ops_imported: BTreeMap<String, usize>,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            target_cpu: "host".into(),
            opt_level: 3,
            model_name: "model".into(),
            ops_imported: BTreeMap::new(),
        }
    }
}

/// Compile `graph` to the requested stage's bytes (text stages are UTF-8).
pub fn compile(graph: &Graph, opts: &CodegenOptions, emit: Emit) -> Result<Vec<u8>> {
    kiln_ir::verify::verify(graph)?;
    let target = target::resolve(&opts.target_cpu)?;
    let plan = plan::plan_with(graph, opts.opt_level >= 1, (opts.opt_level >= 1).then(|| target.f32_lanes()))?;
    let mut funcs = Vec::new();
    let mut kernels = Vec::new();
    let mut schedule = Vec::new();
    for (i, st) in plan.steps.iter().enumerate() {
        let mut k = Kernel::new(st.params.clone());
        k.f32_lanes = target.f32_lanes();
        k.prepacked_b = st.prepacked_b;
        k.prepacked_a = st.prepacked_a.clone();
        k.conv_taps = st.conv_taps.clone();
        k.conv_pixel_rows = st.conv_pixel_rows;
        match st.kind {
            plan::StepKind::Node(n) => lower::lower(&graph.node(n).op, &mut k, st.n_in),
            plan::StepKind::Copy => lower::copy::lower(&mut k),
            plan::StepKind::Fused(ref c) => {
                let n_prod = graph.inputs_of(c.producer).len();
                let ops = c.ep_ops(graph, n_prod);
                lower::epilogue::lower_fused(graph, c.producer, &ops, &mut k, n_prod, st.n_in)
            }
        }
        .map_err(|e| CodegenError::new(format!("{} (node producing '{}')", e, st.value_name)))?;
        schedule.push(Step { kernel: i, buffers: st.buffers.clone(), max_workgroups: k.max_workgroups });
        let ops: Vec<String> = st.op_name.split('+').map(str::to_string).collect();
        let name = format!("k{i}_{}", ops.join("_").to_lowercase());
        kernels.push(KernelInfo {
            name,
            ops,
            scratch_bytes: k.scratch_bytes,
            one_workgroup_per_thread: k.one_workgroup_per_thread,
        });
        funcs.push(k.into_func(&emit::body_name(i)));
    }
    let text = emit::module_text(&funcs);
    if emit == Emit::Mlir {
        return Ok(text.into_bytes());
    }

    let ctx = inkwell::context::Context::create();
    let module = mlir::to_llvm(&text, &ctx)?;
    let tm = llvm::machine::target_machine(&target, opts.opt_level)?;
    let meta = Metadata {
        abi_version: kiln_abi::ABI_VERSION,
        compiler_version: env!("CARGO_PKG_VERSION").to_string(),
        model_name: opts.model_name.clone(),
        target: kiln_abi::Target {
            triple: llvm::machine::triple_string(&tm),
            cpu: target.cpu.clone(),
            features: target.features.clone(),
        },
        inputs: plan.inputs.clone(),
        outputs: plan.outputs.clone(),
        buffers: plan.buffers.clone(),
        arena_bytes: plan.arena_bytes,
        kernels,
        schedule,
        ops_imported: opts.ops_imported.clone(),
        ops: graph.op_histogram(),
    };
    let params: Vec<usize> = plan.steps.iter().map(|s| s.params.len()).collect();
    let constants: Vec<Vec<u8>> = plan.constants.iter().map(|t| t.to_le_bytes()).collect();
    llvm::artifact::complete(&ctx, &module, &params, &constants, &meta.to_json())?;
    drop(constants);
    llvm::machine::optimize(&module, &tm, opts.opt_level)?;
    match emit {
        Emit::Mlir => unreachable!("returned above"),
        Emit::Llvm => Ok(module.print_to_string().to_bytes().to_vec()),
        Emit::Asm => llvm::machine::emit(&module, &tm, FileType::Assembly),
        Emit::Obj => llvm::machine::emit(&module, &tm, FileType::Object),
        Emit::So => link::link_shared(&llvm::machine::emit(&module, &tm, FileType::Object)?),
    }
}
