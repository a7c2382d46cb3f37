//! kiln runtime: loads a compiled `model.so` (the artifact ABI of `kiln-abi`), validates it
//! against this host and its own metadata, and runs its workgroup schedule on a per-model
//! worker pool (`pool.rs`). Rust API: [`Model`], [`HostTensor`], [`DType`], [`TensorInfo`], [`Error`];
//! C API: `capi.rs` / `include/kiln.h` (built into `libkiln_runtime.so`). See docs/abi.md.
//!
//! ```no_run
//! use kiln_runtime::{HostTensor, Model};
//! let model = Model::load("model.so")?;
//! let x = HostTensor::from_f32(vec![1, 4], &[1.0, 2.0, 3.0, 4.0]);
//! let outputs = model.run(&[x])?;
//! println!("{:?}", outputs[0].to_f32());
//! # Ok::<(), kiln_runtime::Error>(())
//! ```

mod aligned;
mod artifact;
pub mod capi;
pub mod cpu_features;
mod dtype;
mod elf;
mod error;
mod exec;
mod fresh_dlopen;
mod model;
mod plan;
mod pool;
mod target_check;
mod tensor;

pub use dtype::DType;
pub use error::Error;
pub use kiln_abi::Metadata;
pub use model::{default_threads, Model};
pub use tensor::{type_string, HostTensor, TensorInfo};
