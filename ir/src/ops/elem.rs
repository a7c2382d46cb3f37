//! Typed access to tensor data for op evaluation: [`Elem`] (one impl per dtype), [`Float`] (the
//! float math the ops need; f16 and bf16 compute each function in f32 and round the result once,
//! as onnxruntime's CPU kernels do), [`Int`] (signed and unsigned wrapping arithmetic, computed in
//! the type itself so unsigned division, remainder and ordering are unsigned) and the `with_*`
//! macros that instantiate a generic body for a runtime dtype.

use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use half::{bf16, f16};
use ndarray::{ArcArray, IxDyn};
use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A Rust element type that one `Tensor` variant holds.
pub trait Elem: Copy + PartialEq + Debug + Default + Send + Sync + 'static {
    const DTYPE: DType;
    fn array(t: &Tensor) -> Option<&ArcArray<Self, IxDyn>>;
    fn wrap(a: ArcArray<Self, IxDyn>) -> Tensor;
}

macro_rules! impl_elem {
    ($t:ty, $v:ident) => {
        impl Elem for $t {
            const DTYPE: DType = DType::$v;
            fn array(t: &Tensor) -> Option<&ArcArray<Self, IxDyn>> {
                match t {
                    Tensor::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn wrap(a: ArcArray<Self, IxDyn>) -> Tensor {
                Tensor::$v(a)
            }
        }
    };
}
impl_elem!(f32, F32);
impl_elem!(f64, F64);
impl_elem!(i32, I32);
impl_elem!(i64, I64);
impl_elem!(bool, Bool);
impl_elem!(f16, F16);
impl_elem!(bf16, BF16);
impl_elem!(i8, I8);
impl_elem!(i16, I16);
impl_elem!(u8, U8);
impl_elem!(u16, U16);
impl_elem!(u32, U32);
impl_elem!(u64, U64);

/// The array of element type `T` inside `t`, or an evaluation error naming `op`.
pub fn array_of<'a, T: Elem>(op: &str, t: &'a Tensor) -> Result<&'a ArcArray<T, IxDyn>> {
    T::array(t).ok_or_else(|| IrError::Eval(format!("{op}: expected a {} tensor, got {}", T::DTYPE, t.dtype())))
}

/// f32 / f64 arithmetic and math functions, computed in the type itself.
pub trait Float:
    Elem
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const NEG_INFINITY: Self;
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn erf(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn is_nan(self) -> bool;
}

macro_rules! impl_float {
    ($t:ty, $erf:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn erf(self) -> Self {
                $erf(self)
            }
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}
impl_float!(f32, libm::erff);
impl_float!(f64, libm::erf);

/// f16 / bf16: every function is computed in f32 and rounded once (round to nearest even).
macro_rules! impl_half {
    ($t:ty) => {
        impl Float for $t {
            const ZERO: Self = <$t>::ZERO;
            const ONE: Self = <$t>::ONE;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            fn from_f64(v: f64) -> Self {
                <$t>::from_f64(v)
            }
            fn to_f64(self) -> f64 {
                <$t>::to_f64(self)
            }
            fn exp(self) -> Self {
                <$t>::from_f32(self.to_f32().exp())
            }
            fn ln(self) -> Self {
                <$t>::from_f32(self.to_f32().ln())
            }
            fn sqrt(self) -> Self {
                <$t>::from_f32(self.to_f32().sqrt())
            }
            fn tanh(self) -> Self {
                <$t>::from_f32(self.to_f32().tanh())
            }
            fn erf(self) -> Self {
                <$t>::from_f32(libm::erff(self.to_f32()))
            }
            fn powf(self, e: Self) -> Self {
                <$t>::from_f32(self.to_f32().powf(e.to_f32()))
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}
impl_half!(f16);
impl_half!(bf16);

/// Integer arithmetic with two's-complement wrapping (the semantics of compiled code), in the
/// type itself: unsigned types divide, take remainders and compare as unsigned.
pub trait Int: Elem + PartialOrd + Ord {
    const ZERO: Self;
    const ONE: Self;
    const MIN: Self;
    const MAX: Self;
    /// The value as i64 (u64 values above `i64::MAX` wrap).
    fn to_i64(self) -> i64;
    /// Wrapping conversion (truncates to the type's width).
    fn from_i64(v: i64) -> Self;
    fn wrapping_add(self, o: Self) -> Self;
    fn wrapping_sub(self, o: Self) -> Self;
    fn wrapping_mul(self, o: Self) -> Self;
    fn wrapping_neg(self) -> Self;
    /// `|x|` (wrapping for the minimum signed value; identity for unsigned).
    fn wrapping_abs(self) -> Self;
    /// -1, 0 or 1 (0 or 1 for unsigned).
    fn signum(self) -> Self;
    /// Division truncating toward zero; `None` when dividing by zero.
    fn checked_trunc_div(self, o: Self) -> Option<Self>;
    /// Remainder with the sign of the dividend (C `%`), or of the divisor when `floor` (Python
    /// `%`, ONNX Mod with fmod=0); `None` when dividing by zero.
    fn checked_rem(self, o: Self, floor: bool) -> Option<Self>;
}

macro_rules! impl_int {
    ($t:ty, $signed:expr) => {
        impl Int for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn to_i64(self) -> i64 {
                self as i64
            }
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            fn wrapping_add(self, o: Self) -> Self {
                <$t>::wrapping_add(self, o)
            }
            fn wrapping_sub(self, o: Self) -> Self {
                <$t>::wrapping_sub(self, o)
            }
            fn wrapping_mul(self, o: Self) -> Self {
                <$t>::wrapping_mul(self, o)
            }
            fn wrapping_neg(self) -> Self {
                <$t>::wrapping_neg(self)
            }
            fn wrapping_abs(self) -> Self {
                if self < 0 as $t {
                    self.wrapping_neg()
                } else {
                    self
                }
            }
            fn signum(self) -> Self {
                if self == 0 {
                    0
                } else if self > 0 as $t {
                    1
                } else {
                    (-1i64) as $t
                }
            }
            fn checked_trunc_div(self, o: Self) -> Option<Self> {
                if o == 0 {
                    None
                } else {
                    Some(<$t>::wrapping_div(self, o))
                }
            }
            fn checked_rem(self, o: Self, floor: bool) -> Option<Self> {
                if o == 0 {
                    return None;
                }
                let r = <$t>::wrapping_rem(self, o);
                let zero = 0 as $t;
                Some(if $signed && floor && r != zero && ((r < zero) != (o < zero)) { r.wrapping_add(o) } else { r })
            }
        }
    };
}
impl_int!(i8, true);
impl_int!(i16, true);
impl_int!(i32, true);
impl_int!(i64, true);
impl_int!(u8, false);
impl_int!(u16, false);
impl_int!(u32, false);
impl_int!(u64, false);

/// Run `$body` with `$T` bound to the element type of `$dt` (any dtype).
#[macro_export]
#[doc(hidden)]
macro_rules! with_any_dtype {
    ($dt:expr, $T:ident => $body:expr) => {
        match $dt {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::F16 => {
                type $T = $crate::half::f16;
                $body
            }
            $crate::DType::BF16 => {
                type $T = $crate::half::bf16;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::U16 => {
                type $T = u16;
                $body
            }
            $crate::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::DType::U64 => {
                type $T = u64;
                $body
            }
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// Run `$body` with `$T` bound to a float type (f32, f64, f16, bf16); other dtypes evaluate `$other`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_float_dtype {
    ($dt:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $dt {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::F16 => {
                type $T = $crate::half::f16;
                $body
            }
            $crate::DType::BF16 => {
                type $T = $crate::half::bf16;
                $body
            }
            _ => $other,
        }
    };
}

/// Run `$body` with `$T` bound to an integer type (signed or unsigned, not bool); other dtypes evaluate `$other`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_int_dtype {
    ($dt:expr, $T:ident => $body:expr, _ => $other:expr) => {
        match $dt {
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::U16 => {
                type $T = u16;
                $body
            }
            $crate::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::DType::U64 => {
                type $T = u64;
                $body
            }
            _ => $other,
        }
    };
}
