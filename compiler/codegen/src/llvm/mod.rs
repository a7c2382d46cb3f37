//! LLVM stage (inkwell): complete the translated kernel module into an artifact (wrappers,
//! constants, metadata, descriptor) and turn it into optimized IR, assembly or an object.

pub mod artifact;
pub mod machine;
