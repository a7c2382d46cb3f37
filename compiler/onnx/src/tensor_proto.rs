//! ONNX `TensorProto` -> kiln [`Tensor`]: dtype mapping, raw and typed data fields, and external
//! data files (resolved inside the model's folder only). Typed fields as onnx.proto lays them
//! out: FLOAT16 / BFLOAT16 bit patterns, INT8/16, UINT8/16 and BOOL in `int32_data`; UINT32 and
//! UINT64 in `uint64_data`.

use crate::error::{bail, ImportError, Result};
use crate::proto::{tensor_proto::DataLocation, tensor_proto::DataType, TensorProto};
use kiln_ir::half::{bf16, f16};
use kiln_ir::{DType, Tensor};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// The ONNX name of a `TensorProto.DataType` code (`FLOAT16`, ...), or the number when unknown.
pub fn dtype_name(code: i32) -> String {
    match DataType::try_from(code) {
        Ok(d) => d.as_str_name().to_string(),
        Err(_) => format!("#{code}"),
    }
}

/// Map an ONNX element type code to a kiln dtype; `what` names the value for the error.
pub fn dtype_from_onnx(code: i32, what: &str) -> Result<DType> {
    match DataType::try_from(code) {
        Ok(DataType::Float) => Ok(DType::F32),
        Ok(DataType::Double) => Ok(DType::F64),
        Ok(DataType::Int32) => Ok(DType::I32),
        Ok(DataType::Int64) => Ok(DType::I64),
        Ok(DataType::Bool) => Ok(DType::Bool),
        Ok(DataType::Float16) => Ok(DType::F16),
        Ok(DataType::Bfloat16) => Ok(DType::BF16),
        Ok(DataType::Int8) => Ok(DType::I8),
        Ok(DataType::Int16) => Ok(DType::I16),
        Ok(DataType::Uint8) => Ok(DType::U8),
        Ok(DataType::Uint16) => Ok(DType::U16),
        Ok(DataType::Uint32) => Ok(DType::U32),
        Ok(DataType::Uint64) => Ok(DType::U64),
        _ => bail!("unsupported dtype {} for '{what}'", dtype_name(code)),
    }
}

/// Convert a tensor; `model_dir` is the folder external data paths are resolved against.
pub fn tensor_from_proto(t: &TensorProto, model_dir: Option<&Path>) -> Result<Tensor> {
    let name = t.name();
    let dtype = dtype_from_onnx(t.data_type(), name)?;
    let mut shape = Vec::with_capacity(t.dims.len());
    for d in &t.dims {
        match usize::try_from(*d) {
            Ok(d) => shape.push(d),
            Err(_) => bail!("tensor '{name}' has negative dim {d} in {:?}", t.dims),
        }
    }
    let n = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| ImportError::new(format!("tensor '{name}' has too many elements: dims {:?}", t.dims)))?;
    let nbytes = n
        .checked_mul(dtype.size_bytes())
        .ok_or_else(|| ImportError::new(format!("tensor '{name}' is too large: dims {:?}", t.dims)))?;
    let ctx = |e: kiln_ir::IrError| ImportError::new(format!("tensor '{name}': {e}"));

    if t.data_location() == DataLocation::External {
        let dir = model_dir.ok_or_else(|| {
            ImportError::new(format!("tensor '{name}' has external data but the model was not loaded from a file"))
        })?;
        let bytes = read_external(t, dir, nbytes)?;
        return Tensor::from_le_bytes(dtype, &shape, &bytes).map_err(ctx);
    }
    if let Some(raw) = &t.raw_data {
        if raw.len() != nbytes {
            bail!("tensor '{name}' ({dtype}{shape:?}) has {} bytes of raw_data, {nbytes} expected", raw.len());
        }
        return Tensor::from_le_bytes(dtype, &shape, raw).map_err(ctx);
    }
    let count = |len: usize, field: &str| -> Result<()> {
        if len != n {
            bail!("tensor '{name}' ({dtype}{shape:?}) has {len} values in {field}, {n} expected");
        }
        Ok(())
    };
    let out = match dtype {
        DType::F32 => {
            count(t.float_data.len(), "float_data")?;
            Tensor::from_f32(&shape, t.float_data.clone())
        }
        DType::F64 => {
            count(t.double_data.len(), "double_data")?;
            Tensor::from_f64(&shape, t.double_data.clone())
        }
        DType::I32 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_i32(&shape, t.int32_data.clone())
        }
        DType::I64 => {
            count(t.int64_data.len(), "int64_data")?;
            Tensor::from_i64(&shape, t.int64_data.clone())
        }
        DType::Bool => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_bool(&shape, t.int32_data.iter().map(|v| *v != 0).collect())
        }
        // Narrow types: each int32 holds one value (16-bit floats as their bits); the cast
        // keeps the low bits, as onnx's numpy_helper does.
        DType::F16 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| f16::from_bits(*v as u16)).collect())
        }
        DType::BF16 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| bf16::from_bits(*v as u16)).collect())
        }
        DType::I8 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| *v as i8).collect())
        }
        DType::I16 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| *v as i16).collect())
        }
        DType::U8 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| *v as u8).collect())
        }
        DType::U16 => {
            count(t.int32_data.len(), "int32_data")?;
            Tensor::from_vec(&shape, t.int32_data.iter().map(|v| *v as u16).collect())
        }
        DType::U32 => {
            count(t.uint64_data.len(), "uint64_data")?;
            Tensor::from_vec(&shape, t.uint64_data.iter().map(|v| *v as u32).collect())
        }
        DType::U64 => {
            count(t.uint64_data.len(), "uint64_data")?;
            Tensor::from_vec(&shape, t.uint64_data.clone())
        }
    };
    out.map_err(ctx)
}

/// Read `nbytes` of external data for `t` from its `location` file under `dir`.
fn read_external(t: &TensorProto, dir: &Path, nbytes: usize) -> Result<Vec<u8>> {
    let name = t.name();
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for kv in &t.external_data {
        let parse = |v: &str| -> Result<u64> {
            v.parse::<u64>().map_err(|_| {
                ImportError::new(format!("tensor '{name}': external data {} '{v}' is not a byte count", kv.key()))
            })
        };
        match kv.key() {
            "location" => location = Some(kv.value().to_string()),
            "offset" => offset = parse(kv.value())?,
            "length" => length = Some(parse(kv.value())?),
            _ => {}
        }
    }
    let Some(location) = location else {
        bail!("tensor '{name}' has external data without a 'location'");
    };
    let path = resolve_inside(dir, &location)
        .map_err(|why| ImportError::new(format!("tensor '{name}': external data file '{location}' {why}")))?;
    if let Some(len) = length {
        if len != nbytes as u64 {
            bail!("tensor '{name}': external data length {len} does not match its type ({nbytes} bytes)");
        }
    }
    let io = |e: std::io::Error| ImportError::new(format!("tensor '{name}': reading '{location}': {e}"));
    let mut f = std::fs::File::open(&path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if offset.checked_add(nbytes as u64).is_none_or(|end| end > size) {
        bail!(
            "tensor '{name}': external data file '{location}' is too short: {size} bytes, {nbytes} needed from offset {offset}"
        );
    }
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut buf = vec![0u8; nbytes];
    f.read_exact(&mut buf).map_err(io)?;
    Ok(buf)
}

/// `dir/location` when `location` is a relative path that stays inside `dir` (also after
/// following links); otherwise why not.
fn resolve_inside(dir: &Path, location: &str) -> std::result::Result<PathBuf, String> {
    let rel = Path::new(location);
    if location.is_empty() {
        return Err("is an empty path".into());
    }
    if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::RootDir | Component::Prefix(_))) {
        return Err("is an absolute path; only paths inside the model's folder are allowed".into());
    }
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err("escapes the model's folder ('..')".into());
    }
    let path = dir.join(rel);
    let real = path.canonicalize().map_err(|e| format!("cannot be opened ({e})"))?;
    let real_dir = dir.canonicalize().map_err(|e| format!("has no readable model folder ({e})"))?;
    if !real.starts_with(&real_dir) {
        return Err("resolves outside the model's folder".into());
    }
    if !real.is_file() {
        return Err("is not a file".into());
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(dt: DataType, dims: &[i64]) -> TensorProto {
        TensorProto { name: Some("t".into()), data_type: Some(dt as i32), dims: dims.to_vec(), ..Default::default() }
    }

    #[test]
    fn typed_fields_of_the_new_dtypes() {
        let mut t = proto(DataType::Float16, &[2]);
        t.int32_data = vec![0x3C00, 0xC000]; // 1.0, -2.0
        assert_eq!(tensor_from_proto(&t, None).unwrap().to_f64_vec(), vec![1.0, -2.0]);
        let mut t = proto(DataType::Bfloat16, &[1]);
        t.int32_data = vec![0x3FC0]; // 1.5
        let b = tensor_from_proto(&t, None).unwrap();
        assert_eq!((b.dtype(), b.to_f64_vec()), (DType::BF16, vec![1.5]));
        let mut t = proto(DataType::Int8, &[2]);
        t.int32_data = vec![-128, 127];
        assert_eq!(tensor_from_proto(&t, None).unwrap(), Tensor::from_vec(&[2], vec![-128i8, 127]).unwrap());
        let mut t = proto(DataType::Uint16, &[1]);
        t.int32_data = vec![65535];
        assert_eq!(tensor_from_proto(&t, None).unwrap(), Tensor::from_vec(&[1], vec![65535u16]).unwrap());
        let mut t = proto(DataType::Uint32, &[1]);
        t.uint64_data = vec![4_000_000_000];
        assert_eq!(tensor_from_proto(&t, None).unwrap(), Tensor::from_vec(&[1], vec![4_000_000_000u32]).unwrap());
        let mut t = proto(DataType::Uint64, &[1]);
        t.uint64_data = vec![u64::MAX];
        assert_eq!(tensor_from_proto(&t, None).unwrap(), Tensor::from_vec(&[1], vec![u64::MAX]).unwrap());
        let mut t = proto(DataType::Uint8, &[3]);
        t.raw_data = Some(vec![0, 7, 255]);
        assert_eq!(tensor_from_proto(&t, None).unwrap(), Tensor::from_vec(&[3], vec![0u8, 7, 255]).unwrap());
        let mut t = proto(DataType::Int16, &[2]);
        t.int32_data = vec![1];
        let e = tensor_from_proto(&t, None).unwrap_err().to_string();
        assert!(e.contains("1 values in int32_data, 2 expected"), "{e}");
        assert!(dtype_from_onnx(DataType::Float8e4m3fn as i32, "x").is_err());
    }
}
