//! Tensors with data: constants (weights) in the graph and values in the reference interpreter.
//!
//! A `Tensor` is an `ndarray::ArcArray` per dtype, so clones share their data: a constant is stored
//! once and every pass that copies the op copies only a reference count.

use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::types::TensorType;
use ndarray::{ArcArray, IxDyn};

#[derive(Clone, Debug)]
pub enum Tensor {
    F32(ArcArray<f32, IxDyn>),
    F64(ArcArray<f64, IxDyn>),
    I32(ArcArray<i32, IxDyn>),
    I64(ArcArray<i64, IxDyn>),
    Bool(ArcArray<bool, IxDyn>),
}

/// Apply the same generic expression to the array inside a tensor, whatever its dtype.
#[macro_export]
macro_rules! for_each_dtype {
    ($t:expr, $a:ident => $body:expr) => {
        match $t {
            $crate::Tensor::F32($a) => $body,
            $crate::Tensor::F64($a) => $body,
            $crate::Tensor::I32($a) => $body,
            $crate::Tensor::I64($a) => $body,
            $crate::Tensor::Bool($a) => $body,
        }
    };
}

impl Tensor {
    pub fn dtype(&self) -> DType {
        match self {
            Tensor::F32(_) => DType::F32,
            Tensor::F64(_) => DType::F64,
            Tensor::I32(_) => DType::I32,
            Tensor::I64(_) => DType::I64,
            Tensor::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        for_each_dtype!(self, a => a.shape())
    }

    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape().to_vec())
    }

    pub fn from_f32(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
        Ok(Tensor::F32(arr(shape, data)?))
    }
    pub fn from_f64(shape: &[usize], data: Vec<f64>) -> Result<Tensor> {
        Ok(Tensor::F64(arr(shape, data)?))
    }
    pub fn from_i32(shape: &[usize], data: Vec<i32>) -> Result<Tensor> {
        Ok(Tensor::I32(arr(shape, data)?))
    }
    pub fn from_i64(shape: &[usize], data: Vec<i64>) -> Result<Tensor> {
        Ok(Tensor::I64(arr(shape, data)?))
    }
    pub fn from_bool(shape: &[usize], data: Vec<bool>) -> Result<Tensor> {
        Ok(Tensor::Bool(arr(shape, data)?))
    }

    /// A tensor of zeros (false for bool) of the given type.
    pub fn zeros(ty: &TensorType) -> Tensor {
        let s = IxDyn(&ty.shape);
        match ty.dtype {
            DType::F32 => Tensor::F32(ArcArray::zeros(s)),
            DType::F64 => Tensor::F64(ArcArray::zeros(s)),
            DType::I32 => Tensor::I32(ArcArray::zeros(s)),
            DType::I64 => Tensor::I64(ArcArray::zeros(s)),
            DType::Bool => Tensor::Bool(ArcArray::from_elem(s, false)),
        }
    }

    /// Little-endian bytes in row-major (C) order: the layout of buffers in compiled code, .npy
    /// payloads and ONNX raw_data.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * self.dtype().size_bytes());
        match self {
            Tensor::F32(a) => a.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Tensor::F64(a) => a.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Tensor::I32(a) => a.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Tensor::I64(a) => a.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Tensor::Bool(a) => a.iter().for_each(|v| out.push(*v as u8)),
        }
        out
    }

    /// Inverse of [`Tensor::to_le_bytes`]; fails when the byte count does not match the type.
    pub fn from_le_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        if bytes.len() != n * dtype.size_bytes() {
            return Err(IrError::Eval(format!(
                "{} bytes do not hold a {}{:?} tensor ({} bytes expected)",
                bytes.len(),
                dtype,
                shape,
                n * dtype.size_bytes()
            )));
        }
        Ok(match dtype {
            DType::F32 => Tensor::F32(arr(shape, chunks(bytes, f32::from_le_bytes))?),
            DType::F64 => Tensor::F64(arr(shape, chunks(bytes, f64::from_le_bytes))?),
            DType::I32 => Tensor::I32(arr(shape, chunks(bytes, i32::from_le_bytes))?),
            DType::I64 => Tensor::I64(arr(shape, chunks(bytes, i64::from_le_bytes))?),
            DType::Bool => Tensor::Bool(arr(shape, bytes.iter().map(|b| *b != 0).collect())?),
        })
    }

    /// All elements as f64, row-major (for comparisons and printing).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Tensor::F32(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::F64(a) => a.iter().copied().collect(),
            Tensor::I32(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::I64(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::Bool(a) => a.iter().map(|v| *v as u8 as f64).collect(),
        }
    }

    /// All elements as i64, row-major; fails for float tensors. Used for shape/index operands.
    pub fn to_i64_vec(&self) -> Result<Vec<i64>> {
        match self {
            Tensor::I32(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::I64(a) => Ok(a.iter().copied().collect()),
            Tensor::Bool(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            t => Err(IrError::Eval(format!("expected an integer tensor, got {}", t.dtype()))),
        }
    }

    /// Exact equality of dtype, shape and every element (NaN == NaN bitwise for floats).
    pub fn bit_eq(&self, other: &Tensor) -> bool {
        if self.dtype() != other.dtype() || self.shape() != other.shape() {
            return false;
        }
        self.to_le_bytes() == other.to_le_bytes()
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Self) -> bool {
        self.bit_eq(other)
    }
}

fn arr<T>(shape: &[usize], data: Vec<T>) -> Result<ArcArray<T, IxDyn>> {
    let n = data.len();
    ArcArray::from_shape_vec(IxDyn(shape), data)
        .map_err(|_| IrError::Eval(format!("{n} elements do not fill shape {shape:?}")))
}

fn chunks<T, const N: usize>(bytes: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    bytes.chunks_exact(N).map(|c| f(c.try_into().unwrap())).collect()
}
