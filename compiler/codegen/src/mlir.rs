//! MLIR stage: parse the kernel module text with melior, lower it to the LLVM dialect
//! (scf -> cf, vector -> LLVM, math -> LLVM intrinsics / libm, memref -> LLVM with the bare-pointer
//! calling convention, so a static memref argument is one `ptr` and `index` is `i64`), and translate
//! it into an LLVM module owned by the caller's inkwell context.

use crate::error::{CodegenError, Result};
use melior::dialect::DialectRegistry;
use melior::ir::operation::OperationLike;
use melior::ir::Module;
use melior::pass::PassManager;
use melior::utility::{
    parse_pass_pipeline, register_all_dialects, register_all_llvm_translations, register_all_passes,
};
use melior::Context;
use std::cell::RefCell;
use std::rc::Rc;

/// The lowering pipeline from scf/vector/arith/math/memref/func to the LLVM dialect.
pub const PIPELINE: &str = "builtin.module(convert-vector-to-scf, convert-scf-to-cf, convert-vector-to-llvm, convert-math-to-llvm, convert-math-to-libm, \
     expand-strided-metadata, finalize-memref-to-llvm, convert-arith-to-llvm, \
     convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}, convert-cf-to-llvm, reconcile-unrealized-casts)";

/// Lower `text` and translate it into a module of `llvm_ctx`.
pub fn to_llvm<'ctx>(text: &str, llvm_ctx: &'ctx inkwell::context::Context) -> Result<inkwell::module::Module<'ctx>> {
    let registry = DialectRegistry::new();
    register_all_dialects(&registry);
    let ctx = Context::new_with_registry(&registry, false);
    ctx.load_all_available_dialects();
    register_all_llvm_translations(&ctx);
    register_all_passes();
    let diags = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = diags.clone();
    let id = ctx.attach_diagnostic_handler(move |d| {
        sink.borrow_mut().push(format!("{}: {}", d.location(), d));
        true
    });
    let result = lower(&ctx, text, &diags, llvm_ctx);
    ctx.detach_diagnostic_handler(id);
    result
}

fn lower<'ctx>(
    ctx: &Context,
    text: &str,
    diags: &Rc<RefCell<Vec<String>>>,
    llvm_ctx: &'ctx inkwell::context::Context,
) -> Result<inkwell::module::Module<'ctx>> {
    let fail = |stage: &str| {
        let d = diags.borrow();
        CodegenError::new(format!("MLIR {stage} failed (a codegen bug): {}", d.first().map_or("no diagnostic", |s| s)))
    };
    let mut module = Module::parse(ctx, text).ok_or_else(|| fail("parse"))?;
    if !module.as_operation().verify() {
        return Err(fail("verify"));
    }
    let pm = PassManager::new(ctx);
    parse_pass_pipeline(pm.as_operation_pass_manager(), PIPELINE)
        .map_err(|e| CodegenError::new(format!("MLIR pass pipeline: {e}")))?;
    pm.run(&mut module).map_err(|_| fail("lowering"))?;
    // SAFETY: the MLIR translation creates the module in the given LLVM context (the same LLVM
    // library instance inkwell uses, libLLVM.so); ownership passes to the inkwell `Module`.
    let raw = unsafe {
        mlir_sys::mlirTranslateModuleToLLVMIR(
            module.as_operation().to_raw(),
            llvm_ctx.raw() as mlir_sys::LLVMContextRef,
        )
    };
    if raw.is_null() {
        return Err(fail("translation to LLVM IR"));
    }
    Ok(unsafe { inkwell::module::Module::new(raw as inkwell::llvm_sys::prelude::LLVMModuleRef) })
}
