//! Test support: a deterministic input generator, a minimal dlopen loader that follows the
//! `kiln_abi` dispatch contract with a chosen workgroup count, and the compiled-vs-interpreter
//! comparison used by every op test.

#![allow(dead_code)]

use kiln_abi::{BufferKind, KernelFn, KilnArtifact, Metadata, ABI_VERSION, BUFFER_ALIGN, ENTRY_SYMBOL, MAGIC};
use kiln_codegen::{compile, CodegenOptions, Emit};
use kiln_ir::half::{bf16, f16};
use kiln_ir::{DType, Graph, Tensor, TensorType};
use std::alloc::{alloc_zeroed, dealloc, Layout};

/// splitmix64: deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
}

/// A random tensor: floats in [-2, 2), ints in [-5, 5], random bools.
pub fn random(rng: &mut Rng, dtype: DType, shape: &[usize]) -> Tensor {
    random_in(rng, dtype, shape, -2.0, 2.0)
}

/// A random tensor with float values in [lo, hi) and ints in [lo, hi] (rounded).
pub fn random_in(rng: &mut Rng, dtype: DType, shape: &[usize], lo: f64, hi: f64) -> Tensor {
    let n: usize = shape.iter().product();
    match dtype {
        DType::F32 => Tensor::from_f32(shape, (0..n).map(|_| rng.uniform(lo, hi) as f32).collect()),
        DType::F64 => Tensor::from_f64(shape, (0..n).map(|_| rng.uniform(lo, hi)).collect()),
        DType::I32 => Tensor::from_i32(shape, (0..n).map(|_| rng.int(lo as i64, hi as i64) as i32).collect()),
        DType::I64 => Tensor::from_i64(shape, (0..n).map(|_| rng.int(lo as i64, hi as i64)).collect()),
        DType::Bool => Tensor::from_bool(shape, (0..n).map(|_| rng.next_u64() & 1 == 1).collect()),
        DType::F16 => Tensor::from_vec(shape, (0..n).map(|_| f16::from_f64(rng.uniform(lo, hi))).collect()),
        DType::BF16 => Tensor::from_vec(shape, (0..n).map(|_| bf16::from_f64(rng.uniform(lo, hi))).collect()),
        DType::I8 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(lo as i64, hi as i64) as i8).collect()),
        DType::I16 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(lo as i64, hi as i64) as i16).collect()),
        // Unsigned: the same count of values, shifted to start at 0.
        DType::U8 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(0, (hi - lo) as i64) as u8).collect()),
        DType::U16 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(0, (hi - lo) as i64) as u16).collect()),
        DType::U32 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(0, (hi - lo) as i64) as u32).collect()),
        DType::U64 => Tensor::from_vec(shape, (0..n).map(|_| rng.int(0, (hi - lo) as i64) as u64).collect()),
    }
    .expect("shape matches")
}

/// A 64-byte-aligned zeroed byte buffer.
pub struct AlignedBuf {
    ptr: *mut u8,
    layout: Layout,
    pub len: usize,
}

impl AlignedBuf {
    pub fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len.max(1), BUFFER_ALIGN).expect("layout");
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        AlignedBuf { ptr, layout, len }
    }
    pub fn from_bytes(b: &[u8]) -> Self {
        let s = Self::new(b.len());
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), s.ptr, b.len()) };
        s
    }
    pub fn bytes(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// A compiled model loaded with dlopen, run step by step with a chosen workgroup count.
pub struct Loaded {
    _dir: tempfile::TempDir,
    _lib: libloading::Library,
    art: &'static KilnArtifact,
    pub meta: Metadata,
}

impl Loaded {
    pub fn compile(graph: &Graph) -> Loaded {
        Self::compile_with(graph, &CodegenOptions::default())
    }

    pub fn compile_with(graph: &Graph, opts: &CodegenOptions) -> Loaded {
        let so = compile(graph, opts, Emit::So).unwrap_or_else(|e| panic!("compile failed: {e}"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("model.so");
        std::fs::write(&path, so).expect("write .so");
        let lib = unsafe { libloading::Library::new(&path) }.expect("dlopen");
        let entry: libloading::Symbol<unsafe extern "C" fn() -> *const KilnArtifact> =
            unsafe { lib.get(ENTRY_SYMBOL.as_bytes()) }.expect("entry symbol");
        let art: &'static KilnArtifact = unsafe { &*entry() };
        assert_eq!(art.magic, MAGIC);
        assert_eq!(art.abi_version, ABI_VERSION);
        let json = unsafe { std::slice::from_raw_parts(art.metadata_json, art.metadata_len as usize) };
        let meta = Metadata::from_json(std::str::from_utf8(json).expect("utf8")).expect("metadata json");
        assert_eq!(meta.kernels.len() as u64, art.num_kernels);
        Loaded { _dir: dir, _lib: lib, art, meta }
    }

    /// Run with `nwg(max_workgroups)` workgroups per step, executed in reverse order (so a
    /// kernel relying on workgroup order would fail).
    pub fn run(&self, inputs: &[Tensor], nwg: &dyn Fn(u64) -> u64) -> Vec<Tensor> {
        self.run_ordered(inputs, nwg, true)
    }

    /// [`Loaded::run`], the workgroups of each step in reverse order or in order.
    pub fn run_ordered(&self, inputs: &[Tensor], nwg: &dyn Fn(u64) -> u64, reverse: bool) -> Vec<Tensor> {
        let m = &self.meta;
        assert_eq!(inputs.len(), m.inputs.len());
        let ins: Vec<AlignedBuf> = inputs.iter().map(|t| AlignedBuf::from_bytes(&t.to_le_bytes())).collect();
        let outs: Vec<AlignedBuf> = m
            .outputs
            .iter()
            .map(|o| AlignedBuf::new(o.shape.iter().product::<usize>() * dtype(&o.dtype).size_bytes()))
            .collect();
        // Fill the arena with garbage so a kernel reading an unwritten slot shows up.
        let arena = AlignedBuf::new(m.arena_bytes);
        unsafe { std::ptr::write_bytes(arena.ptr, 0xA5, arena.len) };
        let consts = unsafe { std::slice::from_raw_parts(self.art.constants, self.art.num_constants as usize) };
        let kernels = unsafe { std::slice::from_raw_parts(self.art.kernels, self.art.num_kernels as usize) };
        let ptrs: Vec<*mut u8> = m
            .buffers
            .iter()
            .map(|b| match b.kind {
                BufferKind::Input { index } => ins[index].ptr,
                BufferKind::Output { index } => outs[index].ptr,
                BufferKind::Constant { index } => {
                    assert_eq!(consts[index] as usize % BUFFER_ALIGN, 0, "constant alignment");
                    consts[index] as *mut u8
                }
                BufferKind::Intermediate { offset } => {
                    assert_eq!(offset % BUFFER_ALIGN, 0);
                    assert!(offset + b.size_bytes <= m.arena_bytes);
                    unsafe { arena.ptr.add(offset) }
                }
            })
            .collect();
        for st in &m.schedule {
            let args: Vec<*mut u8> = st.buffers.iter().map(|b| ptrs[*b]).collect();
            let k: KernelFn = kernels[st.kernel];
            let n = nwg(st.max_workgroups).clamp(1, st.max_workgroups);
            let order: Vec<u64> = if reverse { (0..n).rev().collect() } else { (0..n).collect() };
            for wg in order {
                unsafe { k(args.as_ptr(), wg as i64, n as i64) };
            }
        }
        m.outputs
            .iter()
            .zip(&outs)
            .map(|(o, b)| Tensor::from_le_bytes(dtype(&o.dtype), &o.shape, b.bytes()).expect("output bytes"))
            .collect()
    }
}

fn dtype(name: &str) -> DType {
    DType::from_name(name).expect("dtype name")
}

/// Compare a compiled output with the interpreter's: exact for ints/bools, and for floats
/// `|a - b| <= tol * max(1, max|ref|)` (NaN matches NaN).
pub fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    if !want.dtype().is_float() {
        assert!(got.bit_eq(want), "{what}: got {:?}\nwant {:?}", got.to_f64_vec(), want.to_f64_vec());
        return;
    }
    let (g, w) = (got.to_f64_vec(), want.to_f64_vec());
    let scale = w.iter().filter(|v| v.is_finite()).fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * scale;
        assert!(ok, "{what}: element {i}: got {a}, want {b} (tol {tol} * {scale})");
    }
}

/// Compile `graph`, run it with 1 workgroup, with the maximum and with 3 per step, and compare
/// each run's outputs with the interpreter's.
pub fn check_graph(graph: &Graph, inputs: &[Tensor], tol: f64) -> Loaded {
    let want = kiln_ir::interp::evaluate(graph, inputs).unwrap_or_else(|e| panic!("interpreter: {e}"));
    let l = Loaded::compile(graph);
    let counts: [(&str, &dyn Fn(u64) -> u64); 3] = [("1 wg", &|_| 1), ("max wg", &|m| m), ("3 wg", &|_| 3)];
    for (label, f) in counts {
        let got = l.run(inputs, f);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_close(&format!("{} output {i} ({label})", graph.name), g, w, tol);
        }
    }
    l
}

/// A graph with one input per type, built by `f`, checked against the interpreter on seeded
/// random inputs.
pub fn check_op(
    name: &str,
    in_tys: &[TensorType],
    f: impl FnOnce(&mut Graph, &[kiln_ir::ValueRef]) -> Vec<kiln_ir::ValueRef>,
) {
    check_op_tol(name, in_tys, 1e-5, f)
}

pub fn check_op_tol(
    name: &str,
    in_tys: &[TensorType],
    tol: f64,
    f: impl FnOnce(&mut Graph, &[kiln_ir::ValueRef]) -> Vec<kiln_ir::ValueRef>,
) {
    let mut g = Graph::new(name);
    let ins: Vec<_> = in_tys.iter().enumerate().map(|(i, t)| g.add_input(format!("x{i}"), t.clone())).collect();
    let outs = f(&mut g, &ins);
    for (i, o) in outs.into_iter().enumerate() {
        g.add_output(format!("y{i}"), o);
    }
    let mut rng = Rng::new(name.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64)));
    let inputs: Vec<Tensor> = in_tys.iter().map(|t| random(&mut rng, t.dtype, &t.shape)).collect();
    check_graph(&g, &inputs, tol);
}

pub fn ty(dtype: DType, shape: &[usize]) -> TensorType {
    TensorType::new(dtype, shape.to_vec())
}

/// A graph named `name` with one input per type, outputs from `f`.
pub fn build(
    name: &str,
    in_tys: &[TensorType],
    f: impl FnOnce(&mut Graph, &[kiln_ir::ValueRef]) -> Vec<kiln_ir::ValueRef>,
) -> Graph {
    let mut g = Graph::new(name);
    let ins: Vec<_> = in_tys.iter().enumerate().map(|(i, t)| g.add_input(format!("x{i}"), t.clone())).collect();
    let outs = f(&mut g, &ins);
    for (i, o) in outs.into_iter().enumerate() {
        g.add_output(format!("y{i}"), o);
    }
    g
}

/// One op node on `ins`, all outputs.
pub fn node(g: &mut Graph, op: kiln_ir::Op, ins: &[kiln_ir::ValueRef]) -> Vec<kiln_ir::ValueRef> {
    g.add_node(op.clone(), ins).unwrap_or_else(|e| panic!("building {}: {e}", op.name()))
}
