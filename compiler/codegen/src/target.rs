//! Target CPUs and the ISA features recorded in `Metadata.target.features`: for `host`, the host's
//! enabled features that the runtime can check; for a named CPU, a table of the features (from
//! the same list) that LLVM's definition of that CPU implies.

use crate::error::{CodegenError, Result};
use inkwell::targets::TargetMachine;
pub use kiln_abi::RECORDED_FEATURES;

const V2: &[&str] = &["sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"];
const V3: &[&str] = &["avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"];
const AVX512: &[&str] = &["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"];
const ICX: &[&str] = &[
    "avx512vnni",
    "avx512ifma",
    "avx512vbmi",
    "avx512vbmi2",
    "avx512bitalg",
    "avx512vpopcntdq",
    "gfni",
    "vaes",
    "vpclmulqdq",
];
const SPR: &[&str] = &["avx512bf16", "avx512fp16", "amx-tile", "amx-int8", "amx-bf16"];
/// Every Zen has AMD's SSE4a (LLVM's FeatureSSE4A); Intel CPUs never do.
const ZEN: &[&str] = &["sse4a"];
const ZEN3: &[&str] = &["vaes", "vpclmulqdq"];
const ZEN4: &[&str] =
    &["avx512ifma", "avx512vbmi", "avx512vbmi2", "avx512vnni", "avx512bf16", "avx512bitalg", "avx512vpopcntdq", "gfni"];

/// Named CPUs and the feature groups each implies (from LLVM's X86.td).
pub const KNOWN_CPUS: &[(&str, &[&[&str]])] = &[
    ("x86-64", &[&["sse2"]]),
    ("x86-64-v2", &[V2]),
    ("x86-64-v3", &[V2, V3]),
    ("x86-64-v4", &[V2, V3, AVX512]),
    ("haswell", &[V2, V3]),
    ("broadwell", &[V2, V3]),
    ("skylake", &[V2, V3]),
    ("skylake-avx512", &[V2, V3, AVX512]),
    ("cascadelake", &[V2, V3, AVX512, &["avx512vnni"]]),
    ("icelake-server", &[V2, V3, AVX512, ICX]),
    ("sapphirerapids", &[V2, V3, AVX512, ICX, SPR]),
    ("znver2", &[V2, V3, ZEN]),
    ("znver3", &[V2, V3, ZEN, ZEN3]),
    ("znver4", &[V2, V3, ZEN, ZEN3, AVX512, ZEN4]),
    ("znver5", &[V2, V3, ZEN, ZEN3, AVX512, ZEN4]),
];

/// The CPU to build for, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedTarget {
    /// LLVM CPU name (the host's real name for `host`).
    pub cpu: String,
    /// LLVM feature string for the target machine (the host's full string; empty for a named CPU).
    pub llvm_features: String,
    /// Checkable features the code may use, in `RECORDED_FEATURES` order.
    pub features: Vec<String>,
}

pub fn resolve(cpu: &str) -> Result<ResolvedTarget> {
    if cpu == "host" {
        let name = TargetMachine::get_host_cpu_name().to_string();
        let llvm_features = TargetMachine::get_host_cpu_features().to_string();
        let enabled: Vec<&str> = llvm_features.split(',').filter_map(|f| f.strip_prefix('+')).collect();
        let features = RECORDED_FEATURES.iter().filter(|f| enabled.contains(f)).map(|f| f.to_string()).collect();
        return Ok(ResolvedTarget { cpu: name, llvm_features, features });
    }
    let Some((_, groups)) = KNOWN_CPUS.iter().find(|(n, _)| *n == cpu) else {
        let names: Vec<&str> = KNOWN_CPUS.iter().map(|(n, _)| *n).collect();
        return Err(CodegenError::new(format!("unknown target CPU '{cpu}'; known: host, {}", names.join(", "))));
    };
    let implied: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let features = RECORDED_FEATURES.iter().filter(|f| implied.contains(f)).map(|f| f.to_string()).collect();
    Ok(ResolvedTarget { cpu: cpu.to_string(), llvm_features: String::new(), features })
}

/// The ISA features an artifact built for `cpu` records (see the module doc).
pub fn target_features(cpu: &str) -> Result<Vec<String>> {
    Ok(resolve(cpu)?.features)
}

impl ResolvedTarget {
    /// f32 lanes of the widest vector register the code may use.
    pub fn f32_lanes(&self) -> usize {
        let has = |f: &str| self.features.iter().any(|x| x == f);
        if has("avx512f") {
            16
        } else if has("avx") {
            8
        } else {
            4
        }
    }
}
