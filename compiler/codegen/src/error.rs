//! The one error type of kiln-codegen: a single line naming the stage, op or node and the cause.

use std::fmt;

/// A codegen failure. `Display` is one line, e.g. `Conv 'y': ...` or `MLIR lowering: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodegenError(pub String);

impl CodegenError {
    pub fn new(msg: impl Into<String>) -> Self {
        CodegenError(one_line(&msg.into()))
    }
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CodegenError {}

impl From<kiln_ir::IrError> for CodegenError {
    fn from(e: kiln_ir::IrError) -> Self {
        CodegenError::new(e.to_string())
    }
}

/// Collapse whitespace runs (including newlines from LLVM/MLIR diagnostics) into single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub type Result<T, E = CodegenError> = std::result::Result<T, E>;
