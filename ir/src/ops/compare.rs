//! Elementwise comparisons with numpy broadcasting and a bool result: Equal (any dtype; float
//! `==`, so NaN is unequal to everything) and the ordered Greater / Less / GreaterOrEqual /
//! LessOrEqual on f32/f64/i32/i64 (any comparison with NaN is false). Inference lives in
//! `binary.rs`.

use super::binary::zip;
use crate::error::{IrError, Result};
use crate::op::BinaryOp;
use crate::tensor::Tensor;

/// Whether `b` is a comparison (bool output).
pub fn is_comparison(b: BinaryOp) -> bool {
    matches!(b, BinaryOp::Equal | BinaryOp::Greater | BinaryOp::Less | BinaryOp::GreaterOrEqual | BinaryOp::LessOrEqual)
}

/// `b` on each broadcast pair of `x` and `y` (inference already checked the dtypes).
pub fn eval(b: BinaryOp, name: &str, x: &Tensor, y: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if b == BinaryOp::Equal {
        return crate::with_any_dtype!(x.dtype(), T => zip::<T, T, bool>(name, x, y, shape, |p, q| Ok(p == q)));
    }
    let cmp = |o: Option<std::cmp::Ordering>| -> bool {
        use std::cmp::Ordering::*;
        match (b, o) {
            (_, None) => false,
            (BinaryOp::Greater, Some(o)) => o == Greater,
            (BinaryOp::Less, Some(o)) => o == Less,
            (BinaryOp::GreaterOrEqual, Some(o)) => o != Less,
            (BinaryOp::LessOrEqual, Some(o)) => o != Greater,
            _ => unreachable!("{b:?} is not an ordered comparison"),
        }
    };
    let unsupported = || IrError::Eval(format!("{name}: unsupported dtype {}", x.dtype()));
    crate::with_float_dtype!(x.dtype(), T => zip::<T, T, bool>(name, x, y, shape, |p, q| Ok(cmp(p.partial_cmp(&q)))),
        _ => crate::with_int_dtype!(x.dtype(), T => zip::<T, T, bool>(name, x, y, shape, |p, q| Ok(cmp(p.partial_cmp(&q)))),
            _ => Err(unsupported())))
}

#[cfg(test)]
mod tests {
    use crate::op::BinaryOp;
    use crate::ops::binary::eval;
    use crate::tensor::Tensor;

    fn bools(v: &[bool]) -> Tensor {
        Tensor::from_bool(&[v.len()], v.to_vec()).unwrap()
    }

    #[test]
    fn ordered_float_comparisons() {
        let a = Tensor::from_f32(&[4], vec![1.0, 2.0, f32::NAN, -0.0]).unwrap();
        let b = Tensor::from_f32(&[4], vec![2.0, 2.0, 1.0, 0.0]).unwrap();
        let go = |op| eval(op, &[&a, &b]).unwrap().remove(0);
        assert_eq!(go(BinaryOp::Greater), bools(&[false, false, false, false]));
        assert_eq!(go(BinaryOp::Less), bools(&[true, false, false, false]));
        assert_eq!(go(BinaryOp::GreaterOrEqual), bools(&[false, true, false, true]));
        assert_eq!(go(BinaryOp::LessOrEqual), bools(&[true, true, false, true]));
        assert_eq!(go(BinaryOp::Equal), bools(&[false, true, false, true]));
    }

    #[test]
    fn int_comparisons_broadcast() {
        let a = Tensor::from_i64(&[2, 1], vec![1, 5]).unwrap();
        let b = Tensor::from_i64(&[3], vec![0, 1, 9]).unwrap();
        let r = eval(BinaryOp::Greater, &[&a, &b]).unwrap().remove(0);
        assert_eq!(r.shape(), &[2, 3]);
        assert_eq!(r.to_f64_vec(), vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        let r = eval(BinaryOp::LessOrEqual, &[&a, &b]).unwrap().remove(0);
        assert_eq!(r.to_f64_vec(), vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn bool_operands_are_rejected_for_order() {
        let a = bools(&[true]);
        let e = eval(BinaryOp::Less, &[&a, &a]).unwrap_err();
        assert_eq!(e.to_string(), "Less: lhs must be a number, got bool");
    }
}
