//! The model's worker pool: `threads - 1` workers plus the calling thread run the workgroups of
//! one schedule step at a time. Built for many short steps (a ResNet-50 run is ~80 steps of
//! 10..1000 µs): the caller publishes a step with one atomic store and claims workgroups itself;
//! idle workers spin on that word for a while (`KILN_SPIN_US`, 2 ms by default) before parking,
//! so a step costs no thread wake-up (on a virtual machine a wake-up through the kernel can take
//! 50-100 µs) and the caller never sleeps. Parked workers are woken when the next run starts, so their wake-up
//! overlaps the run's first single-workgroup steps.
//!
//! Affinity: thread `t` of `T` (the caller is 0) owns the workgroups `[t*n/T, (t+1)*n/T)` of
//! every step, claims them from the front, then steals from the back of the others' shares. A
//! kernel's workgroups split its partitioned dimension in order, so consecutive steps that
//! split the same data the same way (pixels of an image, rows of a matrix) run each part on the
//! same core, whose cache still holds what the previous step wrote there. First-come claiming
//! scattered the parts over the cores: a 3x3 convolution inside ResNet-50 then ran ~15% slower
//! than on its own at 2 threads (half its input in the other core's L2).
//!
//! Protocol: `state` holds `epoch << 32`, the step's number, which workers watch. Share `t`
//! holds `(epoch << 32) | (lo << 16) | hi`, its unclaimed workgroups `[lo, hi)`; every claim is
//! a compare-exchange of the whole word, so a thread that read an older step's job can never
//! claim (or run) a newer step's workgroups. The caller writes the shares before `state`.
//! `done` counts finished workgroups; the caller returns from [`Session::run_step`] once it
//! equals the count, and only then writes the next job. One run uses the pool at a time
//! (`busy`); a concurrent run of the same model runs its steps on its own thread instead.

use kiln_abi::KernelFn;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long an idle worker spins before parking, unless `KILN_SPIN_US` says otherwise.
const DEFAULT_SPIN: Duration = Duration::from_millis(2);

/// The step being run: kernel, argument array and workgroup count. Atomics so a worker reading
/// a job that is being replaced reads stale values, never a torn one; it cannot use them (its
/// claim names the old epoch and fails).
struct Job {
    kernel: AtomicUsize,
    args: AtomicPtr<*mut u8>,
    count: AtomicUsize,
}

/// Most threads a pool runs: a step's workgroups (at most 8 per thread) fit a share's 16 bits.
pub(crate) const MAX_THREADS: usize = 4096;

/// Thread `t`'s share of the current step: `(epoch << 32) | (lo << 16) | hi`, the unclaimed
/// workgroups `[lo, hi)`. One per cache line pair, so claims on different shares do not contend.
#[repr(align(128))]
struct Share(AtomicU64);

/// Which end of a share a claim takes: its owner's front or a thief's back.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

impl Share {
    /// Claim one workgroup of step `epoch` from `end`; `None` when the share is empty or not
    /// `epoch`'s.
    fn claim(&self, epoch: u64, end: End) -> Option<i64> {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let (lo, hi) = ((cur >> 16) & 0xffff, cur & 0xffff);
            if cur >> 32 != epoch || lo >= hi {
                return None;
            }
            let (next, wg) = match end {
                End::Front => (cur + (1 << 16), lo),
                End::Back => (cur - 1, hi - 1),
            };
            match self.0.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(wg as i64),
                Err(now) => cur = now,
            }
        }
    }
}

struct Shared {
    job: Job,
    /// `epoch << 32`: the current step's number.
    state: AtomicU64,
    /// One per thread (the caller's first).
    shares: Box<[Share]>,
    done: AtomicUsize,
    /// Workers parked (or about to park) on `wake`.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    shutdown: AtomicBool,
    spin: Duration,
}

/// Worker threads for one model.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Held by the run that owns the pool.
    busy: Mutex<()>,
}

/// A run's hold on the pool: steps go through [`Pool::run_step`].
pub(crate) struct Session<'a> {
    pool: &'a Pool,
    _busy: MutexGuard<'a, ()>,
}

impl Pool {
    /// Start `threads - 1` workers with `stack_bytes` of stack each (at most [`MAX_THREADS`]
    /// threads).
    pub(crate) fn new(threads: usize, stack_bytes: usize) -> std::io::Result<Pool> {
        if threads > MAX_THREADS {
            let msg = format!("at most {MAX_THREADS} threads are supported");
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg));
        }
        let spin = std::env::var("KILN_SPIN_US")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_SPIN, Duration::from_micros);
        let shared = Arc::new(Shared {
            job: Job {
                kernel: AtomicUsize::new(0),
                args: AtomicPtr::new(std::ptr::null_mut()),
                count: AtomicUsize::new(0),
            },
            state: AtomicU64::new(0),
            shares: (0..threads.max(1)).map(|_| Share(AtomicU64::new(0))).collect(),
            done: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
            spin,
        });
        let mut pool = Pool { shared, workers: Vec::new(), busy: Mutex::new(()) };
        for i in 1..threads {
            let shared = pool.shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("kiln-worker-{i}"))
                .stack_size(stack_bytes)
                .spawn(move || worker(&shared, i))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Take the pool for one run (waking parked workers), or `None` while another run has it.
    pub(crate) fn session(&self) -> Option<Session<'_>> {
        let busy = self.busy.try_lock().ok()?;
        if self.shared.sleepers.load(Ordering::SeqCst) > 0 {
            self.shared.notify();
        }
        Some(Session { pool: self, _busy: busy })
    }
}

impl Session<'_> {
    /// Run workgroups `0..count` of `kernel` on `args`, the caller taking its share; returns
    /// when all have finished.
    ///
    /// # Safety
    /// `kernel` must be safe to call with `args` and any workgroup id below `count`, from any
    /// thread, concurrently for distinct ids; `args` must stay valid until this returns.
    pub(crate) unsafe fn run_step(&self, kernel: KernelFn, args: *const *mut u8, count: usize) {
        let s = &*self.pool.shared;
        s.job.kernel.store(kernel as usize, Ordering::Relaxed);
        s.job.args.store(args.cast_mut(), Ordering::Relaxed);
        s.job.count.store(count, Ordering::Relaxed);
        s.done.store(0, Ordering::Relaxed);
        let epoch = (s.state.load(Ordering::Relaxed) >> 32).wrapping_add(1) & 0xffff_ffff;
        let t = s.shares.len();
        assert!(count <= 0xffff, "{count} workgroups do not fit a share");
        for (i, share) in s.shares.iter().enumerate() {
            let (lo, hi) = (i * count / t, (i + 1) * count / t);
            share.0.store((epoch << 32) | ((lo as u64) << 16) | hi as u64, Ordering::Relaxed);
        }
        s.state.store(epoch << 32, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            s.notify();
        }
        // SAFETY: forwarded contract; the job fields were written above for this epoch.
        unsafe { s.work(epoch, kernel, args, count, 0) };
        while s.done.load(Ordering::Acquire) < count {
            std::hint::spin_loop();
        }
    }
}

impl Shared {
    fn notify(&self) {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }

    /// Claim and run workgroups of step `epoch` until none is left: thread `me`'s own share
    /// from the front, then the others' from the back.
    ///
    /// # Safety
    /// `kernel`, `args` and `count` must be step `epoch`'s job (see [`Session::run_step`]).
    unsafe fn work(&self, epoch: u64, kernel: KernelFn, args: *const *mut u8, count: usize, me: usize) {
        let t = self.shares.len();
        for k in 0..t {
            let (share, end) = if k == 0 { (me, End::Front) } else { ((me + k) % t, End::Back) };
            while let Some(wg) = self.shares[share].claim(epoch, end) {
                // SAFETY: the claim succeeded for this epoch, so the job is live and `wg` is
                // one of its workgroups, run by this thread only.
                unsafe { kernel(args, wg, count as i64) };
                self.done.fetch_add(1, Ordering::Release);
            }
        }
    }
}

fn worker(s: &Shared, me: usize) {
    let mut seen = 0u64;
    let mut idle_since = Instant::now();
    let mut polls = 0u32;
    while !s.shutdown.load(Ordering::Acquire) {
        let cur = s.state.load(Ordering::Acquire);
        let epoch = cur >> 32;
        if epoch != seen {
            seen = epoch;
            let kernel = s.job.kernel.load(Ordering::Relaxed);
            let args = s.job.args.load(Ordering::Relaxed);
            let count = s.job.count.load(Ordering::Relaxed);
            if kernel != 0 {
                // SAFETY: `kernel` was stored from a `KernelFn` (never 0 otherwise); `work`
                // runs it only if its claim for `epoch` succeeds, and then the job read above is
                // `epoch`'s (the caller writes the next job only after every claim of this
                // one has finished).
                unsafe {
                    let kernel: KernelFn = std::mem::transmute::<usize, KernelFn>(kernel);
                    s.work(epoch, kernel, args, count, me);
                }
            }
            idle_since = Instant::now();
            polls = 0;
            continue;
        }
        polls = polls.wrapping_add(1);
        if !polls.is_multiple_of(256) || idle_since.elapsed() < s.spin {
            std::hint::spin_loop();
            continue;
        }
        // Park until the next step or run: registered as a sleeper before re-checking `state`,
        // so a publisher either sees the sleeper and notifies (under the lock) or we see its step.
        let g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
        s.sleepers.fetch_add(1, Ordering::SeqCst);
        if s.state.load(Ordering::SeqCst) >> 32 == seen && !s.shutdown.load(Ordering::SeqCst) {
            drop(s.wake.wait(g).unwrap_or_else(|e| e.into_inner()));
        } else {
            drop(g);
        }
        s.sleepers.fetch_sub(1, Ordering::SeqCst);
        idle_since = Instant::now();
        polls = 0;
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.notify();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// Adds 1 to counter `wg` of the `[AtomicU32]` that `buffers[0]` points to.
    unsafe extern "C" fn count(buffers: *const *mut u8, wg: i64, _n: i64) {
        // SAFETY: the tests pass one pointer to an array of at least `n` counters.
        unsafe {
            let counters = (*buffers).cast::<AtomicU32>();
            (*counters.add(wg as usize)).fetch_add(1, Ordering::Relaxed);
        }
    }

    fn run_steps(pool: &Pool, counts: &[usize]) -> Vec<Vec<u32>> {
        let session = pool.session().expect("pool free");
        counts
            .iter()
            .map(|&n| {
                let counters: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
                let args = [counters.as_ptr().cast_mut().cast::<u8>()];
                // SAFETY: `count` touches counter `wg < n` only; `args` outlives the step.
                unsafe { session.run_step(count, args.as_ptr(), n) };
                counters.iter().map(|c| c.load(Ordering::Relaxed)).collect()
            })
            .collect()
    }

    #[test]
    fn every_workgroup_runs_once_per_step() {
        for threads in [2, 3, 5] {
            let pool = Pool::new(threads, 1 << 20).unwrap();
            let counts: Vec<usize> = (0..2000).map(|i| 2 + i % 37).collect();
            for (n, got) in counts.iter().zip(run_steps(&pool, &counts)) {
                assert_eq!(got, vec![1; *n], "{threads} threads, {n} workgroups");
            }
        }
    }

    /// The owner takes its share from the front, thieves from the back, until they meet; a
    /// claim naming another step's epoch takes nothing.
    #[test]
    fn shares_are_claimed_from_both_ends_of_one_epoch() {
        let share = Share(AtomicU64::new((7 << 32) | (3 << 16) | 7));
        assert_eq!(share.claim(6, End::Front), None);
        assert_eq!(share.claim(7, End::Front), Some(3));
        assert_eq!(share.claim(7, End::Back), Some(6));
        assert_eq!(share.claim(7, End::Back), Some(5));
        assert_eq!(share.claim(7, End::Front), Some(4));
        assert_eq!(share.claim(7, End::Front), None);
        assert_eq!(share.claim(7, End::Back), None);
    }

    #[test]
    fn parked_workers_wake_for_the_next_run() {
        let pool = Pool::new(2, 1 << 20).unwrap();
        run_steps(&pool, &[8]);
        std::thread::sleep(DEFAULT_SPIN * 5);
        assert_eq!(run_steps(&pool, &[8, 3]), vec![vec![1; 8], vec![1; 3]]);
    }

    #[test]
    fn one_session_at_a_time() {
        let pool = Pool::new(2, 1 << 20).unwrap();
        let first = pool.session().unwrap();
        assert!(pool.session().is_none());
        drop(first);
        assert!(pool.session().is_some());
    }
}
