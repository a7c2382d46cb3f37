//! `Cast { to }`: elementwise dtype conversion between any two dtypes. float -> int truncates
//! toward zero (i32 / i64 saturate, NaN -> 0, as Rust `as`; narrower and unsigned types wrap
//! from i64, so -2.5 -> u8 is 254 as in numpy; ONNX leaves out-of-range values undefined);
//! int -> int wraps to the target width (sign- or zero-extending by the source's
//! signedness); -> float rounds to nearest even (f16 / bf16 through f32); anything -> bool is
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
/// Float targets: a float or integer rounds to nearest even; f16 / bf16 are reached through f32
/// (as onnxruntime's Cast does, so an f64 or a large integer may round twice).
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
        f16::from_f32(v as f32)
    }
}
impl FromInt for bf16 {
    fn from_f64_or_int(v: i128) -> Self {
        bf16::from_f32(v as f32)
    }
}
to_float!(
    f32: |v: f64| v as f32,
    f64: |v: f64| v,
    f16: |v: f64| f16::from_f32(v as f32),
    bf16: |v: f64| bf16::from_f32(v as f32)
);
/// Integer targets: integers wrap. Floats truncate toward zero: i32 / i64 saturate (NaN -> 0);
/// narrower and unsigned types go through i64 and wrap, so a negative float cast to an unsigned
/// type wraps as in numpy and onnxruntime on x86 (out of range is undefined in ONNX).
macro_rules! to_int {
    ($($t:ty: $via:ty),*) => {$(
        impl To for $t {
            fn from_f64(v: f64) -> Self {
                v as $via as $t
            }
            fn from_i128(v: i128) -> Self {
                v as $t
            }
        }
    )*};
}
to_int!(i8: i64, i16: i64, i32: i32, i64: i64, u8: i64, u16: i64, u32: i64);
impl To for u64 {
    fn from_f64(v: f64) -> Self {
        if v < 0.0 {
            v as i64 as u64
        } else {
            v as u64
        }
    }
    fn from_i128(v: i128) -> Self {
        v as u64
    }
}
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

    /// Values exact in every dtype (0..=100), cast between every pair, come back unchanged.
    #[test]
    fn small_ints_survive_every_pair() {
        let base = Tensor::from_i64(&[4], vec![0, 1, 7, 100]).unwrap();
        for from in DType::ALL.into_iter().filter(|d| *d != DType::Bool) {
            let x = cast(&base, from);
            assert_eq!(x.dtype(), from);
            for to in DType::ALL.into_iter().filter(|d| *d != DType::Bool) {
                assert_eq!(cast(&x, to).to_f64_vec(), vec![0.0, 1.0, 7.0, 100.0], "{from} -> {to}");
            }
            assert_eq!(cast(&x, DType::Bool).to_f64_vec(), vec![0.0, 1.0, 1.0, 1.0], "{from} -> bool");
        }
    }

    #[test]
    fn narrow_and_unsigned_ints() {
        let i = Tensor::from_i64(&[4], vec![-1, 255, 256, -129]).unwrap();
        assert_eq!(cast(&i, DType::U8), Tensor::from_vec(&[4], vec![255u8, 255, 0, 127]).unwrap());
        assert_eq!(cast(&i, DType::I8), Tensor::from_vec(&[4], vec![-1i8, -1, 0, 127]).unwrap());
        assert_eq!(cast(&i, DType::U16), Tensor::from_vec(&[4], vec![65535u16, 255, 256, 65407]).unwrap());
        assert_eq!(cast(&i, DType::U64).to_le_bytes()[..8], u64::MAX.to_le_bytes());
        // Unsigned sources zero-extend; signed ones sign-extend.
        let u = Tensor::from_vec(&[2], vec![200u8, 1]).unwrap();
        assert_eq!(cast(&u, DType::I16), Tensor::from_vec(&[2], vec![200i16, 1]).unwrap());
        assert_eq!(cast(&u, DType::I8), Tensor::from_vec(&[2], vec![-56i8, 1]).unwrap());
        let big = Tensor::from_vec(&[2], vec![u64::MAX, 1 << 63]).unwrap();
        assert_eq!(cast(&big, DType::F64).to_f64_vec(), vec![18446744073709551615.0, 9223372036854775808.0]);
        assert_eq!(cast(&big, DType::F32).to_f64_vec(), vec![18446744073709551616.0, 9223372036854775808.0]);
        assert_eq!(cast(&big, DType::U32), Tensor::from_vec(&[2], vec![u32::MAX, 0]).unwrap());
        // float -> unsigned truncates toward zero; out of range wraps from i64 (as numpy).
        let f = Tensor::from_f32(&[4], vec![2.9, 255.5, 4e9, -2.5]).unwrap();
        assert_eq!(cast(&f, DType::U8), Tensor::from_vec(&[4], vec![2u8, 255, 0, 254]).unwrap());
        assert_eq!(cast(&f, DType::U32), Tensor::from_vec(&[4], vec![2u32, 255, 4_000_000_000, u32::MAX - 1]).unwrap());
        assert_eq!(cast(&f, DType::U64), Tensor::from_vec(&[4], vec![2u64, 255, 4_000_000_000, u64::MAX - 1]).unwrap());
        let f = Tensor::from_f64(&[2], vec![-2.9, 100.99]).unwrap();
        assert_eq!(cast(&f, DType::I8), Tensor::from_vec(&[2], vec![-2i8, 100]).unwrap());
    }

    /// f32 -> f16 / bf16 round to nearest, ties to even (bit patterns checked by hand).
    #[test]
    fn half_rounding() {
        let bits16 =
            |t: &Tensor| t.to_le_bytes().chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>();
        // f16: 1 + 2^-11 is a tie between 1.0 (0x3C00) and 1 + 2^-10 (0x3C01): even wins.
        // 1 + 3*2^-11 ties between 0x3C01 and 0x3C02: even (0x3C02). 1 + 2^-11 + 2^-20 rounds up.
        let x = Tensor::from_f32(
            &[6],
            vec![
                1.0 + 2f32.powi(-11),
                1.0 + 3.0 * 2f32.powi(-11),
                1.0 + 2f32.powi(-11) + 2f32.powi(-20),
                65520.0,
                6e-8,
                -0.0,
            ],
        )
        .unwrap();
        assert_eq!(bits16(&cast(&x, DType::F16)), vec![0x3C00, 0x3C02, 0x3C01, 0x7C00, 0x0001, 0x8000]);
        // bf16: 1 + 2^-8 ties between 0x3F80 and 0x3F81: even (0x3F80); 1 + 3*2^-8 -> 0x3F82.
        let y =
            Tensor::from_f32(&[4], vec![1.0 + 2f32.powi(-8), 1.0 + 3.0 * 2f32.powi(-8), -2.0, f32::INFINITY]).unwrap();
        assert_eq!(bits16(&cast(&y, DType::BF16)), vec![0x3F80, 0x3F82, 0xC000, 0x7F80]);
        // Widening is exact; NaN stays NaN; half -> int truncates.
        let h = cast(&Tensor::from_f32(&[3], vec![0.1, f32::NAN, -3.75]).unwrap(), DType::F16);
        let back = cast(&h, DType::F32).to_f64_vec();
        assert_eq!(back[0], 0.0999755859375);
        assert!(back[1].is_nan());
        assert_eq!(cast(&h, DType::I16).to_f64_vec(), vec![0.0, 0.0, -3.0]);
        assert_eq!(cast(&h, DType::BF16).to_f64_vec()[2], -3.75);
    }

    #[test]
    fn infer_errors() {
        assert_eq!(infer(DType::F32, &[]).unwrap_err().to_string(), "Cast: expects 1 inputs, got 0");
    }
}
