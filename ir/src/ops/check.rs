//! Shared input checks for shape inference: input counts, dtype classes, ranks and axes. Each
//! returns `IrError::Op` naming the op, so every `infer` reads as a list of guards.

use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::tensor::Tensor;
use crate::types::TensorType;

/// The input count is within `min..=max`.
pub fn count(op: &str, inputs: &[TensorType], min: usize, max: usize) -> Result<()> {
    let n = inputs.len();
    if n < min || n > max {
        let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        return Err(IrError::op(op, format!("expects {want} inputs, got {n}")));
    }
    Ok(())
}

/// `ty` is a float (f16, bf16, f32, f64).
pub fn float(op: &str, what: &str, ty: &TensorType) -> Result<()> {
    if !ty.dtype.is_float() {
        return Err(IrError::op(op, format!("{what} must be a float, got {}", ty.dtype)));
    }
    Ok(())
}

/// `ty` is a number: a float or an integer (not bool).
pub fn numeric(op: &str, what: &str, ty: &TensorType) -> Result<()> {
    if ty.dtype == DType::Bool {
        return Err(IrError::op(op, format!("{what} must be a number, got bool")));
    }
    Ok(())
}

/// `b` has the same dtype as `a`.
pub fn same_dtype(op: &str, what_a: &str, a: &TensorType, what_b: &str, b: &TensorType) -> Result<()> {
    if a.dtype != b.dtype {
        return Err(IrError::op(op, format!("{what_b} dtype {} differs from {what_a} dtype {}", b.dtype, a.dtype)));
    }
    Ok(())
}

/// `ty` has rank `rank`.
pub fn rank(op: &str, what: &str, ty: &TensorType, rank: usize) -> Result<()> {
    if ty.rank() != rank {
        return Err(IrError::op(op, format!("{what} must have rank {rank}, got {ty}")));
    }
    Ok(())
}

/// `axis` < `rank`.
pub fn axis(op: &str, axis: usize, rank: usize) -> Result<()> {
    if axis >= rank {
        return Err(IrError::op(op, format!("axis {axis} is out of range for rank {rank}")));
    }
    Ok(())
}

/// Input types of concrete tensors (evaluation re-runs inference on these before computing).
pub fn types_of(inputs: &[&Tensor]) -> Vec<TensorType> {
    inputs.iter().map(|t| t.ty()).collect()
}
