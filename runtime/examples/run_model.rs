//! run_model: run a kiln model.so through the Rust API (the twin of examples/c/run_model.c).
//!
//! `cargo run -p kiln-runtime --example run_model -- MODEL.so OUT_DIR [INPUT.raw ...] [--threads N]`
//!
//! Prints the signature, fills the inputs from .raw files (one per input, exact byte size) or
//! with the deterministic pattern `v = (i * 7 + k * 3) % 17 - 8` for element i of input k (f32/f64:
//! v * 0.125, signed ints: v, unsigned: v + 8, bool: (i + k) % 2), runs once and writes each output's raw
//! little-endian bytes to OUT_DIR/<name>.raw (characters outside [A-Za-z0-9_.-] become '_').

use kiln_runtime::{DType, HostTensor, Model, TensorInfo};
use std::path::PathBuf;
use std::process::ExitCode;

fn pattern(info: &TensorInfo, k: usize) -> HostTensor {
    let n = info.num_elements();
    let v = |i: usize| ((i * 7 + k * 3) % 17) as i64 - 8;
    let shape = info.shape.clone();
    match info.dtype {
        DType::F32 => HostTensor::from_f32(shape, &(0..n).map(|i| v(i) as f32 * 0.125).collect::<Vec<_>>()),
        DType::F64 => HostTensor::from_f64(shape, &(0..n).map(|i| v(i) as f64 * 0.125).collect::<Vec<_>>()),
        DType::I32 => HostTensor::from_i32(shape, &(0..n).map(|i| v(i) as i32).collect::<Vec<_>>()),
        DType::I64 => HostTensor::from_i64(shape, &(0..n).map(v).collect::<Vec<_>>()),
        DType::Bool => HostTensor::from_bool(shape, &(0..n).map(|i| (i + k) % 2 == 1).collect::<Vec<_>>()),
        DType::I8 => HostTensor::from_i8(shape, &(0..n).map(|i| v(i) as i8).collect::<Vec<_>>()),
        DType::I16 => HostTensor::from_i16(shape, &(0..n).map(|i| v(i) as i16).collect::<Vec<_>>()),
        DType::U8 => HostTensor::from_u8(shape, &(0..n).map(|i| (v(i) + 8) as u8).collect::<Vec<_>>()),
        DType::U16 => HostTensor::from_u16(shape, &(0..n).map(|i| (v(i) + 8) as u16).collect::<Vec<_>>()),
        DType::U32 => HostTensor::from_u32(shape, &(0..n).map(|i| (v(i) + 8) as u32).collect::<Vec<_>>()),
        DType::U64 => HostTensor::from_u64(shape, &(0..n).map(|i| (v(i) + 8) as u64).collect::<Vec<_>>()),
        // v * 0.125 is exact in both 16-bit floats: bf16 is the top half of the f32, f16 rebiases.
        DType::BF16 | DType::F16 => {
            let bits = |i: usize| {
                let f = (v(i) as f32 * 0.125).to_bits();
                match info.dtype {
                    DType::BF16 => (f >> 16) as u16,
                    _ if f & 0x7FFF_FFFF == 0 => (f >> 16) as u16,
                    _ => (((f >> 16) & 0x8000) | ((((f >> 23) & 0xFF) - 112) << 10) | ((f >> 13) & 0x3FF)) as u16,
                }
            };
            let data: Vec<u16> = (0..n).map(bits).collect();
            HostTensor::from_half_bits(info.dtype, shape, &data)
                .unwrap_or_else(|| HostTensor::zeros(info.dtype, vec![]))
        }
    }
}

fn file_name(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' }).collect();
    format!("{safe}.raw")
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut threads = 0usize;
    let mut positional = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--threads" {
            let n = it.next().ok_or("--threads needs a value")?;
            threads = n.parse().map_err(|_| format!("--threads: not a number: {n}"))?;
        } else {
            positional.push(a);
        }
    }
    if positional.len() < 2 {
        return Err("usage: run_model MODEL.so OUT_DIR [INPUT.raw ...] [--threads N]".into());
    }
    let model = Model::load_with_threads(&positional[0], threads).map_err(|e| e.to_string())?;
    let out_dir = PathBuf::from(&positional[1]);
    let raw = &positional[2..];
    if !raw.is_empty() && raw.len() != model.inputs().len() {
        return Err(format!("the model has {} inputs, {} .raw files given", model.inputs().len(), raw.len()));
    }
    let mut inputs = Vec::new();
    for (k, info) in model.inputs().iter().enumerate() {
        println!("input {k} '{}': {}", info.name, info.type_string());
        inputs.push(match raw.get(k) {
            Some(path) => {
                let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
                HostTensor::new(info.dtype, info.shape.clone(), data)
            }
            None => pattern(info, k),
        });
    }
    for (k, info) in model.outputs().iter().enumerate() {
        println!("output {k} '{}': {}", info.name, info.type_string());
    }
    let outputs = model.run(&inputs).map_err(|e| e.to_string())?;
    for (info, t) in model.outputs().iter().zip(&outputs) {
        let path = out_dir.join(file_name(&info.name));
        std::fs::write(&path, &t.data).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), t.data.len());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("run_model: {e}");
            ExitCode::FAILURE
        }
    }
}
