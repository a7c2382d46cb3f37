//! Completes the kernel module into a kiln artifact (see `kiln_abi`):
//! - a wrapper `void kiln_kN(ptr bufs, i64 wg, i64 nwg)` per kernel loading each buffer pointer
//!   from `bufs[i]` and calling the body (params marked `noalias`: a step's outputs never alias
//!   any other buffer of the step, and inputs are only read);
//! - one 64-byte-aligned read-only global per constant, the metadata JSON bytes, the kernel and
//!   constant pointer tables and the `KilnArtifact` descriptor;
//! - the one exported function `kiln_artifact_v1` returning the descriptor's address.
//!
//! Every other definition is internal, so bodies inline into their wrappers.

use crate::emit::{body_name, wrapper_name};
use crate::error::{CodegenError, Result};
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, PointerValue};
use inkwell::AddressSpace;
use kiln_abi::{ABI_VERSION, BUFFER_ALIGN, ENTRY_SYMBOL, MAGIC};

/// Add wrappers, data and the descriptor to `module`. `params[i]` is kernel i's buffer count.
pub fn complete<'ctx>(
    ctx: &'ctx Context,
    module: &Module<'ctx>,
    params: &[usize],
    constants: &[Vec<u8>],
    metadata_json: &str,
) -> Result<()> {
    let bld = ctx.create_builder();
    let ptr = ctx.ptr_type(AddressSpace::default());
    let i64t = ctx.i64_type();
    let i32t = ctx.i32_type();
    let err = |e: inkwell::builder::BuilderError| CodegenError::new(format!("LLVM builder: {e}"));
    let noalias = ctx.create_enum_attribute(Attribute::get_named_enum_kind_id("noalias"), 0);
    let wrapper_ty = ctx.void_type().fn_type(&[ptr.into(), i64t.into(), i64t.into()], false);

    let mut kernels: Vec<PointerValue> = Vec::new();
    for (i, &n) in params.iter().enumerate() {
        let body = module
            .get_function(&body_name(i))
            .ok_or_else(|| CodegenError::new(format!("LLVM: kernel body {} is missing", body_name(i))))?;
        body.set_linkage(Linkage::Internal);
        for p in 0..n as u32 {
            body.add_attribute(AttributeLoc::Param(p), noalias);
        }
        let w = module.add_function(&wrapper_name(i), wrapper_ty, Some(Linkage::Internal));
        bld.position_at_end(ctx.append_basic_block(w, "entry"));
        let bufs =
            w.get_nth_param(0).ok_or_else(|| CodegenError::new("LLVM: wrapper lacks params"))?.into_pointer_value();
        let mut args: Vec<BasicMetadataValueEnum> = Vec::new();
        for p in 0..n {
            // SAFETY: `bufs` points at `n` buffer pointers (the ABI's dispatch contract).
            let slot = unsafe { bld.build_in_bounds_gep(ptr, bufs, &[i64t.const_int(p as u64, false)], "slot") }
                .map_err(err)?;
            args.push(bld.build_load(ptr, slot, "buf").map_err(err)?.into());
        }
        for p in 1..3 {
            args.push(w.get_nth_param(p).ok_or_else(|| CodegenError::new("LLVM: wrapper lacks params"))?.into());
        }
        bld.build_call(body, &args, "").map_err(err)?;
        bld.build_return(None).map_err(err)?;
        kernels.push(w.as_global_value().as_pointer_value());
    }

    let consts: Vec<PointerValue> = constants
        .iter()
        .enumerate()
        .map(|(i, bytes)| bytes_global(ctx, module, &format!("kiln_const{i}"), bytes))
        .collect::<Result<_>>()?;
    let meta = bytes_global(ctx, module, "kiln_metadata", metadata_json.as_bytes())?;
    let kernel_table = table_global(ctx, module, "kiln_kernels", &kernels);
    let const_table = table_global(ctx, module, "kiln_constants", &consts);

    let fields: Vec<BasicValueEnum> = vec![
        i32t.const_int(MAGIC as u64, false).into(),
        i32t.const_int(ABI_VERSION as u64, false).into(),
        meta.into(),
        i64t.const_int(metadata_json.len() as u64, false).into(),
        i64t.const_int(kernels.len() as u64, false).into(),
        kernel_table.into(),
        i64t.const_int(consts.len() as u64, false).into(),
        const_table.into(),
    ];
    let desc_val = ctx.const_struct(&fields, false);
    let desc = module.add_global(desc_val.get_type(), None, "kiln_artifact");
    desc.set_initializer(&desc_val);
    desc.set_constant(true);
    desc.set_linkage(Linkage::Internal);

    let entry = module.add_function(ENTRY_SYMBOL, ptr.fn_type(&[], false), Some(Linkage::External));
    bld.position_at_end(ctx.append_basic_block(entry, "entry"));
    bld.build_return(Some(&desc.as_pointer_value())).map_err(err)?;
    module.verify().map_err(|e| CodegenError::new(format!("LLVM verifier (a codegen bug): {}", e.to_string())))
}

/// A read-only, `BUFFER_ALIGN`-aligned internal byte array.
fn bytes_global<'ctx>(
    ctx: &'ctx Context,
    module: &Module<'ctx>,
    name: &str,
    bytes: &[u8],
) -> Result<PointerValue<'ctx>> {
    if u32::try_from(bytes.len()).is_err() {
        return Err(CodegenError::new(format!("constant {name}: {} bytes exceed the 4 GiB limit", bytes.len())));
    }
    let init = ctx.const_string(bytes, false);
    let g = module.add_global(init.get_type(), None, name);
    g.set_initializer(&init);
    g.set_constant(true);
    g.set_linkage(Linkage::Internal);
    g.set_alignment(BUFFER_ALIGN as u32);
    Ok(g.as_pointer_value())
}

/// A read-only internal array of pointers.
fn table_global<'ctx>(
    ctx: &'ctx Context,
    module: &Module<'ctx>,
    name: &str,
    ptrs: &[PointerValue<'ctx>],
) -> PointerValue<'ctx> {
    let ptr = ctx.ptr_type(AddressSpace::default());
    let init = ptr.const_array(ptrs);
    let g = module.add_global(init.get_type(), None, name);
    g.set_initializer(&init);
    g.set_constant(true);
    g.set_linkage(Linkage::Internal);
    g.as_pointer_value()
}
