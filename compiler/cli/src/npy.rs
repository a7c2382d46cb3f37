//! .npy files <-> runtime tensors (through the npyz crate). C-order arrays of f64, f32, f16
//! (`<f2`), signed and unsigned ints of 1, 2, 4 and 8 bytes, and bool; anything else is a clear
//! error naming the file. bf16 has no numpy dtype: a bf16 tensor is written as its raw bits
//! (`<u2`), and a `<u2` file bound to a bf16 model input is read as those bits ([`read_as`]).

use anyhow::{bail, Context, Result};
use kiln_ir::half::f16;
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
    macro_rules! le {
        ($t:ty) => {
            npy.into_vec::<$t>().with_context(ctx)?.iter().flat_map(|v| v.to_le_bytes()).collect()
        };
    }
    let (dtype, data): (DType, Vec<u8>) = match kind {
        "f4" => (DType::F32, le!(f32)),
        "f8" => (DType::F64, le!(f64)),
        "f2" => (DType::F16, le!(f16)),
        "i1" => (DType::I8, le!(i8)),
        "i2" => (DType::I16, le!(i16)),
        "i4" => (DType::I32, le!(i32)),
        "i8" => (DType::I64, le!(i64)),
        "u1" => (DType::U8, le!(u8)),
        "u2" => (DType::U16, le!(u16)),
        "u4" => (DType::U32, le!(u32)),
        "u8" => (DType::U64, le!(u64)),
        "b1" => (DType::Bool, npy.into_vec::<bool>().with_context(ctx)?.iter().map(|v| *v as u8).collect()),
        _ => bail!("{}: unsupported .npy dtype '{descr}' (kiln reads f2, f4, f8, i1-i8, u1-u8, b1)", path.display()),
    };
    Ok(HostTensor { dtype, shape, data })
}

/// [`read`] for a model input of dtype `want`: a `<u2` file is taken as bf16 bits when `want`
/// is bf16 (numpy has no bf16). Other mismatches are left for the runtime to report.
pub fn read_as(path: &Path, want: DType) -> Result<HostTensor> {
    let mut t = read(path)?;
    if want == DType::BF16 && t.dtype == DType::U16 {
        t.dtype = DType::BF16;
    }
    Ok(t)
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
    macro_rules! le {
        ($t:ty, $n:expr) => {
            put(w, &shape, b.chunks_exact($n).map(|c| <$t>::from_le_bytes(c.try_into().unwrap())))
        };
    }
    match t.dtype {
        DType::F32 => le!(f32, 4),
        DType::F64 => le!(f64, 8),
        DType::F16 => le!(f16, 2),
        // bf16 as its bits (see the module doc).
        DType::BF16 | DType::U16 => le!(u16, 2),
        DType::I8 => le!(i8, 1),
        DType::I16 => le!(i16, 2),
        DType::I32 => le!(i32, 4),
        DType::I64 => le!(i64, 8),
        DType::U8 => le!(u8, 1),
        DType::U32 => le!(u32, 4),
        DType::U64 => le!(u64, 8),
        DType::Bool => put(w, &shape, b.iter().map(|v| *v != 0)),
    }
    .with_context(ctx)
}

/// `name` with every character outside `[A-Za-z0-9._-]` replaced by `_` (output file names).
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        for dtype in DType::ALL {
            let shape = vec![2, 3];
            let n = 6 * dtype.size_bytes();
            let data: Vec<u8> =
                (0..n).map(|i| if dtype == DType::Bool { (i % 2) as u8 } else { (i * 37 + 11) as u8 }).collect();
            // f16 bytes that are not NaN patterns, so the bits survive any float path.
            let data = if dtype == DType::F16 { data.iter().map(|b| b & 0x3F).collect() } else { data };
            let t = HostTensor::new(dtype, shape, data);
            let path = dir.path().join(format!("{dtype}.npy"));
            write(&path, &t).unwrap();
            let back = read_as(&path, dtype).unwrap();
            assert_eq!(back, t, "{dtype}");
        }
        // bf16 goes out as '<u2' and reads back as u16 unless the input wants bf16.
        let t = HostTensor::new(DType::BF16, vec![1], vec![0x80, 0x3F]);
        let path = dir.path().join("b.npy");
        write(&path, &t).unwrap();
        assert_eq!(read(&path).unwrap().dtype, DType::U16);
        assert_eq!(read_as(&path, DType::BF16).unwrap(), t);
    }
}
