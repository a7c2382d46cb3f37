//! The x86-64 target machine for a resolved CPU, the LLVM optimization pipeline
//! (`default<On>`), and emission of IR text, assembly or an ELF object (PIC, for a shared lib).

use crate::error::{CodegenError, Result};
use crate::target::ResolvedTarget;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::OptimizationLevel;

/// The target machine for `t` (host triple, x86-64 only).
pub fn target_machine(t: &ResolvedTarget, opt_level: u8) -> Result<TargetMachine> {
    Target::initialize_x86(&InitializationConfig::default());
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple)
        .map_err(|e| CodegenError::new(format!("LLVM target {}: {}", triple, e.to_string())))?;
    let level = match opt_level {
        0 => OptimizationLevel::None,
        1 => OptimizationLevel::Less,
        2 => OptimizationLevel::Default,
        _ => OptimizationLevel::Aggressive,
    };
    target
        .create_target_machine(&triple, &t.cpu, &t.llvm_features, level, RelocMode::PIC, CodeModel::Default)
        .ok_or_else(|| CodegenError::new(format!("LLVM cannot create a target machine for cpu '{}'", t.cpu)))
}

/// Triple text of the machine (recorded in metadata).
pub fn triple_string(tm: &TargetMachine) -> String {
    tm.get_triple().as_str().to_string_lossy().into_owned()
}

/// Set the module's triple/data layout and run `default<O{opt_level}>`.
pub fn optimize(module: &Module, tm: &TargetMachine, opt_level: u8) -> Result<()> {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    let passes = format!("default<O{}>", opt_level.min(3));
    module
        .run_passes(&passes, tm, PassBuilderOptions::create())
        .map_err(|e| CodegenError::new(format!("LLVM passes {passes}: {}", e.to_string())))
}

pub fn emit(module: &Module, tm: &TargetMachine, ft: FileType) -> Result<Vec<u8>> {
    let buf = tm
        .write_to_memory_buffer(module, ft)
        .map_err(|e| CodegenError::new(format!("LLVM code generation: {}", e.to_string())))?;
    Ok(buf.as_slice().to_vec())
}
