//! Element types the runtime moves across its API: the one definition in kiln-abi (names as in
//! artifact metadata, byte sizes, and the C API codes `KILN_F32` = 0, ...).

pub use kiln_abi::DType;
