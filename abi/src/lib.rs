//! The kiln artifact ABI: what a compiled `model.so` exports and what the runtime reads.
//!
//! A model library exports exactly one entry point, [`ENTRY_SYMBOL`], returning a pointer to a
//! static [`KilnArtifact`]. The descriptor's first field is the ABI version; a runtime refuses any
//! other version. Everything descriptive (signature, target, buffers, schedule) is JSON
//! ([`Metadata`]) so it can grow without breaking the C layout; the C part holds only what code
//! needs to call: kernel function pointers and constant (weight) data pointers.
//!
//! Dispatch model: a kernel is a function over a 1-D workgroup grid,
//! `kernel(buffers, workgroup_id, workgroup_count)`. The schedule lists steps in order; each step
//! runs one kernel over `0..workgroup_count` for a count the runtime picks in
//! `1..=max_workgroups`. Workgroups of one step are independent; steps run one after another.
//! The same model serves a CPU thread pool now and GPU grids later. See docs/abi.md.

pub mod dtype;

pub use dtype::DType;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped on any incompatible change to [`KilnArtifact`] or [`Metadata`].
pub const ABI_VERSION: u32 = 1;

/// The one symbol a kiln artifact exports: `const KilnArtifact *kiln_artifact_v1(void)`.
pub const ENTRY_SYMBOL: &str = "kiln_artifact_v1";

/// Magic value in [`KilnArtifact::magic`]: the bytes "KILN" little-endian.
pub const MAGIC: u32 = u32::from_le_bytes(*b"KILN");

/// Alignment in bytes of every buffer (constants, arena slots, caller buffers are copied when
/// misaligned).
pub const BUFFER_ALIGN: usize = 64;

/// `void kernel(void *const *buffers, int64_t workgroup_id, int64_t workgroup_count)`:
/// `buffers` holds the step's buffer pointers in the order of [`Step::buffers`].
pub type KernelFn = unsafe extern "C" fn(buffers: *const *mut u8, workgroup_id: i64, workgroup_count: i64);

/// The C descriptor (`kiln_artifact` in `runtime/include/kiln.h`). Field order is ABI.
#[repr(C)]
pub struct KilnArtifact {
    pub magic: u32,
    pub abi_version: u32,
    /// UTF-8 JSON of [`Metadata`], not NUL-terminated.
    pub metadata_json: *const u8,
    pub metadata_len: u64,
    pub num_kernels: u64,
    pub kernels: *const KernelFn,
    pub num_constants: u64,
    /// Pointers to constant data, each [`BUFFER_ALIGN`]-aligned, in row-major little-endian order.
    pub constants: *const *const u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSig {
    pub name: String,
    /// kiln dtype name: f32, f64, f16, bf16, i8, i16, i32, i64, u8, u16, u32, u64, bool.
    pub dtype: String,
    pub shape: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// LLVM target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub triple: String,
    /// LLVM CPU name the code was tuned and built for, e.g. `znver5`, `x86-64-v3`.
    pub cpu: String,
    /// ISA features the code may use (LLVM names without '+', e.g. `avx2`, `avx512f`); the
    /// runtime refuses to load on a CPU lacking any of them.
    pub features: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BufferKind {
    /// The caller's input number `index`.
    Input { index: usize },
    /// The caller's output number `index`.
    Output { index: usize },
    /// Constant number `index` of [`KilnArtifact::constants`].
    Constant { index: usize },
    /// A slot of the per-run arena at `offset` (a multiple of [`BUFFER_ALIGN`]).
    Intermediate { offset: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Buffer {
    #[serde(flatten)]
    pub kind: BufferKind,
    pub size_bytes: usize,
    /// An intermediate that is a block of another one (a Concat input its producer writes in
    /// place): that buffer's id. Informational (the offset already places it); a report sums
    /// intermediates without these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_of: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelInfo {
    /// Symbol-like name, for profiles and errors.
    pub name: String,
    /// The IR ops this kernel computes, in order.
    pub ops: Vec<String>,
    /// Stack scratch one workgroup of this kernel uses while it runs (packed GEMM panels, in a
    /// stack allocation: kernels allocate no heap memory).
    #[serde(default)]
    pub scratch_bytes: u64,
    /// Every workgroup repeats work shared by the whole step (a GEMM split by rows packs all of
    /// B): run one workgroup per thread, not several for balance.
    #[serde(default)]
    pub one_workgroup_per_thread: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub kernel: usize,
    /// Buffer ids passed to the kernel, in its parameter order.
    pub buffers: Vec<usize>,
    /// Upper bound of the workgroup count; the kernel is correct for any count in 1..=this.
    pub max_workgroups: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub abi_version: u32,
    /// The kiln compiler version that built the artifact.
    pub compiler_version: String,
    pub model_name: String,
    pub target: Target,
    pub inputs: Vec<TensorSig>,
    pub outputs: Vec<TensorSig>,
    pub buffers: Vec<Buffer>,
    /// Bytes of the per-run arena holding every intermediate buffer.
    pub arena_bytes: usize,
    pub kernels: Vec<KernelInfo>,
    pub schedule: Vec<Step>,
    /// IR op histogram right after import (`kiln inspect`).
    pub ops_imported: BTreeMap<String, usize>,
    /// IR op histogram after the graph-level pipeline (`kiln inspect`).
    pub ops: BTreeMap<String, usize>,
}

impl Metadata {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("metadata serializes")
    }

    pub fn from_json(s: &str) -> Result<Metadata, serde_json::Error> {
        serde_json::from_str(s)
    }
}

/// The ISA features (LLVM names without '+') a kiln compiler may record in
/// [`Target::features`]. Every runtime must be able to check each of these on the loading CPU.
pub const RECORDED_FEATURES: &[&str] = &[
    "sse2",
    "sse3",
    "ssse3",
    "sse4.1",
    "sse4.2",
    "popcnt",
    "sse4a",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi",
    "bmi2",
    "lzcnt",
    "movbe",
    "avx512f",
    "avx512cd",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512vnni",
    "avx512bf16",
    "avx512fp16",
    "avx512vbmi",
    "avx512vbmi2",
    "avx512ifma",
    "avx512bitalg",
    "avx512vpopcntdq",
    "gfni",
    "vaes",
    "vpclmulqdq",
    "amx-tile",
    "amx-int8",
    "amx-bf16",
];

/// Round `n` up to a multiple of [`BUFFER_ALIGN`].
pub fn align_up(n: usize) -> usize {
    n.div_ceil(BUFFER_ALIGN) * BUFFER_ALIGN
}
