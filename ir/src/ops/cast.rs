//! `Cast { to }`: elementwise dtype conversion between any two dtypes. float -> int truncates
//! toward zero (saturating at the int range, NaN -> 0, as Rust `as`; ONNX leaves out-of-range
//! values undefined); int -> int wraps to the target width (sign- or zero-extending by the source's
//! signedness); -> float rounds to nearest even (f32 -> f16 / bf16 included); anything -> bool is
//! `x != 0` (NaN -> true); bool -> number is 0 / 1.

use super::check;
use super::elem::Elem;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::types::TensorType;
use half::{bf16, f16};

pub fn infer(to: DType, inputs: &[TensorType]) -> Result<Vec<TensorType>> {
    check::count("Cast", inputs, 1, 1)?;
    Ok(vec![TensorType::new(to, inputs[0].shape.clone())])
}

pub fn eval(to: DType, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    infer(to, &check::types_of(inputs))?;
    Ok(vec![cast(inputs[0], to)])
}

/// Convert `t` to dtype `to` with the rules in this module's doc.
pub fn cast(t: &Tensor, to: DType) -> Tensor {
    macro_rules! conv {
        ($a:expr, $f:expr) => {
            crate::with_any_dtype!(to, T => T::wrap($a.map(|v| -> T { $f(*v) }).into_shared()))
        };
    }
    match t {
        Tensor::F32(a) => conv!(a, |v: f32| To::from_f64(v as f64)),
        Tensor::F64(a) => conv!(a, |v: f64| To::from_f64(v)),
        Tensor::F16(a) => conv!(a, |v: f16| To::from_f64(v.to_f64())),
        Tensor::BF16(a) => conv!(a, |v: bf16| To::from_f64(v.to_f64())),
        Tensor::I8(a) => conv!(a, |v: i8| To::from_i128(v as i128)),
        Tensor::I16(a) => conv!(a, |v: i16| To::from_i128(v as i128)),
        Tensor::I32(a) => conv!(a, |v: i32| To::from_i128(v as i128)),
        Tensor::I64(a) => conv!(a, |v: i64| To::from_i128(v as i128)),
        Tensor::U8(a) => conv!(a, |v: u8| To::from_i128(v as i128)),
        Tensor::U16(a) => conv!(a, |v: u16| To::from_i128(v as i128)),
        Tensor::U32(a) => conv!(a, |v: u32| To::from_i128(v as i128)),
        Tensor::U64(a) => conv!(a, |v: u64| To::from_i128(v as i128)),
        Tensor::Bool(a) => conv!(a, |v: bool| To::from_i128(v as i128)),
    }
}

/// Conversion into one target type from a float (every float widens to f64 exactly) or an
/// integer (every integer fits i128).
trait To: Sized {
    fn from_f64(v: f64) -> Self;
    fn from_i128(v: i128) -> Self;
}
/// Float targets: a float rounds once to nearest even; an integer converts directly for f32 and
/// f64, and through f64 for f16 / bf16 (exact below 2^53, so single rounding there).
macro_rules! to_float {
    ($($t:ty: $from_f64:expr),*) => {$(
        impl To for $t {
            fn from_f64(v: f64) -> Self {
                $from_f64(v)
            }
            fn from_i128(v: i128) -> Self {
                Self::from_f64_or_int(v)
            }
        }
    )*};
}
trait FromInt {
    fn from_f64_or_int(v: i128) -> Self;
}
impl FromInt for f32 {
    fn from_f64_or_int(v: i128) -> Self {
        v as f32
    }
}
impl FromInt for f64 {
    fn from_f64_or_int(v: i128) -> Self {
        v as f64
    }
}
impl FromInt for f16 {
    fn from_f64_or_int(v: i128) -> Self {
        f16::from_f64(v as f64)
    }
}
impl FromInt for bf16 {
    fn from_f64_or_int(v: i128) -> Self {
        bf16::from_f64(v as f64)
    }
}
to_float!(f32: |v: f64| v as f32, f64: |v: f64| v, f16: f16::from_f64, bf16: bf16::from_f64);
/// Integer targets: floats truncate toward zero and saturate (NaN -> 0); integers wrap.
macro_rules! to_int {
    ($($t:ty),*) => {$(
        impl To for $t {
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn from_i128(v: i128) -> Self {
                v as $t
            }
        }
    )*};
}
to_int!(i8, i16, i32, i64, u8, u16, u32, u64);
impl To for bool {
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn from_i128(v: i128) -> Self {
        v != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let f = Tensor::from_f32(&[5], vec![2.7, -2.7, 0.0, f32::NAN, 1e10]).unwrap();
        assert_eq!(cast(&f, DType::I32), Tensor::from_i32(&[5], vec![2, -2, 0, 0, i32::MAX]).unwrap());
        assert_eq!(cast(&f, DType::Bool), Tensor::from_bool(&[5], vec![true, true, false, true, true]).unwrap());
        let b = Tensor::from_bool(&[2], vec![true, false]).unwrap();
        assert_eq!(cast(&b, DType::F64), Tensor::from_f64(&[2], vec![1.0, 0.0]).unwrap());
        let i = Tensor::from_i64(&[2], vec![1 << 32 | 5, -1]).unwrap();
        assert_eq!(cast(&i, DType::I32), Tensor::from_i32(&[2], vec![5, -1]).unwrap());
        assert_eq!(cast(&i, DType::F32).to_f64_vec(), vec![4294967301.0f32 as f64, -1.0]);
        let d = Tensor::from_f64(&[1], vec![0.1]).unwrap();
        assert_eq!(eval(DType::F32, &[&d]).unwrap()[0], Tensor::from_f32(&[1], vec![0.1]).unwrap());
    }

    #[test]
    fn infer_errors() {
        assert_eq!(infer(DType::F32, &[]).unwrap_err().to_string(), "Cast: expects 1 inputs, got 0");
    }
}
