//! `kiln`: compile ONNX models to native libraries, run, inspect and benchmark them.
//! Every error is one line on stderr and a non-zero exit; see docs/cli.md.

use anyhow::Result;
use clap::{Parser, Subcommand};
use kiln_cli::compile::{CompileOptions, PassSelection, Stage};
use kiln_cli::{bench, compile, inspect, parse_input_arg, parse_shape_arg, run};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "kiln", version, about = "kiln: an ahead-of-time compiler for ONNX models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile an ONNX model into a native shared library (or stop at an intermediate stage).
    Compile {
        model: PathBuf,
        /// Output path; `-` writes a text stage to stdout.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Fix the symbolic dims of an input: NAME=D0xD1x... (repeatable).
        #[arg(long = "shape", value_name = "NAME=D0xD1x...", value_parser = parse_shape_arg)]
        shapes: Vec<(String, Vec<usize>)>,
        /// LLVM CPU name to build for (`host` = this machine).
        #[arg(long, default_value = "host")]
        target_cpu: String,
        /// Optimization level: -O0, -O1, -O2, -O3.
        #[arg(short = 'O', default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=3))]
        opt_level: u8,
        /// Stop after this stage and write its output.
        #[arg(long, value_enum, default_value = "so")]
        emit: Stage,
        /// Run exactly these graph passes, once each, in this order (instead of the -O pipeline).
        #[arg(long, value_delimiter = ',', value_name = "PASS,PASS,...")]
        passes: Option<Vec<String>>,
        /// Leave a pass out of the pipeline (repeatable).
        #[arg(long = "disable-pass", value_name = "PASS")]
        disable_pass: Vec<String>,
        /// Print the IR to stderr after this pass, or after every pass with `all` (repeatable).
        #[arg(long = "print-after", value_name = "PASS|all")]
        print_after: Vec<String>,
        /// Merge consecutive linear maps even where the merged form costs more FLOPs.
        #[arg(long)]
        force_linear_merge: bool,
        /// Print what each graph pass changed (ops removed/added, FLOPs, weight bytes, notes) to stderr.
        #[arg(long)]
        report: bool,
    },
    /// Run a compiled model on .npy inputs; writes DIR/<output name>.npy per output.
    Run {
        artifact: PathBuf,
        #[arg(long = "input", value_name = "NAME=FILE.npy", value_parser = parse_input_arg)]
        inputs: Vec<(String, PathBuf)>,
        #[arg(long)]
        output_dir: PathBuf,
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Show the signature and op histograms of an ONNX model or a compiled artifact.
    Inspect {
        path: PathBuf,
        #[arg(long)]
        json: bool,
        /// Fix symbolic dims when inspecting an ONNX model: NAME=D0xD1x...
        #[arg(long = "shape", value_name = "NAME=D0xD1x...", value_parser = parse_shape_arg)]
        shapes: Vec<(String, Vec<usize>)>,
    },
    /// Measure latency (median, p90) over repeated runs; random inputs unless given.
    Bench {
        artifact: PathBuf,
        #[arg(long = "input", value_name = "NAME=FILE.npy", value_parser = parse_input_arg)]
        inputs: Vec<(String, PathBuf)>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 50)]
        runs: usize,
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        #[arg(long)]
        json: bool,
        /// Also time every schedule step (kernel) and print where the time goes.
        #[arg(long)]
        profile: bool,
    },
}

fn main() {
    // A panic is a kiln bug, never the user's fault: report it on one line, no backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal compiler error: {msg}{at} (please report this bug)");
    }));
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| dispatch(cli));
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": ").replace('\n', " "));
            std::process::exit(1);
        }
        Err(_) => std::process::exit(101),
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Compile {
            model,
            output,
            shapes,
            target_cpu,
            opt_level,
            emit,
            passes,
            disable_pass,
            print_after,
            force_linear_merge,
            report,
        } => {
            let passes = PassSelection { only: passes, disabled: disable_pass, print_after, force_linear_merge };
            let opts = CompileOptions { shapes: shapes.into_iter().collect(), target_cpu, opt_level, emit, passes };
            compile::run(&model, &output, &opts, report)
        }
        Command::Run { artifact, inputs, output_dir, threads } => {
            for p in run::run(&artifact, &inputs, &output_dir, threads)? {
                println!("{}", p.display());
            }
            Ok(())
        }
        Command::Inspect { path, json, shapes } => {
            let report = inspect::inspect(&path, &shapes.into_iter().collect())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", inspect::to_text(&report));
            }
            Ok(())
        }
        Command::Bench { artifact, inputs, threads, runs, warmup, json, profile } => {
            let (r, steps) = bench::run(&artifact, &inputs, threads, runs, warmup, profile)?;
            if json {
                let mut v = r.to_json();
                if let Some(steps) = &steps {
                    v["profile"] = steps
                        .iter()
                        .map(|s| serde_json::json!({"step": s.step, "kernel": s.kernel, "ops": s.ops, "bytes": s.bytes, "ms": s.ms}))
                        .collect();
                }
                println!("{v}");
            } else {
                if let Some(steps) = &steps {
                    print!("{}", bench::profile_text(steps, 25));
                }
                println!(
                    "{}: median {:.3} ms, p90 {:.3} ms, min {:.3} ms over {} runs, {} threads",
                    artifact.display(),
                    r.median_ms,
                    r.p90_ms,
                    r.min_ms,
                    r.runs,
                    r.threads
                );
            }
            Ok(())
        }
    }
}
