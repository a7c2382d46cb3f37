//! Host-side tensors: [`HostTensor`] (owned row-major little-endian bytes) and [`TensorInfo`]
//! (the name, dtype and shape of a model input or output).

use crate::dtype::DType;

/// A model input or output as declared by the artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl TensorInfo {
    /// Number of elements (1 for a scalar).
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes of a dense buffer holding this tensor.
    pub fn size_bytes(&self) -> usize {
        self.num_elements() * self.dtype.size_bytes()
    }

    /// `f32[1,3,224,224]`.
    pub fn type_string(&self) -> String {
        type_string(self.dtype, &self.shape)
    }
}

/// `f32[1,3,224,224]` (a scalar is `f32[]`).
pub fn type_string(dtype: DType, shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("{}[{}]", dtype.name(), dims.join(","))
}

/// An owned tensor: `data` holds the elements row-major as little-endian bytes (bool: one byte,
/// 0 or 1). Constructors never panic; [`crate::Model::run`] checks that `data` has the size the
/// shape needs.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

macro_rules! typed_access {
    ($from:ident, $to:ident, $t:ty, $dtype:expr) => {
        #[doc = concat!("A `", stringify!($t), "` tensor from values in row-major order.")]
        pub fn $from(shape: Vec<usize>, values: &[$t]) -> HostTensor {
            let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            HostTensor { dtype: $dtype, shape, data }
        }

        #[doc = concat!("The values as `", stringify!($t), "`; `None` if the dtype differs or the byte length is not a multiple of the element size.")]
        pub fn $to(&self) -> Option<Vec<$t>> {
            const N: usize = std::mem::size_of::<$t>();
            if self.dtype != $dtype || !self.data.len().is_multiple_of(N) {
                return None;
            }
            let mut out = Vec::with_capacity(self.data.len() / N);
            for chunk in self.data.chunks_exact(N) {
                let mut bytes = [0u8; N];
                bytes.copy_from_slice(chunk);
                out.push(<$t>::from_le_bytes(bytes));
            }
            Some(out)
        }
    };
}

impl HostTensor {
    /// A tensor from raw little-endian bytes.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> HostTensor {
        HostTensor { dtype, shape, data }
    }

    /// A zero-filled tensor (bool: false).
    pub fn zeros(dtype: DType, shape: Vec<usize>) -> HostTensor {
        let len = shape.iter().product::<usize>() * dtype.size_bytes();
        HostTensor { dtype, shape, data: vec![0; len] }
    }

    typed_access!(from_f32, to_f32, f32, DType::F32);
    typed_access!(from_f64, to_f64, f64, DType::F64);
    typed_access!(from_i32, to_i32, i32, DType::I32);
    typed_access!(from_i64, to_i64, i64, DType::I64);
    typed_access!(from_i8, to_i8, i8, DType::I8);
    typed_access!(from_i16, to_i16, i16, DType::I16);
    typed_access!(from_u8, to_u8, u8, DType::U8);
    typed_access!(from_u16, to_u16, u16, DType::U16);
    typed_access!(from_u32, to_u32, u32, DType::U32);
    typed_access!(from_u64, to_u64, u64, DType::U64);

    /// An f16 or bf16 tensor from the values' bit patterns (the runtime has no 16-bit float
    /// type); `None` for any other dtype.
    pub fn from_half_bits(dtype: DType, shape: Vec<usize>, bits: &[u16]) -> Option<HostTensor> {
        matches!(dtype, DType::F16 | DType::BF16).then(|| HostTensor {
            dtype,
            shape,
            data: bits.iter().flat_map(|v| v.to_le_bytes()).collect(),
        })
    }

    /// The bit patterns of an f16 or bf16 tensor; `None` for any other dtype.
    pub fn to_half_bits(&self) -> Option<Vec<u16>> {
        if !matches!(self.dtype, DType::F16 | DType::BF16) || !self.data.len().is_multiple_of(2) {
            return None;
        }
        Some(self.data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
    }

    /// A bool tensor from values in row-major order.
    pub fn from_bool(shape: Vec<usize>, values: &[bool]) -> HostTensor {
        let data = values.iter().map(|&b| b as u8).collect();
        HostTensor { dtype: DType::Bool, shape, data }
    }

    /// The values as bool (any nonzero byte is true); `None` if the dtype is not bool.
    pub fn to_bool(&self) -> Option<Vec<bool>> {
        (self.dtype == DType::Bool).then(|| self.data.iter().map(|&b| b != 0).collect())
    }

    /// Number of elements the shape declares (1 for a scalar).
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// `f32[2,3]`.
    pub fn type_string(&self) -> String {
        type_string(self.dtype, &self.shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trips() {
        let t = HostTensor::from_f32(vec![2], &[1.5, -2.0]);
        assert_eq!(t.data.len(), 8);
        assert_eq!(t.to_f32(), Some(vec![1.5, -2.0]));
        assert_eq!(t.to_i32(), None);
        let t = HostTensor::from_i64(vec![1], &[-7]);
        assert_eq!(t.to_i64(), Some(vec![-7]));
        let t = HostTensor::from_bool(vec![3], &[true, false, true]);
        assert_eq!(t.data, vec![1, 0, 1]);
        assert_eq!(t.to_bool(), Some(vec![true, false, true]));
        let z = HostTensor::zeros(DType::F64, vec![2, 3]);
        assert_eq!(z.data.len(), 48);
        assert_eq!(z.type_string(), "f64[2,3]");
        assert_eq!(type_string(DType::I32, &[]), "i32[]");
        let t = HostTensor::from_u16(vec![2], &[1, 0xFFFF]);
        assert_eq!(t.data, vec![1, 0, 0xFF, 0xFF]);
        assert_eq!(t.to_u16(), Some(vec![1, 0xFFFF]));
        assert_eq!(t.to_i16(), None);
        let t = HostTensor::from_i8(vec![2], &[-1, 5]);
        assert_eq!((t.data.clone(), t.to_i8()), (vec![0xFF, 5], Some(vec![-1, 5])));
        assert_eq!(HostTensor::from_u64(vec![1], &[u64::MAX]).to_u64(), Some(vec![u64::MAX]));
        let h = HostTensor::from_half_bits(DType::BF16, vec![1], &[0x3F80]).unwrap();
        assert_eq!((h.data.clone(), h.to_half_bits()), (vec![0x80, 0x3F], Some(vec![0x3F80])));
        assert_eq!(HostTensor::from_half_bits(DType::U16, vec![1], &[1]), None);
        assert_eq!(HostTensor::zeros(DType::F16, vec![3]).data.len(), 6);
    }
}
