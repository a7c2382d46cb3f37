//! Text-in/text-out pass tests. Each `tests/cases/*.kir` file starts with a `// passes: a,b,c`
//! line followed by kiln IR text. The test parses it, runs the passes with the verifier after each,
//! snapshots the printed result (insta; `cargo insta review` to bless), checks the printed input
//! round-trips through the parser, and checks the rewritten graph computes the same outputs as the
//! original on seeded random inputs (the reference interpreter; within 1e-5 of the output's scale).

use kiln_ir::{DType, Graph, Tensor};
use kiln_passes::{run_passes, PipelineOptions};
use std::path::Path;

/// Deterministic inputs: floats in [-2, 2), ints in [0, 4), bools alternating.
fn seeded_inputs(g: &Graph, seed: u64) -> Vec<Tensor> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    g.input_values()
        .into_iter()
        .map(|v| {
            let ty = g.value_type(v);
            let n = ty.num_elements();
            match ty.dtype {
                DType::F32 => Tensor::from_f32(
                    &ty.shape,
                    (0..n).map(|_| (next() >> 40) as f32 / (1u64 << 22) as f32 - 2.0).collect(),
                ),
                DType::F64 => Tensor::from_f64(
                    &ty.shape,
                    (0..n).map(|_| (next() >> 11) as f64 / (1u64 << 51) as f64 - 2.0).collect(),
                ),
                DType::I32 => Tensor::from_i32(&ty.shape, (0..n).map(|_| (next() % 4) as i32).collect()),
                DType::I64 => Tensor::from_i64(&ty.shape, (0..n).map(|_| (next() % 4) as i64).collect()),
                DType::Bool => Tensor::from_bool(&ty.shape, (0..n).map(|k| k % 2 == 0).collect()),
                d => panic!("no test inputs for {d}"),
            }
            .expect("shape and data agree")
        })
        .collect()
}

fn assert_equivalent(before: &Graph, after: &Graph, case: &str) {
    for seed in 1..=3 {
        let inputs = seeded_inputs(before, seed);
        let a = kiln_ir::interp::evaluate(before, &inputs).unwrap();
        let b = kiln_ir::interp::evaluate(after, &inputs).unwrap();
        assert_eq!(a.len(), b.len(), "{case}: output count");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.ty(), y.ty(), "{case}: output type");
            let (x, y) = (x.to_f64_vec(), y.to_f64_vec());
            let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let err = x.iter().zip(&y).fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
            assert!(err <= 1e-5 * scale, "{case}: outputs differ by {err} (scale {scale})");
        }
    }
}

fn run_case(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let case = path.file_stem().unwrap().to_string_lossy().to_string();
    let first = text.lines().next().unwrap_or_default();
    let passes: Vec<&str> = first
        .strip_prefix("// passes:")
        .unwrap_or_else(|| panic!("{case}: first line must be `// passes: a,b`"))
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let body: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let before = kiln_ir::text::parse(&body).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(kiln_ir::text::parse(&kiln_ir::text::print(&before)).unwrap(), before, "{case}: round-trip");
    let mut after = before.clone();
    let opts = PipelineOptions { verify_each: true, ..Default::default() };
    let runs = run_passes(&mut after, &passes, &opts).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_equivalent(&before, &after, &case);
    let changed: Vec<String> =
        runs.iter().map(|r| format!("{}: {}", r.pass, if r.changed { "changed" } else { "unchanged" })).collect();
    let notes: String =
        runs.iter().flat_map(|r| r.notes.iter().map(move |n| format!("// note ({}): {n}\n", r.pass))).collect();
    // Constants past 4096 elements (Winograd's transformed filters) print elided; the
    // interpreter above has checked the rewritten graph computes the same.
    let text = kiln_ir::text::print_with(&after, &kiln_ir::text::PrintOptions { elide_constants_over: Some(4096) });
    let out = format!("// {}\n{notes}{text}", changed.join(", "));
    insta::with_settings!({ snapshot_suffix => case.clone(), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("pass", out);
    });
}

#[test]
fn pass_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kir"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    for f in files {
        run_case(&f);
    }
}
