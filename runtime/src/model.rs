//! [`Model`]: a loaded, validated artifact plus its own thread pool. Loading does every check
//! once (file, descriptor, metadata, target CPU, schedule); running lives in `exec.rs`.

use crate::artifact;
use crate::error::Error;
use crate::plan::{self, Plan};
use crate::target_check;
use crate::tensor::TensorInfo;
use kiln_abi::Metadata;
use libloading::Library;
use std::path::{Path, PathBuf};

/// A compiled model ready to run. `Send + Sync`: [`Model::run`] takes `&self` and may be called
/// from several threads at once (each run has its own arena; one is kept for reuse).
pub struct Model {
    pub(crate) plan: Plan,
    pub(crate) pool: Option<crate::pool::Pool>,
    pub(crate) threads: usize,
    /// The scratch block (arena + staging) of the last run, reused by the next one so a run
    /// allocates nothing; a run that finds it taken (a concurrent run) allocates its own.
    pub(crate) scratch: std::sync::Mutex<Option<crate::aligned::AlignedBuf>>,
    metadata: Metadata,
    path: PathBuf,
    /// Dropped after everything above: kernels and constants point into this library.
    _library: Library,
    /// Dropped after the library is closed (see fresh_dlopen).
    _registration: crate::fresh_dlopen::Registration,
}

/// The default thread count: the machine's available parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl Model {
    /// Load `path` with one thread per available CPU.
    pub fn load(path: impl AsRef<Path>) -> Result<Model, Error> {
        Model::load_with_threads(path, 0)
    }

    /// Load `path`, running on `threads` threads (0 = one per available CPU; 1 = on the calling
    /// thread only, no pool).
    pub fn load_with_threads(path: impl AsRef<Path>, threads: usize) -> Result<Model, Error> {
        let path = path.as_ref();
        let loaded = artifact::open(path)?;
        target_check::check(path, &loaded.metadata.target)?;
        let plan = plan::build(&loaded.metadata, &loaded.kernels, &loaded.constants)
            .map_err(|cause| Error::InvalidArtifact { path: path.to_path_buf(), cause })?;
        let threads = if threads == 0 { default_threads() } else { threads };
        let pool = if threads > 1 {
            // Kernels keep their packed GEMM panels on the stack (`scratch_bytes`).
            let scratch = loaded.metadata.kernels.iter().map(|k| k.scratch_bytes as usize).max().unwrap_or(0);
            let pool = crate::pool::Pool::new(threads, (4 << 20).max(2 * scratch + (1 << 20)))
                .map_err(|e| Error::ThreadPool { threads, cause: e.to_string() })?;
            Some(pool)
        } else {
            None
        };
        Ok(Model {
            plan,
            pool,
            threads,
            scratch: std::sync::Mutex::new(None),
            metadata: loaded.metadata,
            path: path.to_path_buf(),
            _library: loaded.library,
            _registration: loaded.registration,
        })
    }

    pub fn inputs(&self) -> &[TensorInfo] {
        &self.plan.inputs
    }

    pub fn outputs(&self) -> &[TensorInfo] {
        &self.plan.outputs
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The path the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The workgroup count the runtime uses for step `step` of the schedule:
    /// `max_workgroups` when that is at most `threads * 8`, else `threads * 4` (`min(max_workgroups,
    /// threads)` for kernels whose workgroups repeat shared work), or 1 with one thread.
    pub fn workgroups(&self, step: usize) -> Option<u64> {
        self.plan.steps.get(step).map(|s| workgroup_count(s.max_workgroups, self.threads, s.per_thread))
    }
}

/// Workgroups for a step on `threads` threads: `per_thread` per thread (several balance uneven
/// threads; 1 where each workgroup repeats shared work), at most `max_workgroups`.
pub(crate) fn workgroup_count(max_workgroups: u64, threads: usize, per_thread: u64) -> u64 {
    if threads <= 1 {
        1
    } else {
        let t = threads as u64;
        // Few workgroups: one per unit of work, so the threads' shares differ by one unit at
        // most (a 12-strip GEMM in 8 workgroups of 1 or 2 strips splits 7:5 as easily as 6:6).
        if per_thread > 1 && max_workgroups <= t.saturating_mul(2 * per_thread) {
            max_workgroups.max(1)
        } else {
            max_workgroups.min(t.saturating_mul(per_thread)).max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workgroup_counts() {
        assert_eq!(workgroup_count(100, 1, 4), 1);
        assert_eq!(workgroup_count(100, 2, 4), 8);
        assert_eq!(workgroup_count(100, 2, 1), 2);
        assert_eq!(workgroup_count(3, 5, 4), 3);
        assert_eq!(workgroup_count(1, 16, 4), 1);
        // Up to 8 per thread: one workgroup per unit of work.
        assert_eq!(workgroup_count(12, 2, 4), 12);
        assert_eq!(workgroup_count(16, 2, 4), 16);
        assert_eq!(workgroup_count(17, 2, 4), 8);
        assert_eq!(workgroup_count(12, 2, 1), 2);
    }

    #[test]
    fn model_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Model>();
    }
}
