//! The one error type of the IR crate: shape/type inference, verification, parsing and evaluation.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum IrError {
    /// An op was given inputs or attributes it cannot accept (wrong rank, dtype, count...).
    #[error("{op}: {msg}")]
    Op { op: String, msg: String },
    /// The graph breaks a structural rule (cycle, dangling value, type mismatch...).
    #[error("verifier: {0}")]
    Verify(String),
    /// The IR text could not be parsed.
    #[error("parse error at line {line}: {msg}")]
    Parse { line: usize, msg: String },
    /// Evaluation failed on concrete data (index out of range, wrong input count...).
    #[error("interpreter: {0}")]
    Eval(String),
}

impl IrError {
    pub fn op(op: impl Into<String>, msg: impl Into<String>) -> Self {
        IrError::Op { op: op.into(), msg: msg.into() }
    }
}

pub type Result<T, E = IrError> = std::result::Result<T, E>;
