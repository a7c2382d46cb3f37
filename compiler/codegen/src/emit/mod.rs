//! MLIR text emission: the text builder, the kernel skeleton (parameters, workgroup partition,
//! loop nests) and the module assembly. Op-specific loop nests live in `crate::lower`.

pub mod builder;
mod fast_math;
pub mod kernel;

pub use builder::{ipred, mem_ty, reg_ty, su, Builder, Mem};
pub use kernel::{broadcast_index, Kernel, Nest, Part};

/// The MLIR module holding every kernel body, in kernel order.
pub fn module_text(funcs: &[String]) -> String {
    let mut s = String::from("module {\n");
    for f in funcs {
        s.push_str(f);
    }
    s.push_str("}\n");
    s
}

/// Name of kernel `i`'s body function in MLIR/LLVM.
pub fn body_name(i: usize) -> String {
    format!("kiln_k{i}_body")
}

/// Name of kernel `i`'s uniform wrapper `void(ptr bufs, i64 wg, i64 nwg)`.
pub fn wrapper_name(i: usize) -> String {
    format!("kiln_k{i}")
}
