//! .npy files <-> runtime tensors (through the npyz crate). C-order arrays of f32, f64, i32, i64
//! and bool; anything else is a clear error naming the file.

use anyhow::{bail, Context, Result};
use kiln_runtime::{DType, HostTensor};
use std::io::BufReader;
use std::path::Path;

pub fn read(path: &Path) -> Result<HostTensor> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    if npy.order() == npyz::Order::Fortran && npy.shape().len() > 1 {
        bail!("{}: Fortran-order arrays are not supported; save it with np.ascontiguousarray", path.display());
    }
    let shape: Vec<usize> = npy.shape().iter().map(|d| *d as usize).collect();
    let descr = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => bail!("{}: unsupported .npy dtype {:?}", path.display(), other),
    };
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    let ctx = || format!("reading {}", path.display());
    let (dtype, data): (DType, Vec<u8>) = match kind {
        "f4" => (DType::F32, npy.into_vec::<f32>().with_context(ctx)?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        "f8" => (DType::F64, npy.into_vec::<f64>().with_context(ctx)?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        "i4" => (DType::I32, npy.into_vec::<i32>().with_context(ctx)?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        "i8" => (DType::I64, npy.into_vec::<i64>().with_context(ctx)?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        "b1" => (DType::Bool, npy.into_vec::<bool>().with_context(ctx)?.iter().map(|v| *v as u8).collect()),
        _ => bail!("{}: unsupported .npy dtype '{descr}' (kiln reads f32, f64, i32, i64, bool)", path.display()),
    };
    Ok(HostTensor { dtype, shape, data })
}

pub fn write(path: &Path, t: &HostTensor) -> Result<()> {
    let shape: Vec<u64> = t.shape.iter().map(|d| *d as u64).collect();
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let w = std::io::BufWriter::new(file);
    let ctx = || format!("writing {}", path.display());
    fn put<T: npyz::AutoSerialize>(
        w: impl std::io::Write,
        shape: &[u64],
        data: impl IntoIterator<Item = T>,
    ) -> std::io::Result<()> {
        use npyz::WriterBuilder;
        let mut out = npyz::WriteOptions::new().default_dtype().shape(shape).writer(w).begin_nd()?;
        out.extend(data)?;
        out.finish()
    }
    let b = &t.data;
    match t.dtype {
        DType::F32 => put(w, &shape, b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()))),
        DType::F64 => put(w, &shape, b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap()))),
        DType::I32 => put(w, &shape, b.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap()))),
        DType::I64 => put(w, &shape, b.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()))),
        DType::Bool => put(w, &shape, b.iter().map(|v| *v != 0)),
    }
    .with_context(ctx)
}

/// `name` with every character outside `[A-Za-z0-9._-]` replaced by `_` (output file names).
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}
