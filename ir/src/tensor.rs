//! Tensors with data: constants (weights) in the graph and values in the reference interpreter.
//!
//! A `Tensor` is an `ndarray::ArcArray` per dtype, so clones share their data: a constant is stored
//! once and every pass that copies the op copies only a reference count. f16 and bf16 elements are
//! `half::f16` / `half::bf16`.

use crate::dtype::DType;
use crate::error::{IrError, Result};
use crate::types::TensorType;
use half::{bf16, f16};
use ndarray::{ArcArray, IxDyn};

#[derive(Clone, Debug)]
pub enum Tensor {
    F32(ArcArray<f32, IxDyn>),
    F64(ArcArray<f64, IxDyn>),
    I32(ArcArray<i32, IxDyn>),
    I64(ArcArray<i64, IxDyn>),
    Bool(ArcArray<bool, IxDyn>),
    F16(ArcArray<f16, IxDyn>),
    BF16(ArcArray<bf16, IxDyn>),
    I8(ArcArray<i8, IxDyn>),
    I16(ArcArray<i16, IxDyn>),
    U8(ArcArray<u8, IxDyn>),
    U16(ArcArray<u16, IxDyn>),
    U32(ArcArray<u32, IxDyn>),
    U64(ArcArray<u64, IxDyn>),
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
            $crate::Tensor::F16($a) => $body,
            $crate::Tensor::BF16($a) => $body,
            $crate::Tensor::I8($a) => $body,
            $crate::Tensor::I16($a) => $body,
            $crate::Tensor::U8($a) => $body,
            $crate::Tensor::U16($a) => $body,
            $crate::Tensor::U32($a) => $body,
            $crate::Tensor::U64($a) => $body,
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
            Tensor::F16(_) => DType::F16,
            Tensor::BF16(_) => DType::BF16,
            Tensor::I8(_) => DType::I8,
            Tensor::I16(_) => DType::I16,
            Tensor::U8(_) => DType::U8,
            Tensor::U16(_) => DType::U16,
            Tensor::U32(_) => DType::U32,
            Tensor::U64(_) => DType::U64,
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
    /// A tensor of any dtype from a vector of its Rust element type (`Vec<u8>`, `Vec<f16>`, ...).
    pub fn from_vec<T: crate::ops::elem::Elem>(shape: &[usize], data: Vec<T>) -> Result<Tensor> {
        Ok(T::wrap(arr(shape, data)?))
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
            DType::F16 => Tensor::F16(ArcArray::from_elem(s, f16::ZERO)),
            DType::BF16 => Tensor::BF16(ArcArray::from_elem(s, bf16::ZERO)),
            DType::I8 => Tensor::I8(ArcArray::zeros(s)),
            DType::I16 => Tensor::I16(ArcArray::zeros(s)),
            DType::U8 => Tensor::U8(ArcArray::zeros(s)),
            DType::U16 => Tensor::U16(ArcArray::zeros(s)),
            DType::U32 => Tensor::U32(ArcArray::zeros(s)),
            DType::U64 => Tensor::U64(ArcArray::zeros(s)),
        }
    }

    /// Little-endian bytes in row-major (C) order: the layout of buffers in compiled code, .npy
    /// payloads and ONNX raw_data.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * self.dtype().size_bytes());
        match self {
            Tensor::Bool(a) => a.iter().for_each(|v| out.push(*v as u8)),
            t => for_each_dtype!(t, a => a.iter().for_each(|v| LeBytes::put(*v, &mut out))),
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
            DType::F16 => Tensor::F16(arr(shape, chunks(bytes, f16::from_le_bytes))?),
            DType::BF16 => Tensor::BF16(arr(shape, chunks(bytes, bf16::from_le_bytes))?),
            DType::I8 => Tensor::I8(arr(shape, chunks(bytes, i8::from_le_bytes))?),
            DType::I16 => Tensor::I16(arr(shape, chunks(bytes, i16::from_le_bytes))?),
            DType::U8 => Tensor::U8(arr(shape, bytes.to_vec())?),
            DType::U16 => Tensor::U16(arr(shape, chunks(bytes, u16::from_le_bytes))?),
            DType::U32 => Tensor::U32(arr(shape, chunks(bytes, u32::from_le_bytes))?),
            DType::U64 => Tensor::U64(arr(shape, chunks(bytes, u64::from_le_bytes))?),
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
            Tensor::F16(a) => a.iter().map(|v| v.to_f64()).collect(),
            Tensor::BF16(a) => a.iter().map(|v| v.to_f64()).collect(),
            Tensor::I8(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::I16(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::U8(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::U16(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::U32(a) => a.iter().map(|v| *v as f64).collect(),
            Tensor::U64(a) => a.iter().map(|v| *v as f64).collect(),
        }
    }

    /// All elements as i64, row-major; fails for float tensors. Used for shape/index operands
    /// (u64 values above `i64::MAX` wrap).
    pub fn to_i64_vec(&self) -> Result<Vec<i64>> {
        match self {
            Tensor::I32(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::I64(a) => Ok(a.iter().copied().collect()),
            Tensor::Bool(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::I8(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::I16(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::U8(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::U16(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::U32(a) => Ok(a.iter().map(|v| *v as i64).collect()),
            Tensor::U64(a) => Ok(a.iter().map(|v| *v as i64).collect()),
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

/// Little-endian bytes of one element (bool is handled by the callers).
trait LeBytes: Copy {
    fn put(self, out: &mut Vec<u8>);
}
macro_rules! le_bytes {
    ($($t:ty),*) => {$(
        impl LeBytes for $t {
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes())
            }
        }
    )*};
}
le_bytes!(f32, f64, i32, i64, f16, bf16, i8, i16, u8, u16, u32, u64);
impl LeBytes for bool {
    fn put(self, out: &mut Vec<u8>) {
        out.push(self as u8)
    }
}

fn chunks<T, const N: usize>(bytes: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
    bytes.chunks_exact(N).map(|c| f(c.try_into().unwrap())).collect()
}
