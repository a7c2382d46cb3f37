//! Runs cases in child processes of the conformance binary (`conformance --one CASE`), `jobs` at
//! a time, each with a time limit: a crash inside a compiled kernel (or in LLVM) then takes down
//! one child, not the run. A child prints its [`Outcome`] as its last stdout line and announces
//! each stage on stderr (`@stage compile`), so a crash is reported with the stage it happened in.

use super::case::{model_ops, Stage};
use super::outcome::{Outcome, Status};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// The conformance binary.
    pub exe: PathBuf,
    /// The node data root.
    pub root: PathBuf,
    /// Children running at once.
    pub jobs: usize,
    /// Per-case limit.
    pub timeout: Duration,
    pub opt_level: u8,
}

/// Run `cases`, calling `progress(done, total, outcome)` as each finishes; outcomes come back in
/// the order of `cases`.
pub fn run_all(
    cases: &[String],
    opts: &DriverOptions,
    progress: &(dyn Fn(usize, usize, &Outcome) + Sync),
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let out = run_child(case, opts);
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                progress(n, cases.len(), &out);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(out);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results
        .into_iter()
        .zip(cases)
        .map(|(o, c)| o.unwrap_or_else(|| Outcome::new(c, Status::Panic, "the driver lost this case's result")))
        .collect()
}

/// One case in a child process.
pub fn run_child(case: &str, opts: &DriverOptions) -> Outcome {
    let start = Instant::now();
    let mut out = run_child_inner(case, opts, start);
    out.seconds = start.elapsed().as_secs_f64();
    if out.ops.is_empty() {
        out.ops = model_ops(&opts.root, case);
    }
    out
}

fn run_child_inner(case: &str, opts: &DriverOptions, start: Instant) -> Outcome {
    let spawned = Command::new(&opts.exe)
        .arg("--one")
        .arg(case)
        .arg("--root")
        .arg(&opts.root)
        .arg("--opt")
        .arg(opts.opt_level.to_string())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return Outcome::new(case, Status::Panic, format!("cannot start {}: {e}", opts.exe.display())),
    };
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                buf = String::from_utf8_lossy(&bytes).into_owned();
            }
            buf
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() > opts.timeout => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let stage = stderr.lines().rev().filter_map(|l| l.strip_prefix("@stage ")).find_map(Stage::from_name);
    let last_err = stderr
        .lines()
        .rev()
        .find(|l| !l.starts_with("@stage ") && !l.trim().is_empty())
        .map(|l| l.chars().take(300).collect::<String>());
    if timed_out {
        let during = stage.map_or(String::new(), |s| format!(" (during {})", s.name()));
        return Outcome::new(case, Status::Timeout, format!("more than {} s{during}", opts.timeout.as_secs()));
    }
    if let Some(out) = stdout.lines().rev().find_map(Outcome::from_json_line) {
        return out;
    }
    let how = match status {
        Some(st) => describe_exit(st),
        None => "the child's exit status is unknown".to_string(),
    };
    let status = stage.map_or(Status::Panic, Stage::crash_status);
    let during = stage.map_or(String::new(), |s| format!(" during {}", s.name()));
    let tail = last_err.map_or(String::new(), |l| format!("; stderr: {l}"));
    Outcome::new(case, status, format!("crashed ({how}){during}{tail}"))
}

fn describe_exit(st: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (_, Some(sig)) => {
            let name = match sig {
                4 => " SIGILL",
                6 => " SIGABRT",
                7 => " SIGBUS",
                8 => " SIGFPE",
                9 => " SIGKILL",
                11 => " SIGSEGV",
                _ => "",
            };
            format!("signal {sig}{name}")
        }
        (Some(code), None) => format!("exit code {code} without a result"),
        (None, None) => "unknown exit".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for the conformance binary: a shell script with `body`.
    fn fake_exe(dir: &std::path::Path, body: &str) -> PathBuf {
        let p = dir.join("fake.sh");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn opts(exe: PathBuf, timeout_ms: u64) -> DriverOptions {
        DriverOptions {
            exe,
            root: "/nonexistent".into(),
            jobs: 2,
            timeout: Duration::from_millis(timeout_ms),
            opt_level: 3,
        }
    }

    #[test]
    fn a_crash_is_classified_by_its_stage() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = fake_exe(tmp.path(), "echo '@stage compile' >&2; echo 'LLVM ERROR: boom' >&2; kill -SEGV $$");
        let out = run_child("test_x", &opts(exe, 10_000));
        assert_eq!(out.status, Status::CompileError);
        assert_eq!(out.reason, "crashed (signal 11 SIGSEGV) during compile; stderr: LLVM ERROR: boom");
    }

    #[test]
    fn a_slow_case_times_out() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = fake_exe(tmp.path(), "echo '@stage run' >&2; exec sleep 5");
        let out = run_child("test_x", &opts(exe, 200));
        assert_eq!(out.status, Status::Timeout);
        assert_eq!(out.reason, "more than 0 s (during run)");
        assert!(out.seconds < 4.0);
    }

    #[test]
    fn results_come_back_in_case_order() {
        let tmp = tempfile::tempdir().unwrap();
        let line =
            r#"{"case":"%s","status":"pass","reason":"","specialized":[],"folded":false,"ops":["Abs"],"seconds":0}"#;
        let exe = fake_exe(tmp.path(), &format!("printf '{}\\n' \"$2\"", line));
        let cases: Vec<String> = (0..5).map(|i| format!("test_{i}")).collect();
        let outs = run_all(&cases, &opts(exe, 10_000), &|_, _, _| {});
        let names: Vec<&str> = outs.iter().map(|o| o.case.as_str()).collect();
        assert_eq!(names, ["test_0", "test_1", "test_2", "test_3", "test_4"]);
        assert!(outs.iter().all(|o| o.status == Status::Pass && o.ops == ["Abs"]));
    }
}
