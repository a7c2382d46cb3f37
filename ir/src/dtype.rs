//! Element types of kiln IR tensors: the one definition lives in kiln-abi (shared with artifact
//! metadata and the runtime); the IR uses it as is.

pub use kiln_abi::DType;
