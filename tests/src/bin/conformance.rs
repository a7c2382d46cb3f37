//! The ONNX node-suite conformance runner (see `kiln_tests::conformance`).
//!
//! ```text
//! conformance --all [--jobs N] [--filter SUBSTR] [--doc PATH] [--expected PATH] [--opt N] [--timeout S] [--root DIR]
//! conformance --one CASE [--opt N] [--root DIR]      (one case in this process; prints one JSON line)
//! ```
//! `--all` runs every case (or those containing SUBSTR) in child processes, prints a summary, and
//! writes the doc and the expected-pass list when asked. The root defaults to
//! `$KILN_ONNX_NODE_DATA`, else the project venv's onnx package.

use kiln_tests::conformance::{self, case, driver, outcome::Status, report};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Args {
    one: Option<String>,
    all: bool,
    jobs: usize,
    filter: Option<String>,
    doc: Option<PathBuf>,
    expected: Option<PathBuf>,
    opt: u8,
    timeout: u64,
    root: PathBuf,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        one: None,
        all: false,
        jobs: 2,
        filter: None,
        doc: None,
        expected: None,
        opt: 3,
        timeout: 60,
        root: conformance::node_data_root(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--all" => a.all = true,
            "--one" => a.one = Some(val()?),
            "--jobs" => a.jobs = val()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--filter" => a.filter = Some(val()?),
            "--doc" => a.doc = Some(val()?.into()),
            "--expected" => a.expected = Some(val()?.into()),
            "--opt" => a.opt = val()?.parse().map_err(|e| format!("--opt: {e}"))?,
            "--timeout" => a.timeout = val()?.parse().map_err(|e| format!("--timeout: {e}"))?,
            "--root" => a.root = val()?.into(),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if a.all == a.one.is_some() {
        return Err("give exactly one of --all and --one CASE".into());
    }
    if a.opt > 3 {
        return Err("--opt is 0..=3".into());
    }
    Ok(a)
}

const USAGE: &str = "usage: conformance --all [--jobs N] [--filter SUBSTR] [--doc PATH] [--expected PATH] [--opt N] [--timeout S] [--root DIR]\n       conformance --one CASE [--opt N] [--root DIR]";

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("conformance: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(c) = &args.one {
        // Quiet panics: the outcome carries the message.
        std::panic::set_hook(Box::new(|_| {}));
        let opts = case::CaseOptions { opt_level: args.opt };
        let out = case::run(&args.root, c, &opts, &|s| eprintln!("@stage {}", s.name()));
        println!("{}", out.to_json_line());
        return ExitCode::SUCCESS;
    }
    match run_all(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_all(args: &Args) -> Result<(), String> {
    let mut cases = conformance::all_cases(&args.root)
        .map_err(|e| format!("{}: {e} (set KILN_ONNX_NODE_DATA to the onnx node data folder)", args.root.display()))?;
    if let Some(f) = &args.filter {
        cases.retain(|c| c.contains(f.as_str()));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let opts = driver::DriverOptions {
        exe,
        root: args.root.clone(),
        jobs: args.jobs.max(1),
        timeout: Duration::from_secs(args.timeout),
        opt_level: args.opt,
    };
    eprintln!("conformance: {} cases, {} jobs, -O{}", cases.len(), opts.jobs, args.opt);
    let start = Instant::now();
    let outcomes = driver::run_all(&cases, &opts, &|n, total, o| {
        if o.status != Status::Pass || n % 100 == 0 {
            eprintln!(
                "[{n}/{total}] {} {:.1}s {}",
                o.case,
                o.seconds,
                o.summary().chars().take(200).collect::<String>()
            );
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    for st in Status::ALL {
        let n = outcomes.iter().filter(|o| o.status == st).count();
        println!("{:>14}: {n}", st.name());
    }
    println!("{:>14}: {:.1} min", "time", seconds / 60.0);
    let info = report::RunInfo {
        seconds,
        jobs: opts.jobs,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        opt_level: args.opt,
        timeout_s: args.timeout,
        filter: args.filter.clone(),
    };
    if let Some(p) = &args.doc {
        std::fs::write(p, report::doc(&outcomes, &info)).map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("conformance: wrote {}", p.display());
    }
    if let Some(p) = &args.expected {
        std::fs::write(p, report::expected_list(&outcomes)).map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("conformance: wrote {}", p.display());
    }
    Ok(())
}
