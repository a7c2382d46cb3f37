//! A tiny MLIR text builder used by every op lowering: SSA names, hoisted constants, `scf.for`
//! loops (with `iter_args`), `memref.load/store` and typed arith/math helpers.
//!
//! Values are plain strings (`%v12`). Constants are hoisted to the function entry and cached, so
//! they dominate every use whatever loop they are requested in. Bool tensors live in memory as
//! `i8` (one byte holding 0/1, as numpy) and in registers as `i1`: `load`/`store` convert, and a
//! nonzero byte reads as true. f16 and bf16 live in memory as themselves and in registers as f32
//! (`load` extends exactly, `store` rounds to nearest even), so every op computes in f32 and rounds
//! once per kernel, as the interpreter does. Unsigned integers are MLIR's signless integers of
//! their width; ops whose meaning depends on the sign (division, remainder, ordering, widening,
//! int <-> float) pick the unsigned arith op through [`su`] and [`ipred`].

use kiln_ir::DType;
use std::collections::HashMap;

/// MLIR scalar type of a dtype in registers (f16 / bf16 compute in f32).
pub fn reg_ty(dt: DType) -> &'static str {
    match dt {
        DType::F32 | DType::F16 | DType::BF16 => "f32",
        DType::F64 => "f64",
        DType::I8 | DType::U8 => "i8",
        DType::I16 | DType::U16 => "i16",
        DType::I32 | DType::U32 => "i32",
        DType::I64 | DType::U64 => "i64",
        DType::Bool => "i1",
    }
}

/// MLIR element type of a dtype in memory (bool is one byte).
pub fn mem_ty(dt: DType) -> &'static str {
    match dt {
        DType::Bool => "i8",
        DType::F16 => "f16",
        // bf16 is stored as its bits: LLVM lowers bf16 conversions to libcalls
        // (`__truncsfbf2`) that older libgcc lacks, so the builder converts with integer ops.
        DType::BF16 => "i16",
        d => reg_ty(d),
    }
}

/// The signedness letter of integer arith ops for `dt`: `u` for unsigned dtypes and bool (the
/// `divui`, `remui`, `maxui`, `extui`, `uitofp` family), `s` otherwise.
pub fn su(dt: DType) -> &'static str {
    if dt.is_unsigned() || dt == DType::Bool {
        "u"
    } else {
        "s"
    }
}

/// The `arith.cmpi` predicate for the ordering `rel` (`lt`, `le`, `gt`, `ge`) on `dt`: `slt`
/// or `ult`, ...
pub fn ipred(dt: DType, rel: &str) -> String {
    format!("{}{rel}", su(dt))
}

/// A kernel parameter as the kernel views it: a static-shape row-major memref. Views of one
/// buffer may differ between kernels (same bytes, other shape), e.g. a `[C]` scale seen as
/// `[1,C,1,1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mem {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl Mem {
    pub fn memref_ty(&self) -> String {
        let mut s = String::from("memref<");
        for d in &self.shape {
            s.push_str(&format!("{d}x"));
        }
        s.push_str(mem_ty(self.dtype));
        s.push('>');
        s
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }
}

/// An open `scf.for` with loop-carried values: its induction variable, the block arguments for
/// the carried values, and the names the loop results will have once closed.
pub struct IterLoop {
    pub iv: String,
    pub accs: Vec<String>,
    pub results: Vec<String>,
    tys: Vec<String>,
}

#[derive(Default)]
pub struct Builder {
    consts: Vec<String>,
    const_cache: HashMap<String, String>,
    body: Vec<String>,
    indent: usize,
    next: usize,
}

impl Builder {
    pub fn new() -> Self {
        Builder { indent: 2, ..Default::default() }
    }

    /// The function body: hoisted constants first, then the emitted lines.
    pub fn finish(self) -> Vec<String> {
        let mut out = self.consts;
        out.extend(self.body);
        out
    }

    pub fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    pub fn line(&mut self, s: impl AsRef<str>) {
        self.body.push(format!("{}{}", "  ".repeat(self.indent), s.as_ref()));
    }

    /// Emit `%new = rhs` and return `%new`.
    pub fn op(&mut self, rhs: impl AsRef<str>) -> String {
        let v = self.fresh();
        self.line(format!("{v} = {}", rhs.as_ref()));
        v
    }

    fn constant(&mut self, lit: String, ty: &str) -> String {
        let key = format!("{lit} : {ty}");
        if let Some(v) = self.const_cache.get(&key) {
            return v.clone();
        }
        let v = self.fresh();
        self.consts.push(format!("    {v} = arith.constant {key}"));
        self.const_cache.insert(key, v.clone());
        v
    }

    /// An `index` constant.
    pub fn idx(&mut self, n: i64) -> String {
        self.constant(n.to_string(), "index")
    }

    /// A constant of dtype `dt` with value `v` (floats exact via their bit pattern).
    pub fn cst(&mut self, dt: DType, v: f64) -> String {
        match dt {
            DType::F32 | DType::F16 | DType::BF16 => self.constant(format!("0x{:08X}", (v as f32).to_bits()), "f32"),
            DType::F64 => self.constant(format!("0x{:016X}", v.to_bits()), "f64"),
            // Signless constants are spelled as the signed value of the same bits.
            DType::I8 => self.constant((v as i8).to_string(), "i8"),
            DType::U8 => self.constant((v as u8 as i8).to_string(), "i8"),
            DType::I16 => self.constant((v as i16).to_string(), "i16"),
            DType::U16 => self.constant((v as u16 as i16).to_string(), "i16"),
            DType::I32 => self.constant((v as i32).to_string(), "i32"),
            DType::U32 => self.constant((v as u32 as i32).to_string(), "i32"),
            DType::I64 => self.constant((v as i64).to_string(), "i64"),
            DType::U64 => self.constant((v as u64 as i64).to_string(), "i64"),
            // `arith.constant true : i1` is not valid MLIR; the integer form is.
            DType::Bool => self.constant(((v != 0.0) as i32).to_string(), "i1"),
        }
    }

    /// An f32 constant from its exact bits (attributes such as Gemm alpha).
    pub fn cst_f32(&mut self, v: f32) -> String {
        self.constant(format!("0x{:08X}", v.to_bits()), "f32")
    }

    /// Open `scf.for %iv = lo to hi step 1`; returns the induction variable.
    pub fn for_(&mut self, lo: &str, hi: &str) -> String {
        let iv = self.fresh();
        let one = self.idx(1);
        self.line(format!("scf.for {iv} = {lo} to {hi} step {one} {{"));
        self.indent += 1;
        iv
    }

    pub fn end_for(&mut self) {
        self.indent -= 1;
        self.line("}");
    }

    /// Open `scf.for %iv = lo to hi step step` (`step` an index value); returns the induction
    /// variable. Close with [`Builder::end_for`].
    pub fn for_step(&mut self, lo: &str, hi: &str, step: &str) -> String {
        let iv = self.fresh();
        self.line(format!("scf.for {iv} = {lo} to {hi} step {step} {{"));
        self.indent += 1;
        iv
    }

    /// Open `scf.if %cond` (no results); close with [`Builder::end_if`], optionally after
    /// [`Builder::else_`].
    pub fn if_(&mut self, cond: &str) {
        self.line(format!("scf.if {cond} {{"));
        self.indent += 1;
    }

    pub fn else_(&mut self) {
        self.indent -= 1;
        self.line("} else {");
        self.indent += 1;
    }

    pub fn end_if(&mut self) {
        self.indent -= 1;
        self.line("}");
    }

    /// A hoisted constant spelled `lit : ty` (e.g. `dense<0.0> : vector<8xf32>`).
    pub fn typed_const(&mut self, lit: &str, ty: &str) -> String {
        self.constant(lit.to_string(), ty)
    }

    /// `min(a, b)` on signed indices.
    pub fn imin(&mut self, a: &str, b: &str) -> String {
        self.op(format!("arith.minsi {a}, {b} : index"))
    }

    /// Open `scf.for` carrying `inits` (value, MLIR type) pairs.
    pub fn for_iter(&mut self, lo: &str, hi: &str, inits: &[(String, String)]) -> IterLoop {
        let iv = self.fresh();
        let res = self.fresh();
        let one = self.idx(1);
        let accs: Vec<String> = inits.iter().map(|_| self.fresh()).collect();
        let args: Vec<String> = accs.iter().zip(inits).map(|(a, (v, _))| format!("{a} = {v}")).collect();
        let tys: Vec<String> = inits.iter().map(|(_, t)| t.clone()).collect();
        let lhs = if inits.len() == 1 { res.clone() } else { format!("{res}:{}", inits.len()) };
        self.line(format!(
            "{lhs} = scf.for {iv} = {lo} to {hi} step {one} iter_args({}) -> ({}) {{",
            args.join(", "),
            tys.join(", ")
        ));
        self.indent += 1;
        let results =
            if inits.len() == 1 { vec![res] } else { (0..inits.len()).map(|i| format!("{res}#{i}")).collect() };
        IterLoop { iv, accs, results, tys }
    }

    /// Yield the next carried values and close the loop; returns the loop results.
    pub fn end_for_iter(&mut self, l: IterLoop, yields: &[String]) -> Vec<String> {
        self.line(format!("scf.yield {} : {}", yields.join(", "), l.tys.join(", ")));
        self.indent -= 1;
        self.line("}");
        l.results
    }

    /// Load one element (bool bytes become i1: nonzero is true; f16 / bf16 extend to f32).
    pub fn load(&mut self, m: &Mem, idx: &[String]) -> String {
        let v = self.op(format!("memref.load {}[{}] : {}", m.name, idx.join(", "), m.memref_ty()));
        if m.dtype == DType::Bool {
            let z = self.constant("0".into(), "i8");
            self.op(format!("arith.cmpi ne, {v}, {z} : i8"))
        } else if m.dtype.is_half() {
            self.half_to_f32(&v, m.dtype)
        } else {
            v
        }
    }

    /// An f16 (`f16`) or bf16 (its `i16` bits) value widened to f32, exactly.
    pub fn half_to_f32(&mut self, v: &str, dt: DType) -> String {
        if dt == DType::F16 {
            return self.op(format!("arith.extf {v} : f16 to f32"));
        }
        let w = self.op(format!("arith.extui {v} : i16 to i32"));
        let sh = self.constant("16".into(), "i32");
        let hi = self.op(format!("arith.shli {w}, {sh} : i32"));
        self.op(format!("arith.bitcast {hi} : i32 to f32"))
    }

    /// An f32 rounded to nearest even as an f16 (`f16`) or bf16 (its `i16` bits; NaN stays a
    /// quiet NaN with the top payload bits, as the `half` crate does).
    pub fn f32_to_half(&mut self, v: &str, dt: DType) -> String {
        if dt == DType::F16 {
            return self.op(format!("arith.truncf {v} : f32 to f16"));
        }
        let bits = self.op(format!("arith.bitcast {v} : f32 to i32"));
        let sh = self.constant("16".into(), "i32");
        let one = self.constant("1".into(), "i32");
        let bias = self.constant("32767".into(), "i32");
        let quiet = self.constant("64".into(), "i32");
        let hi = self.op(format!("arith.shrui {bits}, {sh} : i32"));
        let lsb = self.op(format!("arith.andi {hi}, {one} : i32"));
        let b1 = self.op(format!("arith.addi {bits}, {bias} : i32"));
        let b2 = self.op(format!("arith.addi {b1}, {lsb} : i32"));
        let rounded = self.op(format!("arith.shrui {b2}, {sh} : i32"));
        let nan_bits = self.op(format!("arith.ori {hi}, {quiet} : i32"));
        let is_nan = self.op(format!("arith.cmpf uno, {v}, {v} : f32"));
        let r = self.op(format!("arith.select {is_nan}, {nan_bits}, {rounded} : i32"));
        self.op(format!("arith.trunci {r} : i32 to i16"))
    }

    /// Store one element (i1 is written as a 0/1 byte; f32 rounds to f16 / bf16).
    pub fn store(&mut self, v: &str, m: &Mem, idx: &[String]) {
        let v = if m.dtype == DType::Bool {
            self.op(format!("arith.extui {v} : i1 to i8"))
        } else if m.dtype.is_half() {
            self.f32_to_half(v, m.dtype)
        } else {
            v.to_string()
        };
        self.line(format!("memref.store {v}, {}[{}] : {}", m.name, idx.join(", "), m.memref_ty()));
    }

    /// `a + b` in dtype `dt`.
    pub fn add(&mut self, a: &str, b: &str, dt: DType) -> String {
        self.arith2("addf", "addi", a, b, dt)
    }
    pub fn sub(&mut self, a: &str, b: &str, dt: DType) -> String {
        self.arith2("subf", "subi", a, b, dt)
    }
    pub fn mul(&mut self, a: &str, b: &str, dt: DType) -> String {
        self.arith2("mulf", "muli", a, b, dt)
    }
    /// Float division (callers guard integer division themselves).
    pub fn divf(&mut self, a: &str, b: &str, dt: DType) -> String {
        self.op(format!("arith.divf {a}, {b} : {}", reg_ty(dt)))
    }
    /// `max(a, b)`, NaN-propagating for floats (`arith.maximumf`), `maxui` for unsigned.
    pub fn max(&mut self, a: &str, b: &str, dt: DType) -> String {
        let i = format!("max{}i", su(dt));
        self.arith2("maximumf", &i, a, b, dt)
    }
    pub fn sqrt(&mut self, a: &str, dt: DType) -> String {
        self.op(format!("math.sqrt {a} : {}", reg_ty(dt)))
    }
    /// `e^a`: the vectorizable polynomial for f32 registers (see `fast_math`), `math.exp` else.
    pub fn exp(&mut self, a: &str, dt: DType) -> String {
        match reg_ty(dt) {
            "f32" => self.exp_f32(a),
            t => self.op(format!("math.exp {a} : {t}")),
        }
    }
    /// `erf(a)`, as [`Builder::exp`].
    pub fn erf(&mut self, a: &str, dt: DType) -> String {
        match reg_ty(dt) {
            "f32" => self.erf_f32(a),
            t => self.op(format!("math.erf {a} : {t}")),
        }
    }
    /// `tanh(a)`, as [`Builder::exp`].
    pub fn tanh(&mut self, a: &str, dt: DType) -> String {
        match reg_ty(dt) {
            "f32" => self.tanh_f32(a),
            t => self.op(format!("math.tanh {a} : {t}")),
        }
    }
    /// An i32 constant.
    pub fn constant_i32(&mut self, v: i32) -> String {
        self.constant(v.to_string(), "i32")
    }
    pub fn select(&mut self, c: &str, a: &str, b: &str, dt: DType) -> String {
        self.op(format!("arith.select {c}, {a}, {b} : {}", reg_ty(dt)))
    }

    fn arith2(&mut self, f: &str, i: &str, a: &str, b: &str, dt: DType) -> String {
        let name = if dt.is_float() { f } else { i };
        self.op(format!("arith.{name} {a}, {b} : {}", reg_ty(dt)))
    }

    // --- index arithmetic ---

    pub fn iadd(&mut self, a: &str, b: &str) -> String {
        self.op(format!("arith.addi {a}, {b} : index"))
    }
    pub fn isub(&mut self, a: &str, b: &str) -> String {
        self.op(format!("arith.subi {a}, {b} : index"))
    }
    pub fn imul(&mut self, a: &str, b: &str) -> String {
        self.op(format!("arith.muli {a}, {b} : index"))
    }
    /// `a * k + c` on indices with constant `k`, `c`, skipping trivial terms.
    pub fn affine(&mut self, a: &str, k: i64, c: i64) -> String {
        let mut v = a.to_string();
        if k != 1 {
            let kk = self.idx(k);
            v = self.imul(&v, &kk);
        }
        if c != 0 {
            let cc = self.idx(c);
            v = self.iadd(&v, &cc);
        }
        v
    }
    /// Signed comparison of indices (`slt`, `sge`, ...).
    pub fn icmp(&mut self, pred: &str, a: &str, b: &str) -> String {
        self.op(format!("arith.cmpi {pred}, {a}, {b} : index"))
    }
    pub fn and(&mut self, a: &str, b: &str) -> String {
        self.op(format!("arith.andi {a}, {b} : i1"))
    }
    /// `clamp(a, lo, hi)` on signed indices.
    pub fn iclamp(&mut self, a: &str, lo: i64, hi: i64) -> String {
        let l = self.idx(lo);
        let h = self.idx(hi);
        let v = self.op(format!("arith.maxsi {a}, {l} : index"));
        self.op(format!("arith.minsi {v}, {h} : index"))
    }
    /// Whether `0 <= a < n` (signed).
    pub fn in_range(&mut self, a: &str, n: usize) -> String {
        let z = self.idx(0);
        let nn = self.idx(n as i64);
        let ge = self.icmp("sge", a, &z);
        let lt = self.icmp("slt", a, &nn);
        self.and(&ge, &lt)
    }
}
