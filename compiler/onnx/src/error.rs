//! The frontend's one error type: a single line naming the cause and where it happened
//! (node name, op type, value name).

use std::fmt;

/// Why an ONNX model could not be imported. `Display` is one line, ready for the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    msg: String,
}

impl ImportError {
    pub fn new(msg: impl Into<String>) -> Self {
        let msg: String = msg.into();
        // Keep the one-line promise even when a cause carries newlines.
        ImportError { msg: msg.replace('\n', " ") }
    }

    /// The message (same as `Display`).
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// Prefix the message with more context: `"{ctx}: {msg}"`.
    pub fn context(self, ctx: impl fmt::Display) -> Self {
        ImportError::new(format!("{ctx}: {}", self.msg))
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for ImportError {}

impl From<kiln_ir::IrError> for ImportError {
    fn from(e: kiln_ir::IrError) -> Self {
        ImportError::new(e.to_string())
    }
}

pub type Result<T, E = ImportError> = std::result::Result<T, E>;

/// `Err(ImportError)` from a format string.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::ImportError::new(format!($($arg)*)))
    };
}
pub(crate) use bail;
