//! Running a [`Model`]: argument checks, one aligned scratch block per run (arena + staging copies
//! of misaligned caller buffers; the model keeps the last one for the next run), buffer pointer
//! resolution, and the workgroup dispatch of every step, in order, on the model's worker pool.
//! [`Model::profile`] runs the same path and times every step.

use crate::aligned::AlignedBuf;
use crate::error::Error;
use crate::model::{workgroup_count, Model};
use crate::plan::BufRef;
use crate::tensor::{type_string, HostTensor};
use kiln_abi::{align_up, BUFFER_ALIGN};

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
        // SAFETY: forwarded contract.
        unsafe { self.execute_raw_timed(inputs, outputs, None) }
    }

    /// [`Model::execute_raw`], adding each step's time to `times[step]` when given.
    ///
    /// # Safety
    /// As for [`Model::execute_raw`].
    unsafe fn execute_raw_timed(
        &self,
        inputs: &[*const u8],
        outputs: &[*mut u8],
        times: Option<&mut [std::time::Duration]>,
    ) -> Result<(), Error> {
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
        // Reuse the model's scratch block when it is free and large enough; kernels write every
        // arena slot before reading it, so its old contents do not matter.
        let mut kept = self.scratch.try_lock().ok();
        let reused = kept.as_mut().and_then(|k| k.take()).filter(|b| b.len() >= scratch_len);
        let scratch = match reused {
            Some(b) => b,
            None => AlignedBuf::zeroed(scratch_len).ok_or(Error::Alloc { bytes: scratch_len })?,
        };

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

        self.dispatch(&args, times);

        for ((&p, st), &n) in outputs.iter().zip(&out_stage).zip(&plan.output_bytes) {
            if let Some(at) = *st {
                // SAFETY: caller guarantees `n` writable bytes at `p`.
                unsafe { std::ptr::copy_nonoverlapping(scratch.at(at), p, n) };
            }
        }
        if let Some(k) = kept.as_mut() {
            **k = Some(scratch);
        }
        Ok(())
    }

    /// Run `runs` times on `inputs` and return the seconds each schedule step took, summed over
    /// the runs (one entry per step, in schedule order; see `metadata().schedule`).
    pub fn profile(&self, inputs: &[HostTensor], runs: usize) -> Result<Vec<f64>, Error> {
        self.run(inputs)?;
        let plan = &self.plan;
        let in_slices: Vec<&[u8]> = inputs.iter().map(|t| t.data.as_slice()).collect();
        let mut outs: Vec<Vec<u8>> = plan.output_bytes.iter().map(|&n| vec![0u8; n]).collect();
        let in_ptrs: Vec<*const u8> = in_slices.iter().map(|b| b.as_ptr()).collect();
        let out_ptrs: Vec<*mut u8> = outs.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let mut times = vec![std::time::Duration::ZERO; plan.steps.len()];
        for _ in 0..runs {
            // SAFETY: `run` above checked the inputs against the plan; the outputs are sized
            // from it and owned here for the whole call.
            unsafe { self.execute_raw_timed(&in_ptrs, &out_ptrs, Some(&mut times))? };
        }
        Ok(times.iter().map(|d| d.as_secs_f64()).collect())
    }

    fn dispatch(&self, args: &[*mut u8], mut times: Option<&mut [std::time::Duration]>) {
        let threads = self.threads;
        debug_assert_eq!(args.len(), self.plan.step_buffers.len());
        // Another run holding the pool: run this one's workgroups here, one after another.
        let session = self.pool.as_ref().and_then(|p| p.session());
        for (i, step) in self.plan.steps.iter().enumerate() {
            let t0 = times.is_some().then(std::time::Instant::now);
            let n = workgroup_count(step.max_workgroups, threads, step.per_thread);
            // SAFETY: `step.args` lies within `args` (built from the same plan).
            let p = unsafe { args.as_ptr().add(step.args.start) }.cast::<*mut u8>();
            match &session {
                // SAFETY: the plan validated every buffer id and size; the pointers are live for
                // this call; workgroups of one step are independent (ABI) and cover it together.
                Some(s) if n > 1 => unsafe { s.run_step(step.kernel, p, n as usize) },
                _ => {
                    for wg in 0..n {
                        // SAFETY: as above.
                        unsafe { (step.kernel)(p, wg as i64, n as i64) };
                    }
                }
            }
            if let (Some(t), Some(t0)) = (times.as_deref_mut(), t0) {
                t[i] += t0.elapsed();
            }
        }
    }
}
