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
    /// IEEE 754 binary16.
    F16,
    /// bfloat16: the upper 16 bits of an f32.
    BF16,
    I8,
    I16,
    U8,
    U16,
    U32,
    U64,
}

impl DType {
    /// Every dtype, in C API code order.
    pub const ALL: [DType; 13] = [
        DType::F32,
        DType::F64,
        DType::I32,
        DType::I64,
        DType::Bool,
        DType::F16,
        DType::BF16,
        DType::I8,
        DType::I16,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
    ];

    /// The kiln name: `f32`, `f64`, `i32`, `i64`, `bool`, `f16`, `bf16`, `i8`, `i16`, `u8`,
    /// `u16`, `u32`, `u64`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::Bool => "bool",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::U8 => "u8",
            DType::U16 => "u16",
            DType::U32 => "u32",
            DType::U64 => "u64",
        }
    }

    /// Parse a kiln dtype name; `None` for anything else.
    pub fn from_name(s: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == s)
    }

    /// Bytes per element in memory.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 2,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 | DType::U64 => 8,
        }
    }

    /// Bits per element in registers (bool: 1).
    pub fn bits(self) -> usize {
        match self {
            DType::Bool => 1,
            d => d.size_bytes() * 8,
        }
    }

    /// f16, bf16, f32, f64.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64 | DType::F16 | DType::BF16)
    }

    /// The 16-bit floats, which compiled code and the interpreter compute in f32.
    pub fn is_half(self) -> bool {
        matches!(self, DType::F16 | DType::BF16)
    }

    /// Signed and unsigned integers (not bool).
    pub fn is_int(self) -> bool {
        self.is_signed_int() || self.is_unsigned()
    }

    /// i8, i16, i32, i64.
    pub fn is_signed_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    /// u8, u16, u32, u64 (bool is not counted).
    pub fn is_unsigned(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    /// The C API code (`KILN_F32` = 0, `KILN_F64` = 1, `KILN_I32` = 2, `KILN_I64` = 3,
    /// `KILN_BOOL` = 4, `KILN_F16` = 5, `KILN_BF16` = 6, `KILN_I8` = 7, `KILN_I16` = 8,
    /// `KILN_U8` = 9, `KILN_U16` = 10, `KILN_U32` = 11, `KILN_U64` = 12).
    pub fn code(self) -> i32 {
        match self {
            DType::F32 => 0,
            DType::F64 => 1,
            DType::I32 => 2,
            DType::I64 => 3,
            DType::Bool => 4,
            DType::F16 => 5,
            DType::BF16 => 6,
            DType::I8 => 7,
            DType::I16 => 8,
            DType::U8 => 9,
            DType::U16 => 10,
            DType::U32 => 11,
            DType::U64 => 12,
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
        for (i, d) in DType::ALL.into_iter().enumerate() {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(DType::from_code(d.code()), Some(d));
            assert_eq!(d.code(), i as i32);
        }
        assert_eq!(DType::from_name("f8"), None);
        assert_eq!(DType::from_code(13), None);
        assert_eq!(DType::Bool.size_bytes(), 1);
        assert_eq!(DType::I64.size_bytes(), 8);
        assert_eq!(DType::BF16.size_bytes(), 2);
        assert_eq!(DType::U8.bits(), 8);
        assert_eq!(DType::Bool.bits(), 1);
    }

    #[test]
    fn classes() {
        let floats: Vec<_> = DType::ALL.into_iter().filter(|d| d.is_float()).collect();
        assert_eq!(floats, [DType::F32, DType::F64, DType::F16, DType::BF16]);
        let uns: Vec<_> = DType::ALL.into_iter().filter(|d| d.is_unsigned()).collect();
        assert_eq!(uns, [DType::U8, DType::U16, DType::U32, DType::U64]);
        let ints: Vec<_> = DType::ALL.into_iter().filter(|d| d.is_int()).collect();
        assert_eq!(ints.len(), 8);
        assert!(!DType::Bool.is_int() && !DType::Bool.is_unsigned() && !DType::Bool.is_float());
    }
}
