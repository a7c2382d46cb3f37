//! `Cast { to }`: elementwise dtype conversion. float -> int truncates toward zero (saturating
//! at the int range, NaN -> 0, as Rust `as`); int -> narrower int wraps; anything -> bool is
//! `x != 0` (NaN -> true); bool -> number is 0 / 1.

use super::check;
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::types::TensorType;

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
            match to {
                DType::F32 => Tensor::F32($a.map(|v| $f(*v, 0f32)).into_shared()),
                DType::F64 => Tensor::F64($a.map(|v| $f(*v, 0f64)).into_shared()),
                DType::I32 => Tensor::I32($a.map(|v| $f(*v, 0i32)).into_shared()),
                DType::I64 => Tensor::I64($a.map(|v| $f(*v, 0i64)).into_shared()),
                DType::Bool => Tensor::Bool($a.map(|v| $f(*v, false)).into_shared()),
            }
        };
    }
    match t {
        Tensor::F32(a) => conv!(a, |v: f32, z| To::from_f64(v as f64, z)),
        Tensor::F64(a) => conv!(a, |v: f64, z| To::from_f64(v, z)),
        Tensor::I32(a) => conv!(a, |v: i32, z| To::from_i64(v as i64, z)),
        Tensor::I64(a) => conv!(a, |v: i64, z| To::from_i64(v, z)),
        Tensor::Bool(a) => conv!(a, |v: bool, z| To::from_i64(v as i64, z)),
    }
}

/// Conversion into one target type; the second argument only selects the type.
trait To: Sized {
    fn from_f64(v: f64, _: Self) -> Self;
    fn from_i64(v: i64, _: Self) -> Self;
}
impl To for f32 {
    fn from_f64(v: f64, _: Self) -> Self {
        v as f32
    }
    fn from_i64(v: i64, _: Self) -> Self {
        v as f32
    }
}
impl To for f64 {
    fn from_f64(v: f64, _: Self) -> Self {
        v
    }
    fn from_i64(v: i64, _: Self) -> Self {
        v as f64
    }
}
impl To for i32 {
    fn from_f64(v: f64, _: Self) -> Self {
        v as i32
    }
    fn from_i64(v: i64, _: Self) -> Self {
        v as i32
    }
}
impl To for i64 {
    fn from_f64(v: f64, _: Self) -> Self {
        v as i64
    }
    fn from_i64(v: i64, _: Self) -> Self {
        v
    }
}
impl To for bool {
    fn from_f64(v: f64, _: Self) -> Self {
        v != 0.0
    }
    fn from_i64(v: i64, _: Self) -> Self {
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
