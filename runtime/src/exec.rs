//! Running a [`Model`]: argument checks, one aligned scratch block per run (arena + staging copies
//! of misaligned caller buffers), buffer pointer resolution, and the workgroup dispatch of every
//! step, in order, on the model's thread pool.

use crate::aligned::AlignedBuf;
use crate::error::Error;
use crate::model::{workgroup_count, Model};
use crate::plan::BufRef;
use crate::tensor::{type_string, HostTensor};
use kiln_abi::{align_up, BUFFER_ALIGN};
use rayon::prelude::*;

/// A pointer to one step's argument array, shared by the workgroups of that step.
#[derive(Clone, Copy)]
struct ArgsPtr(*const *mut u8);

// SAFETY: the argument array outlives the step (it is owned by the running `run_into` frame),
// and kernels only read it; the buffers it names are written by disjoint workgroups per the ABI.
unsafe impl Send for ArgsPtr {}
unsafe impl Sync for ArgsPtr {}

impl ArgsPtr {
    fn get(self) -> *const *mut u8 {
        self.0
    }
}

fn is_aligned(p: *const u8) -> bool {
    (p as usize).is_multiple_of(BUFFER_ALIGN)
}

impl Model {
    /// Run on owned tensors; returns the outputs in declaration order.
    pub fn run(&self, inputs: &[HostTensor]) -> Result<Vec<HostTensor>, Error> {
        let plan = &self.plan;
        if inputs.len() != plan.inputs.len() {
            return Err(Error::InputCount { expected: plan.inputs.len(), got: inputs.len() });
        }
        let mut wrong = Vec::new();
        for (i, (t, info)) in inputs.iter().zip(&plan.inputs).enumerate() {
            if t.dtype != info.dtype || t.shape != info.shape {
                wrong.push(format!("input '{}': expected {}, got {}", info.name, info.type_string(), t.type_string()));
            } else if t.data.len() != plan.input_bytes[i] {
                wrong.push(format!(
                    "input '{}': {} needs {} bytes, got {}",
                    info.name,
                    info.type_string(),
                    plan.input_bytes[i],
                    t.data.len()
                ));
            }
        }
        if !wrong.is_empty() {
            return Err(Error::Mismatch { details: wrong.join("; ") });
        }
        let mut outs: Vec<Vec<u8>> = plan.output_bytes.iter().map(|&n| vec![0u8; n]).collect();
        let in_slices: Vec<&[u8]> = inputs.iter().map(|t| t.data.as_slice()).collect();
        let mut out_slices: Vec<&mut [u8]> = outs.iter_mut().map(|v| v.as_mut_slice()).collect();
        self.execute(&in_slices, &mut out_slices)?;
        Ok(outs
            .into_iter()
            .zip(&plan.outputs)
            .map(|(data, info)| HostTensor { dtype: info.dtype, shape: info.shape.clone(), data })
            .collect())
    }

    /// Run on caller-owned byte buffers (dense, row-major, little-endian, sized from the
    /// declared shapes). Nothing is allocated for the outputs; a misaligned buffer is staged
    /// through aligned scratch memory.
    pub fn run_into(&self, inputs: &[&[u8]], outputs: &mut [&mut [u8]]) -> Result<(), Error> {
        let plan = &self.plan;
        if inputs.len() != plan.inputs.len() {
            return Err(Error::InputCount { expected: plan.inputs.len(), got: inputs.len() });
        }
        if outputs.len() != plan.outputs.len() {
            return Err(Error::OutputCount { expected: plan.outputs.len(), got: outputs.len() });
        }
        let mut wrong = Vec::new();
        let sizes = inputs.iter().map(|b| b.len()).zip(&plan.input_bytes).zip(&plan.inputs);
        let out_sizes = outputs.iter().map(|b| b.len()).zip(&plan.output_bytes).zip(&plan.outputs);
        for (what, ((got, &want), info)) in sizes.map(|x| ("input", x)).chain(out_sizes.map(|x| ("output", x))) {
            if got != want {
                let ty = type_string(info.dtype, &info.shape);
                wrong.push(format!("{what} '{}': {ty} needs {want} bytes, got {got}", info.name));
            }
        }
        if !wrong.is_empty() {
            return Err(Error::Mismatch { details: wrong.join("; ") });
        }
        self.execute(inputs, outputs)
    }

    /// Sizes are checked; run the schedule on slices.
    fn execute(&self, inputs: &[&[u8]], outputs: &mut [&mut [u8]]) -> Result<(), Error> {
        let in_ptrs: Vec<*const u8> = inputs.iter().map(|b| b.as_ptr()).collect();
        let out_ptrs: Vec<*mut u8> = outputs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        // SAFETY: the slices have exactly the planned sizes (checked by the callers) and are
        // borrowed for the whole call, outputs uniquely.
        unsafe { self.execute_raw(&in_ptrs, &out_ptrs) }
    }

    /// Run the schedule on raw caller buffers.
    ///
    /// # Safety
    /// `inputs[i]` must be readable for `plan.input_bytes[i]` bytes and `outputs[i]` writable for
    /// `plan.output_bytes[i]` bytes (either may dangle when that size is 0), for the whole call;
    /// outputs must not overlap each other or the inputs. Counts must match the plan.
    pub(crate) unsafe fn execute_raw(&self, inputs: &[*const u8], outputs: &[*mut u8]) -> Result<(), Error> {
        let plan = &self.plan;
        // Scratch layout: [arena | staged inputs | staged outputs], every part 64-byte aligned.
        let mut scratch_len = align_up(plan.arena_bytes);
        let mut stage = |p: *const u8, len: usize| {
            if is_aligned(p) {
                None
            } else {
                let at = scratch_len;
                scratch_len += align_up(len);
                Some(at)
            }
        };
        let in_stage: Vec<Option<usize>> = inputs.iter().zip(&plan.input_bytes).map(|(&p, &n)| stage(p, n)).collect();
        let out_stage: Vec<Option<usize>> =
            outputs.iter().zip(&plan.output_bytes).map(|(&p, &n)| stage(p, n)).collect();
        let scratch = AlignedBuf::zeroed(scratch_len).ok_or(Error::Alloc { bytes: scratch_len })?;

        let mut in_ptrs: Vec<*mut u8> = Vec::with_capacity(inputs.len());
        for ((&p, st), &n) in inputs.iter().zip(&in_stage).zip(&plan.input_bytes) {
            in_ptrs.push(match *st {
                None => p.cast_mut(),
                Some(at) => {
                    // SAFETY: caller guarantees `n` readable bytes; the slot holds `n` bytes.
                    unsafe { std::ptr::copy_nonoverlapping(p, scratch.at(at), n) };
                    scratch.at(at)
                }
            });
        }
        let out_ptrs: Vec<*mut u8> =
            outputs.iter().zip(&out_stage).map(|(&p, st)| st.map_or(p, |at| scratch.at(at))).collect();
        // Kernels never write inputs or constants (ABI), so handing them out as `*mut` is sound.
        let args: Vec<*mut u8> = plan
            .step_buffers
            .iter()
            .map(|&id| match plan.buffers[id] {
                BufRef::Input(i) => in_ptrs[i],
                BufRef::Output(i) => out_ptrs[i],
                BufRef::Constant(addr) => addr as *mut u8,
                BufRef::Arena(off) => scratch.at(off),
            })
            .collect();

        self.dispatch(&args);

        for ((&p, st), &n) in outputs.iter().zip(&out_stage).zip(&plan.output_bytes) {
            if let Some(at) = *st {
                // SAFETY: caller guarantees `n` writable bytes at `p`.
                unsafe { std::ptr::copy_nonoverlapping(scratch.at(at), p, n) };
            }
        }
        Ok(())
    }

    fn dispatch(&self, args: &[*mut u8]) {
        let threads = self.threads;
        debug_assert_eq!(args.len(), self.plan.step_buffers.len());
        let base = ArgsPtr(args.as_ptr());
        let run_steps = move || {
            for step in &self.plan.steps {
                let n = workgroup_count(step.max_workgroups, threads);
                let kernel = step.kernel;
                // SAFETY: `step.args` lies within `args` (built from the same plan).
                let p = ArgsPtr(unsafe { base.get().add(step.args.start) });
                if n == 1 {
                    // SAFETY: the plan validated every buffer id and size; the pointers are live
                    // for this call; workgroup 0 of 1 covers the whole step.
                    unsafe { kernel(p.get(), 0, 1) };
                } else {
                    (0..n).into_par_iter().for_each(|wg| {
                        // SAFETY: as above; workgroups of one step are independent (ABI).
                        unsafe { kernel(p.get(), wg as i64, n as i64) };
                    });
                }
            }
        };
        match &self.pool {
            Some(pool) => pool.install(run_steps),
            None => run_steps(),
        }
    }
}
