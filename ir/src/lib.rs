//! kiln IR: a typed tensor graph on petgraph.
//!
//! - [`Graph`]: ops as nodes, values as (node, output port); constants shared through `Arc`.
//! - [`ops`]: shape/type inference and reference evaluation per op.
//! - [`text`]: the IR text format (printer and parser that round-trip).
//! - [`verify`]: structural and type checks, run after every pass in tests.
//! - [`interp`]: the reference interpreter, the numerics oracle for passes and codegen.

pub mod dtype;
pub mod error;
pub mod graph;
pub mod interp;
pub mod op;
pub mod ops;
pub mod tensor;
pub mod text;
pub mod types;
pub mod verify;

pub use dtype::DType;
pub use error::{IrError, Result};
pub use graph::{Edge, Graph, GraphOutput, Node, ValueInfo, ValueRef};
/// The f16 / bf16 element types of [`Tensor::F16`] and [`Tensor::BF16`].
pub use half;
pub use op::{AttentionMask, BinaryOp, Op, ReduceOp, UnaryOp};
pub use petgraph::stable_graph::NodeIndex;
pub use tensor::Tensor;
pub use types::TensorType;
