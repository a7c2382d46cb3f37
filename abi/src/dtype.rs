//! Element types, the one definition shared by the IR, artifact metadata and the runtime: their
//! names (IR text, metadata JSON, CLI), byte sizes, and the numeric codes of the C API
//! (`KILN_F32` = 0, ...), which are ABI.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Element type of a tensor. The set grows with the ops that need it; every dtype has one name
/// and one C API code, and codes are never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    F64,
    I32,
    I64,
    /// One byte per element holding 0 or 1 (numpy's layout).
    Bool,
}

impl DType {
    /// Every dtype, in C API code order.
    pub const ALL: [DType; 5] = [DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool];

    /// The kiln name: `f32`, `f64`, `i32`, `i64`, `bool`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::Bool => "bool",
        }
    }

    /// Parse a kiln dtype name; `None` for anything else.
    pub fn from_name(s: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Bytes per element in memory.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// The C API code (`KILN_F32` = 0, `KILN_F64` = 1, `KILN_I32` = 2, `KILN_I64` = 3,
    /// `KILN_BOOL` = 4).
    pub fn code(self) -> i32 {
        match self {
            DType::F32 => 0,
            DType::F64 => 1,
            DType::I32 => 2,
            DType::I64 => 3,
            DType::Bool => 4,
        }
    }

    /// Inverse of [`DType::code`].
    pub fn from_code(code: i32) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.code() == code)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(DType::from_code(d.code()), Some(d));
        }
        assert_eq!(DType::from_name("f16"), None);
        assert_eq!(DType::from_code(5), None);
        assert_eq!(DType::Bool.size_bytes(), 1);
        assert_eq!(DType::I64.size_bytes(), 8);
    }
}
