//! Running the fixture artifact: numbers for several thread counts, concurrent runs on one model,
//! `run_into` with aligned and misaligned caller buffers, and run-time argument errors.

mod support;

use kiln_runtime::{DType, HostTensor, Model};
use std::sync::Arc;
use support::{COLS, N, ROWS};

fn check_outputs(outs: &[HostTensor]) {
    let (z, w) = support::expected();
    assert_eq!(outs.len(), 2);
    assert_eq!(outs[0].dtype, DType::F32);
    assert_eq!(outs[0].shape, vec![ROWS, COLS]);
    assert_eq!(outs[0].to_f32().expect("z is f32"), z);
    assert_eq!(outs[1].shape, vec![COLS]);
    assert_eq!(outs[1].to_i32().expect("w is i32"), w);
}

#[test]
fn runs_with_1_2_5_threads() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    for threads in [1, 2, 5] {
        let model = Model::load_with_threads(&so, threads).expect("load");
        assert_eq!(model.threads(), threads);
        // workgroups = max_workgroups when at most threads * 8, else threads * 4; 1 with one
        // thread.
        let expect = |max: usize| {
            if threads == 1 {
                1
            } else if max <= threads * 8 {
                max as u64
            } else {
                (threads * 4) as u64
            }
        };
        assert_eq!(model.workgroups(0), Some(expect(N)));
        assert_eq!(model.workgroups(1), Some(expect(ROWS)));
        assert_eq!(model.workgroups(3), None);
        check_outputs(&model.run(&support::inputs()).expect("run"));
        // A second run on the same model gives the same result.
        check_outputs(&model.run(&support::inputs()).expect("run again"));
    }
}

#[test]
fn default_threads_and_signature() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let model = Model::load(&so).expect("load");
    assert_eq!(model.threads(), kiln_runtime::default_threads());
    assert_eq!(model.inputs().len(), 2);
    assert_eq!(model.inputs()[0].name, "x");
    assert_eq!(model.inputs()[0].type_string(), format!("f32[{ROWS},{COLS}]"));
    assert_eq!(model.inputs()[1].dtype, DType::I32);
    assert_eq!(model.outputs()[1].name, "w");
    assert_eq!(model.metadata().model_name, "add_mul");
    check_outputs(&model.run(&support::inputs()).expect("run"));
}

#[test]
fn concurrent_runs_on_one_model() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let model = Arc::new(Model::load_with_threads(&so, 3).expect("load"));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let model = Arc::clone(&model);
            std::thread::spawn(move || {
                // Each thread uses its own inputs so a mixed-up arena would show.
                let scale = t as f32 + 1.0;
                let x: Vec<f32> = support::input_x().iter().map(|v| v * scale).collect();
                let k = support::input_k();
                let c = support::const_values();
                let inputs = vec![HostTensor::from_f32(vec![ROWS, COLS], &x), HostTensor::from_i32(vec![COLS], &k)];
                for _ in 0..50 {
                    let outs = model.run(&inputs).expect("run");
                    let z = outs[0].to_f32().expect("f32");
                    for i in 0..N {
                        assert_eq!(z[i], (x[i] + c[i]) * 2.0 + k[i % COLS] as f32, "thread {t} element {i}");
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("runner thread");
    }
}

/// A byte buffer whose slice `[off..off + len]` starts at a chosen alignment.
fn buffer_at(off_from_64: usize, bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut v = vec![0u8; bytes.len() + 128];
    let base = v.as_ptr() as usize;
    let start = (64 - base % 64) % 64 + off_from_64;
    v[start..start + bytes.len()].copy_from_slice(bytes);
    (v, start)
}

#[test]
fn run_into_with_aligned_and_misaligned_buffers() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let model = Model::load_with_threads(&so, 2).expect("load");
    let ins = support::inputs();
    let (z, w) = support::expected();
    for misalign in [0usize, 1, 4, 60] {
        let (xb, xs) = buffer_at(misalign, &ins[0].data);
        let (kb, ks) = buffer_at(misalign, &ins[1].data);
        let (mut zb, zs) = buffer_at(misalign, &[0u8; N * 4]);
        let (mut wb, ws) = buffer_at(misalign, &[0u8; COLS * 4]);
        let inputs: [&[u8]; 2] = [&xb[xs..xs + N * 4], &kb[ks..ks + COLS * 4]];
        {
            let mut outputs: [&mut [u8]; 2] = [&mut zb[zs..zs + N * 4], &mut wb[ws..ws + COLS * 4]];
            model.run_into(&inputs, &mut outputs).expect("run_into");
        }
        let zt = HostTensor::new(DType::F32, vec![ROWS, COLS], zb[zs..zs + N * 4].to_vec());
        let wt = HostTensor::new(DType::I32, vec![COLS], wb[ws..ws + COLS * 4].to_vec());
        assert_eq!(zt.to_f32().expect("f32"), z, "misalign {misalign}");
        assert_eq!(wt.to_i32().expect("i32"), w, "misalign {misalign}");
    }
}

#[test]
fn wrong_inputs_are_clear_errors() {
    let dir = support::tempdir();
    let so = support::build(dir.path(), "m.so", &support::metadata(), &[]);
    let model = Model::load_with_threads(&so, 2).expect("load");
    let ins = support::inputs();

    let e = model.run(&ins[..1]).expect_err("count").to_string();
    assert_eq!(e, "expected 2 inputs, got 1");

    let bad_shape = HostTensor::from_f32(vec![ROWS, COLS - 1], &vec![0.0; ROWS * (COLS - 1)]);
    let bad_dtype = HostTensor::from_i64(vec![COLS], &vec![0; COLS]);
    let e = model.run(&[bad_shape, bad_dtype]).expect_err("shape").to_string();
    assert_eq!(
        e,
        format!("input 'x': expected f32[{ROWS},{COLS}], got f32[{ROWS},{}]; input 'k': expected i32[{COLS}], got i64[{COLS}]", COLS - 1)
    );

    let short = HostTensor::new(DType::F32, vec![ROWS, COLS], vec![0; 12]);
    let e = model.run(&[short, ins[1].clone()]).expect_err("bytes").to_string();
    assert_eq!(e, format!("input 'x': f32[{ROWS},{COLS}] needs {} bytes, got 12", N * 4));

    let x = ins[0].data.clone();
    let mut z = vec![0u8; N * 4];
    let mut w = vec![0u8; 3];
    let e = model.run_into(&[&x, &ins[1].data], &mut [&mut z, &mut w]).expect_err("out bytes").to_string();
    assert_eq!(e, format!("output 'w': i32[{COLS}] needs {} bytes, got 3", COLS * 4));
    let e = model.run_into(&[&x, &ins[1].data], &mut [&mut z]).expect_err("out count").to_string();
    assert_eq!(e, "expected 2 outputs, got 1");
}

#[test]
fn recompiled_file_at_same_path_is_not_served_stale() {
    // glibc's dlopen returns the loaded image for a path that is still open, even after the file
    // was replaced; the runtime must load the new file.
    let dir = support::tempdir();
    let mut meta = support::metadata();
    let so = support::build(dir.path(), "m.so", &meta, &[]);
    let first = Model::load_with_threads(&so, 1).expect("load first");
    let again = Model::load_with_threads(&so, 1).expect("load same file again");
    assert_eq!(again.metadata().model_name, "add_mul");
    meta.model_name = "second".into();
    std::fs::remove_file(&so).expect("remove");
    let so = support::build(dir.path(), "m.so", &meta, &[]);
    let second = Model::load_with_threads(&so, 2).expect("load second");
    assert_eq!(second.metadata().model_name, "second");
    assert_eq!(first.metadata().model_name, "add_mul");
    check_outputs(&second.run(&support::inputs()).expect("run second"));
    check_outputs(&first.run(&support::inputs()).expect("run first"));
    drop((first, again));
    let third = Model::load_with_threads(&so, 1).expect("load third");
    assert_eq!(third.metadata().model_name, "second");
}
