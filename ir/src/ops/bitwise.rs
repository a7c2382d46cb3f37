//! Logical and bitwise binary ops with numpy broadcasting: And / Or / Xor (logical on bool,
//! bitwise on i32/i64) and BitShiftLeft / BitShiftRight on i32/i64. Shifts act on the bit
//! pattern: the right shift is logical (zeros shift in, as for ONNX's unsigned operands) and an
//! amount outside `0..bit width` gives 0. Inference lives in `binary.rs`.

use super::binary::zip;
use super::elem::Int;
use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::op::BinaryOp;
use crate::tensor::Tensor;

/// Whether `b` is one of this file's ops.
pub fn is_bitwise(b: BinaryOp) -> bool {
    matches!(b, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor | BinaryOp::BitShiftLeft | BinaryOp::BitShiftRight)
}

/// `b` on each broadcast pair of `x` and `y` (inference already checked the dtypes).
pub fn eval(b: BinaryOp, name: &str, x: &Tensor, y: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if x.dtype() == DType::Bool {
        return zip::<bool, bool, bool>(name, x, y, shape, |p, q| {
            Ok(match b {
                BinaryOp::And => p & q,
                BinaryOp::Or => p | q,
                BinaryOp::Xor => p ^ q,
                _ => unreachable!("{b:?} takes integers (infer rejects bool)"),
            })
        });
    }
    let unsupported = || IrError::Eval(format!("{name}: unsupported dtype {}", x.dtype()));
    crate::with_int_dtype!(x.dtype(), T => zip::<T, T, T>(name, x, y, shape, |p, q| Ok(int_op::<T>(b, p, q))),
        _ => Err(unsupported()))
}

/// The scalar op on integers of type `T` (computed on the i64 value, truncated to `T`'s width).
fn int_op<T: Int>(b: BinaryOp, x: T, y: T) -> T {
    let bits = 8 * T::DTYPE.size_bytes() as i64;
    let (p, q) = (x.to_i64(), y.to_i64());
    let r = match b {
        BinaryOp::And => p & q,
        BinaryOp::Or => p | q,
        BinaryOp::Xor => p ^ q,
        _ if !(0..bits).contains(&q) => 0,
        BinaryOp::BitShiftLeft => p << q,
        BinaryOp::BitShiftRight => {
            let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            (((p as u64) & mask) >> q) as i64
        }
        _ => unreachable!("{b:?} is not a bitwise op"),
    };
    T::from_i64(r)
}

#[cfg(test)]
mod tests {
    use crate::op::BinaryOp;
    use crate::ops::binary::eval;
    use crate::tensor::Tensor;

    #[test]
    fn logical_on_bools() {
        let a = Tensor::from_bool(&[4], vec![true, true, false, false]).unwrap();
        let b = Tensor::from_bool(&[4], vec![true, false, true, false]).unwrap();
        let go = |op| eval(op, &[&a, &b]).unwrap().remove(0).to_f64_vec();
        assert_eq!(go(BinaryOp::And), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(go(BinaryOp::Or), vec![1.0, 1.0, 1.0, 0.0]);
        assert_eq!(go(BinaryOp::Xor), vec![0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn bitwise_on_ints() {
        let a = Tensor::from_i32(&[3], vec![0b1100, -1, 7]).unwrap();
        let b = Tensor::from_i32(&[3], vec![0b1010, 5, -8]).unwrap();
        let go = |op| eval(op, &[&a, &b]).unwrap().remove(0).to_i64_vec().unwrap();
        assert_eq!(go(BinaryOp::And), vec![0b1000, 5, 0]);
        assert_eq!(go(BinaryOp::Or), vec![0b1110, -1, -1]);
        assert_eq!(go(BinaryOp::Xor), vec![0b0110, -6, -1]);
    }

    #[test]
    fn shifts_are_logical_and_saturate_to_zero() {
        let a = Tensor::from_i32(&[5], vec![1, -1, 16, 3, 3]).unwrap();
        let s = Tensor::from_i32(&[5], vec![31, 28, 2, 32, -1]).unwrap();
        let l = eval(BinaryOp::BitShiftLeft, &[&a, &s]).unwrap().remove(0).to_i64_vec().unwrap();
        assert_eq!(l, vec![i32::MIN as i64, -268435456, 64, 0, 0]);
        let r = eval(BinaryOp::BitShiftRight, &[&a, &s]).unwrap().remove(0).to_i64_vec().unwrap();
        assert_eq!(r, vec![0, 15, 4, 0, 0]);
        let a = Tensor::from_i64(&[2], vec![-1, 1 << 40]).unwrap();
        let s = Tensor::from_i64(&[2], vec![60, 40]).unwrap();
        let r = eval(BinaryOp::BitShiftRight, &[&a, &s]).unwrap().remove(0).to_i64_vec().unwrap();
        assert_eq!(r, vec![15, 1]);
    }

    #[test]
    fn rejects_wrong_dtypes() {
        let f = Tensor::from_f32(&[1], vec![1.0]).unwrap();
        let e = eval(BinaryOp::And, &[&f, &f]).unwrap_err();
        assert_eq!(e.to_string(), "And: lhs must be bool or an integer, got f32");
        let b = Tensor::from_bool(&[1], vec![true]).unwrap();
        let e = eval(BinaryOp::BitShiftLeft, &[&b, &b]).unwrap_err();
        assert_eq!(e.to_string(), "BitShiftLeft: lhs must be an integer, got bool");
    }
}
