//! Typed access to tensor data for op evaluation: [`Elem`] (one impl per dtype), [`Float`] (the
//! f32/f64 math the ops need), [`Int`] (i32/i64 wrapping arithmetic) and the `with_*` macros that
//! instantiate a generic body for a runtime dtype.

use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
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

/// i32 / i64 arithmetic with two's-complement wrapping (the semantics of compiled code).
pub trait Int: Elem + PartialOrd {
    fn to_i64(self) -> i64;
    /// Wrapping conversion (truncates to the type's width).
    fn from_i64(v: i64) -> Self;
    fn wrapping_add(self, o: Self) -> Self;
    fn wrapping_sub(self, o: Self) -> Self;
    fn wrapping_mul(self, o: Self) -> Self;
    /// Division truncating toward zero; `None` when dividing by zero.
    fn checked_trunc_div(self, o: Self) -> Option<Self>;
}

macro_rules! impl_int {
    ($t:ty) => {
        impl Int for $t {
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
            fn checked_trunc_div(self, o: Self) -> Option<Self> {
                if o == 0 {
                    None
                } else {
                    Some(<$t>::wrapping_div(self, o))
                }
            }
        }
    };
}
impl_int!(i32);
impl_int!(i64);

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
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// Run `$body` with `$T` bound to f32 or f64; other dtypes evaluate `$other`.
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
            _ => $other,
        }
    };
}

/// Run `$body` with `$T` bound to i32 or i64; other dtypes evaluate `$other`.
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
            _ => $other,
        }
    };
}
