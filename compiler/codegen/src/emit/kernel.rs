//! One kernel being emitted: its parameters (memref views of the step's buffers), the workgroup
//! partition of its outermost parallel loop, and loop-nest helpers shared by the op lowerings.
//!
//! A kernel is `func.func @kiln_kN_body(%b0: memref<..>, ..., %wg: index, %nwg: index)`. Exactly one
//! loop (the partitioned dim, or a one-trip dummy loop when nothing is parallel) runs over
//! `[wg*E/nwg, (wg+1)*E/nwg)`; the step records `max_workgroups = max(E, 1)`, and the kernel is
//! correct for any workgroup count in `1..=max_workgroups`.

use super::builder::{Builder, Mem};

/// One step of a reduction: `(kernel, ivs, carried values) -> next carried values`.
pub type ReduceStep<'a> = dyn FnMut(&mut Kernel, &[String], &[String]) -> Vec<String> + 'a;

pub struct Kernel {
    pub b: Builder,
    pub params: Vec<Mem>,
    pub max_workgroups: u64,
    /// f32 lanes of the target's widest vector register (16 with AVX-512, 8 with AVX, 4 else).
    pub f32_lanes: usize,
    /// Stack bytes one workgroup uses (reported in the metadata).
    pub scratch_bytes: u64,
    /// Workgroups repeat shared work (a GEMM split by rows packs all of B): the runtime runs
    /// one per thread.
    pub one_workgroup_per_thread: bool,
    /// Parameter 1 is a constant B packed at compile time (`lower::gemm_pack::pack_constant`).
    pub prepacked_b: bool,
    /// The left operand (parameter 0 of a Gemm, the weights, parameter 1, of a Conv) is a
    /// constant A packed at compile time (`lower::gemm_pack::pack_constant_a`); the value is
    /// that constant's own shape (the parameter itself is 1-D).
    pub prepacked_a: Option<Vec<usize>>,
    /// The taps a direct convolution's packed weights cover (`lower::conv_direct::ConvTaps`).
    pub conv_taps: Option<crate::lower::conv_direct::ConvTaps>,
    /// That convolution runs pixels as rows (`lower::conv_pixel_rows`), its weights packed so.
    pub conv_pixel_rows: bool,
    partitioned: bool,
}

/// Loops opened by [`Kernel::parallel_loops`]: one induction variable (or constant 0) per dim.
pub struct Nest {
    pub ivs: Vec<String>,
    opened: usize,
    part: Option<Part>,
}

/// The partitioned dim of a kernel (None: a one-trip dummy loop) and this workgroup's range.
pub struct Part {
    pub dim: Option<usize>,
    pub lo: String,
    pub hi: String,
    dummy: bool,
}

impl Kernel {
    /// A kernel over `params` (named `%b0, %b1, ...` in order).
    pub fn new(params: Vec<(kiln_ir::DType, Vec<usize>)>) -> Kernel {
        let params = params
            .into_iter()
            .enumerate()
            .map(|(i, (dtype, shape))| Mem { name: format!("%b{i}"), dtype, shape })
            .collect();
        Kernel {
            b: Builder::new(),
            params,
            max_workgroups: 1,
            f32_lanes: 8,
            scratch_bytes: 0,
            one_workgroup_per_thread: false,
            prepacked_b: false,
            prepacked_a: None,
            conv_taps: None,
            conv_pixel_rows: false,
            partitioned: false,
        }
    }

    pub fn param(&self, i: usize) -> Mem {
        self.params[i].clone()
    }

    /// View parameter `i` with another shape of the same element count (same bytes). Call
    /// before the parameter is first loaded or stored.
    pub fn view(&mut self, i: usize, shape: Vec<usize>) -> Mem {
        debug_assert_eq!(
            self.params[i].shape.iter().product::<usize>(),
            shape.iter().product::<usize>(),
            "a view keeps the element count"
        );
        self.params[i].shape = shape;
        self.params[i].clone()
    }

    /// `m` seen as one dimension (`memref.collapse_shape` of every dim), for gathers, scatters
    /// and flat offsets.
    pub fn flat(&mut self, m: &Mem) -> Mem {
        let f = Mem { name: self.b.fresh(), dtype: m.dtype, shape: vec![m.shape.iter().product()] };
        let dims: Vec<String> = (0..m.rank()).map(|i| i.to_string()).collect();
        self.b.line(format!(
            "{} = memref.collapse_shape {} [[{}]] : {} into {}",
            f.name,
            m.name,
            dims.join(", "),
            m.memref_ty(),
            f.memref_ty()
        ));
        f
    }

    /// The workgroup's share `[lo, hi)` of `0..extent`; call once per kernel.
    pub fn partition(&mut self, extent: usize) -> (String, String) {
        debug_assert!(!self.partitioned, "one partitioned loop per kernel");
        self.partitioned = true;
        self.max_workgroups = extent.max(1) as u64;
        let e = self.b.idx(extent as i64);
        let one = self.b.idx(1);
        let lo0 = self.b.imul("%wg", &e);
        let lo = self.b.op(format!("arith.divui {lo0}, %nwg : index"));
        let wg1 = self.b.iadd("%wg", &one);
        let hi0 = self.b.imul(&wg1, &e);
        let hi = self.b.op(format!("arith.divui {hi0}, %nwg : index"));
        (lo, hi)
    }

    /// Choose the partitioned dim (the first dim of `shape` not in `skip` with extent > 1) and
    /// compute this workgroup's share of it. With no such dim, opens a one-trip dummy loop
    /// (closed by [`Kernel::end_parallel`]) so only workgroup 0 of 1 does the work.
    pub fn begin_parallel(&mut self, shape: &[usize], skip: &[usize]) -> Part {
        let dim = (0..shape.len()).find(|d| !skip.contains(d) && shape[*d] > 1);
        match dim {
            Some(d) => {
                let (lo, hi) = self.partition(shape[d]);
                Part { dim, lo, hi, dummy: false }
            }
            None => {
                let (lo, hi) = self.partition(1);
                self.b.for_(&lo, &hi);
                Part { dim, lo, hi, dummy: true }
            }
        }
    }

    pub fn end_parallel(&mut self, part: Part) {
        if part.dim.is_none() && part.dummy {
            self.b.end_for();
        }
    }

    /// Open loops over every dim of `shape` not in `skip`, in order; the partitioned dim runs
    /// over the workgroup's share. Extent-1 dims and skipped dims get index 0.
    pub fn loops(&mut self, shape: &[usize], skip: &[usize], part: &Part) -> Nest {
        let zero = self.b.idx(0);
        let mut ivs = vec![zero.clone(); shape.len()];
        let mut opened = 0;
        for d in 0..shape.len() {
            let is_part = part.dim == Some(d);
            if skip.contains(&d) || (shape[d] == 1 && !is_part) {
                continue;
            }
            let (lo, hi) =
                if is_part { (part.lo.clone(), part.hi.clone()) } else { (zero.clone(), self.b.idx(shape[d] as i64)) };
            ivs[d] = self.b.for_(&lo, &hi);
            opened += 1;
        }
        Nest { ivs, opened, part: None }
    }

    /// [`Kernel::begin_parallel`] + [`Kernel::loops`]: the usual outer loop nest of a kernel.
    pub fn parallel_loops(&mut self, shape: &[usize], skip: &[usize]) -> Nest {
        let part = self.begin_parallel(shape, skip);
        let mut nest = self.loops(shape, skip, &part);
        nest.part = Some(part);
        nest
    }

    /// Open full-range loops over `dims` of `shape`, writing their induction variables into
    /// `ivs` (extent-1 dims get 0); returns how many loops to close with [`Kernel::close`].
    pub fn inner_loops(&mut self, shape: &[usize], dims: &[usize], ivs: &mut [String]) -> usize {
        let zero = self.b.idx(0);
        let mut opened = 0;
        for &d in dims {
            if shape[d] == 1 {
                ivs[d] = zero.clone();
                continue;
            }
            let hi = self.b.idx(shape[d] as i64);
            ivs[d] = self.b.for_(&zero, &hi);
            opened += 1;
        }
        opened
    }

    pub fn close_n(&mut self, n: usize) {
        for _ in 0..n {
            self.b.end_for();
        }
    }

    /// Close a nest (and its partition's dummy loop, if it owns one).
    pub fn close(&mut self, nest: Nest) {
        self.close_n(nest.opened);
        if let Some(p) = nest.part {
            self.end_parallel(p);
        }
    }

    /// A reduction over `dims` of `shape`: nested `scf.for` loops carrying `inits` (value, type);
    /// `step(kernel, ivs, accs)` returns the next carried values. Returns the final values.
    pub fn reduce(
        &mut self,
        shape: &[usize],
        dims: &[usize],
        ivs: &mut Vec<String>,
        inits: Vec<(String, String)>,
        step: &mut ReduceStep,
    ) -> Vec<String> {
        let zero = self.b.idx(0);
        let mut loop_dims = Vec::new();
        for &d in dims {
            if shape[d] == 1 {
                ivs[d] = zero.clone();
            } else {
                loop_dims.push(d);
            }
        }
        self.reduce_rec(shape, &loop_dims, ivs, inits, step)
    }

    fn reduce_rec(
        &mut self,
        shape: &[usize],
        loop_dims: &[usize],
        ivs: &mut Vec<String>,
        inits: Vec<(String, String)>,
        step: &mut ReduceStep,
    ) -> Vec<String> {
        let Some((&d, rest)) = loop_dims.split_first() else {
            let vals: Vec<String> = inits.into_iter().map(|(v, _)| v).collect();
            return step(self, ivs, &vals);
        };
        let zero = self.b.idx(0);
        let hi = self.b.idx(shape[d] as i64);
        let tys: Vec<String> = inits.iter().map(|(_, t)| t.clone()).collect();
        let l = self.b.for_iter(&zero, &hi, &inits);
        ivs[d] = l.iv.clone();
        let inner_inits = l.accs.iter().cloned().zip(tys).collect();
        let next = self.reduce_rec(shape, rest, ivs, inner_inits, step);
        self.b.end_for_iter(l, &next)
    }

    /// The `func.func` text of this kernel named `name`.
    pub fn into_func(self, name: &str) -> String {
        // The bare-pointer convention rejects multi-dim memrefs with a zero extent: such a
        // parameter arrives as `memref<0xT>` and is reinterpreted to its view.
        let mut args = Vec::new();
        let mut casts = String::new();
        for m in &self.params {
            if m.rank() > 1 && m.shape.contains(&0) {
                let raw = format!("{}_raw: memref<0x{}>", m.name, super::mem_ty(m.dtype));
                let strides: Vec<String> =
                    (0..m.rank()).map(|d| m.shape[d + 1..].iter().product::<usize>().to_string()).collect();
                let sizes: Vec<String> = m.shape.iter().map(|d| d.to_string()).collect();
                casts.push_str(&format!(
                    "    {} = memref.reinterpret_cast {}_raw to offset: [0], sizes: [{}], strides: [{}] : memref<0x{}> to {}\n",
                    m.name,
                    m.name,
                    sizes.join(", "),
                    strides.join(", "),
                    super::mem_ty(m.dtype),
                    m.memref_ty()
                ));
                args.push(raw);
            } else {
                args.push(format!("{}: {}", m.name, m.memref_ty()));
            }
        }
        args.push("%wg: index".into());
        args.push("%nwg: index".into());
        let mut s = format!("  func.func @{name}({}) {{\n", args.join(", "));
        s.push_str(&casts);
        for l in self.b.finish() {
            s.push_str(&l);
            s.push('\n');
        }
        s.push_str("    return\n  }\n");
        s
    }
}

/// The index list of `out_ivs` mapped into an operand of shape `in_shape` broadcast (numpy,
/// right-aligned) to the output: broadcast dims read index 0.
pub fn broadcast_index(out_ivs: &[String], in_shape: &[usize], out_shape: &[usize], zero: &str) -> Vec<String> {
    let off = out_shape.len() - in_shape.len();
    in_shape
        .iter()
        .enumerate()
        .map(|(i, &n)| if n == 1 && out_shape[off + i] != 1 { zero.to_string() } else { out_ivs[off + i].clone() })
        .collect()
}
