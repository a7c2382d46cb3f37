//! The execution plan: the artifact's metadata validated once at load and flattened so that a run
//! needs no JSON, no maps and no bounds surprises. Validation makes a corrupt artifact an error
//! instead of memory corruption: dtypes known, kernel/constant/buffer indices in range, caller
//! buffer sizes equal to the declared shapes, arena slots aligned and inside `arena_bytes`,
//! every output written by some step, workgroup bounds >= 1.

use crate::dtype::DType;
use crate::tensor::TensorInfo;
use kiln_abi::{BufferKind, KernelFn, Metadata, BUFFER_ALIGN};
use std::ops::Range;

/// Where one artifact buffer lives during a run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BufRef {
    Input(usize),
    Output(usize),
    /// Address of constant data inside the loaded library.
    Constant(usize),
    /// Byte offset in the per-run arena.
    Arena(usize),
}

pub(crate) struct PlanStep {
    pub kernel: KernelFn,
    /// This step's slice of [`Plan::step_buffers`].
    pub args: Range<usize>,
    pub max_workgroups: u64,
    /// Workgroups per thread (see [`crate::model::workgroup_count`]).
    pub per_thread: u64,
}

pub(crate) struct Plan {
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    /// Byte sizes of inputs and outputs (dense, row-major).
    pub input_bytes: Vec<usize>,
    pub output_bytes: Vec<usize>,
    pub buffers: Vec<BufRef>,
    /// Buffer ids of every step's arguments, concatenated in schedule order.
    pub step_buffers: Vec<usize>,
    pub steps: Vec<PlanStep>,
    pub arena_bytes: usize,
}

fn tensor_infos(sigs: &[kiln_abi::TensorSig], what: &str) -> Result<(Vec<TensorInfo>, Vec<usize>), String> {
    let mut infos = Vec::with_capacity(sigs.len());
    let mut bytes = Vec::with_capacity(sigs.len());
    for sig in sigs {
        let dtype = DType::from_name(&sig.dtype)
            .ok_or_else(|| format!("{what} '{}' has unknown dtype '{}'", sig.name, sig.dtype))?;
        let size = sig
            .shape
            .iter()
            .try_fold(dtype.size_bytes(), |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| format!("{what} '{}' is too large", sig.name))?;
        infos.push(TensorInfo { name: sig.name.clone(), dtype, shape: sig.shape.clone() });
        bytes.push(size);
    }
    Ok((infos, bytes))
}

/// Validate `meta` against the kernel and constant tables and build the plan.
pub(crate) fn build(meta: &Metadata, kernels: &[KernelFn], constants: &[usize]) -> Result<Plan, String> {
    let (inputs, input_bytes) = tensor_infos(&meta.inputs, "input")?;
    let (outputs, output_bytes) = tensor_infos(&meta.outputs, "output")?;
    if meta.kernels.len() != kernels.len() {
        return Err(format!("metadata lists {} kernels, the kernel table has {}", meta.kernels.len(), kernels.len()));
    }
    if meta.arena_bytes > isize::MAX as usize {
        return Err(format!("arena_bytes {} is too large", meta.arena_bytes));
    }

    let mut buffers = Vec::with_capacity(meta.buffers.len());
    let mut output_written = vec![false; outputs.len()];
    for (id, buf) in meta.buffers.iter().enumerate() {
        let size = buf.size_bytes;
        let check_size = |what: &str, info: &TensorInfo, expected: usize| {
            if size == expected {
                Ok(())
            } else {
                Err(format!(
                    "buffer {id} ({what} '{}') is {size} bytes, {} needs {expected}",
                    info.name,
                    info.type_string()
                ))
            }
        };
        let r = match buf.kind {
            BufferKind::Input { index } => {
                let info = inputs
                    .get(index)
                    .ok_or_else(|| format!("buffer {id} names input {index}, there are {}", inputs.len()))?;
                check_size("input", info, input_bytes[index])?;
                BufRef::Input(index)
            }
            BufferKind::Output { index } => {
                let info = outputs
                    .get(index)
                    .ok_or_else(|| format!("buffer {id} names output {index}, there are {}", outputs.len()))?;
                check_size("output", info, output_bytes[index])?;
                output_written[index] = true;
                BufRef::Output(index)
            }
            BufferKind::Constant { index } => {
                let addr = constants
                    .get(index)
                    .ok_or_else(|| format!("buffer {id} names constant {index}, there are {}", constants.len()))?;
                BufRef::Constant(*addr)
            }
            BufferKind::Intermediate { offset } => {
                if offset % BUFFER_ALIGN != 0 {
                    return Err(format!("buffer {id}: arena offset {offset} is not a multiple of {BUFFER_ALIGN}"));
                }
                if offset.checked_add(size).is_none_or(|end| end > meta.arena_bytes) {
                    return Err(format!(
                        "buffer {id}: arena slot {offset}+{size} exceeds arena_bytes {}",
                        meta.arena_bytes
                    ));
                }
                BufRef::Arena(offset)
            }
        };
        buffers.push(r);
    }
    if let Some(i) = output_written.iter().position(|w| !w) {
        return Err(format!("output '{}' is not written by any buffer", outputs[i].name));
    }

    let mut step_buffers = Vec::new();
    let mut steps = Vec::with_capacity(meta.schedule.len());
    for (s, step) in meta.schedule.iter().enumerate() {
        let kernel = *kernels
            .get(step.kernel)
            .ok_or_else(|| format!("step {s} names kernel {}, there are {}", step.kernel, kernels.len()))?;
        if step.max_workgroups == 0 {
            return Err(format!("step {s} ({}) has max_workgroups 0", meta.kernels[step.kernel].name));
        }
        if let Some(&b) = step.buffers.iter().find(|&&b| b >= buffers.len()) {
            return Err(format!("step {s} names buffer {b}, there are {}", buffers.len()));
        }
        let start = step_buffers.len();
        step_buffers.extend_from_slice(&step.buffers);
        let per_thread = if meta.kernels[step.kernel].one_workgroup_per_thread { 1 } else { 4 };
        steps.push(PlanStep {
            kernel,
            args: start..step_buffers.len(),
            max_workgroups: step.max_workgroups,
            per_thread,
        });
    }

    Ok(Plan { inputs, outputs, input_bytes, output_bytes, buffers, step_buffers, steps, arena_bytes: meta.arena_bytes })
}
