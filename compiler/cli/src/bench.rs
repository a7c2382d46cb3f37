//! `kiln bench`: latency of an artifact over repeated runs (median and p90), on given or random
//! inputs. Warm-up runs are not counted. With `--profile`, the time of every schedule step
//! (kernel) too, summed over the runs and grouped by the ops it runs.

use crate::run::{bind_inputs, load};
use anyhow::Result;
use kiln_ir::half::{bf16, f16};
use kiln_runtime::{DType, HostTensor, Model};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct BenchResult {
    pub runs: usize,
    pub threads: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub min_ms: f64,
    pub mean_ms: f64,
}

impl BenchResult {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "runs": self.runs, "threads": self.threads, "median_ms": self.median_ms,
            "p90_ms": self.p90_ms, "min_ms": self.min_ms, "mean_ms": self.mean_ms,
        })
    }
}

/// Deterministic inputs: floats uniform in [-1, 1), integers in [0, 8), bools alternating.
pub fn random_inputs(model: &Model) -> Vec<HostTensor> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    model
        .inputs()
        .iter()
        .map(|i| {
            let n: usize = i.shape.iter().product();
            let data: Vec<u8> = match i.dtype {
                DType::F32 => {
                    (0..n).flat_map(|_| ((next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0).to_le_bytes()).collect()
                }
                DType::F64 => {
                    (0..n).flat_map(|_| ((next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0).to_le_bytes()).collect()
                }
                DType::I32 => (0..n).flat_map(|_| ((next() % 8) as i32).to_le_bytes()).collect(),
                DType::I64 => (0..n).flat_map(|_| ((next() % 8) as i64).to_le_bytes()).collect(),
                DType::Bool => (0..n).map(|k| (k % 2) as u8).collect(),
                // Small integers 0..8 in every other dtype (exact in f16 and bf16).
                DType::I8 | DType::U8 => (0..n).map(|_| (next() % 8) as u8).collect(),
                DType::I16 | DType::U16 => (0..n).flat_map(|_| ((next() % 8) as u16).to_le_bytes()).collect(),
                DType::U32 => (0..n).flat_map(|_| ((next() % 8) as u32).to_le_bytes()).collect(),
                DType::U64 => (0..n).flat_map(|_| (next() % 8).to_le_bytes()).collect(),
                DType::F16 => (0..n).flat_map(|_| f16::from_f32((next() % 8) as f32).to_le_bytes()).collect(),
                DType::BF16 => (0..n).flat_map(|_| bf16::from_f32((next() % 8) as f32).to_le_bytes()).collect(),
            };
            HostTensor { dtype: i.dtype, shape: i.shape.clone(), data }
        })
        .collect()
}

/// A zero-filled byte buffer on a 64-byte boundary (the ABI's buffer alignment), so a run reads
/// and writes it in place instead of staging a copy.
struct Aligned {
    blocks: Vec<Block>,
    len: usize,
}

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Block([u8; 64]);

impl Aligned {
    fn zeroed(len: usize) -> Aligned {
        Aligned { blocks: vec![Block([0; 64]); len.div_ceil(64)], len }
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `blocks` holds at least `len` initialized bytes; Block is plain bytes.
        unsafe { std::slice::from_raw_parts(self.blocks.as_ptr().cast::<u8>(), self.len) }
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, borrowed uniquely.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_mut_ptr().cast::<u8>(), self.len) }
    }
}

/// Time `runs` runs after `warmup` unmeasured ones. Inputs and outputs live in aligned buffers
/// made once, and every run goes through `Model::run_into`, as an application that embeds the
/// runtime would call it: nothing is allocated or copied per run.
pub fn bench(model: &Model, inputs: &[HostTensor], runs: usize, warmup: usize) -> Result<BenchResult> {
    let ins: Vec<Aligned> = inputs
        .iter()
        .map(|t| {
            let mut b = Aligned::zeroed(t.data.len());
            b.bytes_mut().copy_from_slice(&t.data);
            b
        })
        .collect();
    let mut outs: Vec<Aligned> = model.outputs().iter().map(|o| Aligned::zeroed(o.size_bytes())).collect();
    let in_slices: Vec<&[u8]> = ins.iter().map(|b| b.bytes()).collect();
    let mut run = || {
        let mut out_slices: Vec<&mut [u8]> = outs.iter_mut().map(|b| b.bytes_mut()).collect();
        model.run_into(&in_slices, &mut out_slices).map_err(|e| anyhow::anyhow!("{e}"))
    };
    for _ in 0..warmup {
        run()?;
    }
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        run()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Ok(BenchResult {
        runs: ms.len(),
        threads: model.threads(),
        median_ms: pick(0.5),
        p90_ms: pick(0.9),
        min_ms: ms[0],
        mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
    })
}

pub fn run(
    artifact: &Path,
    inputs: &[(String, PathBuf)],
    threads: Option<usize>,
    runs: usize,
    warmup: usize,
    with_profile: bool,
) -> Result<(BenchResult, Option<Vec<StepTime>>)> {
    let model = load(artifact, threads)?;
    let tensors = if inputs.is_empty() { random_inputs(&model) } else { bind_inputs(&model, inputs)? };
    let r = bench(&model, &tensors, runs, warmup)?;
    let steps = if with_profile { Some(profile(&model, &tensors, runs)?) } else { None };
    Ok((r, steps))
}

/// One kernel's share of a profiled run.
pub struct StepTime {
    pub step: usize,
    pub kernel: String,
    pub ops: String,
    /// Bytes of the step's buffers, its output last.
    pub bytes: Vec<usize>,
    pub ms: f64,
}

/// Per-step times (ms per run), slowest first.
pub fn profile(model: &Model, inputs: &[HostTensor], runs: usize) -> Result<Vec<StepTime>> {
    let secs = model.profile(inputs, runs.max(1)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let m = model.metadata();
    let mut steps: Vec<StepTime> = secs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = &m.schedule[i];
            let k = &m.kernels[st.kernel];
            let bytes = st.buffers.iter().map(|b| m.buffers[*b].size_bytes).collect();
            StepTime { step: i, kernel: k.name.clone(), ops: k.ops.join("+"), bytes, ms: s * 1e3 / runs.max(1) as f64 }
        })
        .collect();
    steps.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Ok(steps)
}

/// The profile as text: time per op kind, then the slowest steps.
pub fn profile_text(steps: &[StepTime], top: usize) -> String {
    let total: f64 = steps.iter().map(|s| s.ms).sum();
    let mut by_ops: std::collections::BTreeMap<&str, (f64, usize)> = Default::default();
    for s in steps {
        let e = by_ops.entry(s.ops.as_str()).or_default();
        e.0 += s.ms;
        e.1 += 1;
    }
    let mut kinds: Vec<_> = by_ops.into_iter().collect();
    kinds.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    let mut out = format!("steps: {}, kernel time {:.3} ms per run\nby ops:\n", steps.len(), total);
    for (ops, (ms, n)) in kinds {
        out += &format!("  {:>9.3} ms {:>5.1}%  x{:<4} {ops}\n", ms, 100.0 * ms / total.max(1e-12), n);
    }
    out += &format!("slowest {} steps:\n", top.min(steps.len()));
    for s in steps.iter().take(top) {
        let kb: Vec<String> = s.bytes.iter().map(|b| format!("{}", b.div_ceil(1024))).collect();
        out += &format!("  {:>9.3} ms  step {:<4} {} (buffers KiB: {})\n", s.ms, s.step, s.kernel, kb.join(", "));
    }
    out
}
