//! Compiled vs interpreter: structural ops (Reshape, Transpose, Concat, Split, Slice, Gather)
//! over dtypes; all exact.

mod support;

use kiln_abi::BufferKind;
use kiln_ir::{DType, Op, Tensor, UnaryOp};
use support::*;

#[test]
fn reshape_alias_and_output_copy() {
    for dt in [DType::F32, DType::I64, DType::Bool] {
        let g = build(&format!("reshape_{dt}"), &[ty(dt, &[2, 3, 4])], |g, x| {
            let r = node(g, Op::Reshape { shape: vec![6, 4] }, &[x[0]])[0];
            let t = node(g, Op::Transpose { perm: vec![1, 0] }, &[r])[0];
            let r2 = node(g, Op::Reshape { shape: vec![24] }, &[t])[0];
            vec![t, r2, r]
        });
        let mut rng = Rng::new(90);
        check_graph(&g, &[random(&mut rng, dt, &[2, 3, 4])], 0.0);
    }
}

#[test]
fn transpose_perms() {
    for dt in [DType::F32, DType::I32, DType::Bool] {
        for (shape, perm) in [
            (vec![3, 4], vec![1, 0]),
            (vec![2, 3, 4], vec![2, 0, 1]),
            (vec![2, 3, 4, 5], vec![0, 2, 1, 3]),
            (vec![1, 5, 1], vec![2, 1, 0]),
        ] {
            let g = build(&format!("transpose_{dt}_{perm:?}"), &[ty(dt, &shape)], |g, x| {
                node(g, Op::Transpose { perm: perm.clone() }, &[x[0]])
            });
            let mut rng = Rng::new(91);
            check_graph(&g, &[random(&mut rng, dt, &shape)], 0.0);
        }
    }
}

#[test]
fn concat_axes() {
    for dt in [DType::F32, DType::I64, DType::Bool] {
        for axis in 0..3 {
            let shapes: Vec<Vec<usize>> = [1, 2, 3]
                .iter()
                .map(|n| {
                    let mut s = vec![2, 3, 4];
                    s[axis] = *n;
                    s
                })
                .collect();
            let tys: Vec<_> = shapes.iter().map(|s| ty(dt, s)).collect();
            let g = build(&format!("concat_{dt}_{axis}"), &tys, |g, x| node(g, Op::Concat { axis }, x));
            let mut rng = Rng::new(92);
            let ins: Vec<_> = shapes.iter().map(|s| random(&mut rng, dt, s)).collect();
            check_graph(&g, &ins, 0.0);
        }
    }
    // Nothing but the axis to split work on: a single workgroup.
    let g = build("concat_rows", &[ty(DType::F32, &[1, 3]), ty(DType::F32, &[1, 5])], |g, x| {
        node(g, Op::Concat { axis: 1 }, x)
    });
    let mut rng = Rng::new(93);
    let ins = vec![random(&mut rng, DType::F32, &[1, 3]), random(&mut rng, DType::F32, &[1, 5])];
    check_graph(&g, &ins, 0.0);
}

#[test]
fn split_axes() {
    for dt in [DType::F32, DType::I32] {
        for (axis, sizes) in [(0, vec![1, 2]), (1, vec![1, 2, 3]), (2, vec![4])] {
            let mut shape = vec![3, 6, 4];
            shape[axis] = sizes.iter().sum();
            let g = build(&format!("split_{dt}_{axis}"), &[ty(dt, &shape)], |g, x| {
                node(g, Op::Split { axis, sizes: sizes.clone() }, &[x[0]])
            });
            let mut rng = Rng::new(94);
            check_graph(&g, &[random(&mut rng, dt, &shape)], 0.0);
        }
    }
}

#[test]
fn slice_positive_and_negative_steps() {
    type Case = (Vec<usize>, Vec<i64>, Vec<i64>, Vec<i64>);
    let cases: [Case; 5] = [
        (vec![1], vec![1], vec![4], vec![1]),
        (vec![0, 2], vec![1, 0], vec![3, 5], vec![1, 2]),
        (vec![1], vec![5], vec![-1], vec![-1]),
        (vec![2, 0], vec![4, 2], vec![0, -1], vec![-2, -1]),
        (vec![1], vec![2], vec![2], vec![1]),
    ];
    for dt in [DType::F32, DType::I64] {
        for (i, (axes, starts, ends, steps)) in cases.iter().enumerate() {
            let shape = [3, 6, 5];
            let op = Op::Slice { axes: axes.clone(), starts: starts.clone(), ends: ends.clone(), steps: steps.clone() };
            let g = build(&format!("slice_{dt}_{i}"), &[ty(dt, &shape)], |g, x| node(g, op.clone(), &[x[0]]));
            let mut rng = Rng::new(95);
            check_graph(&g, &[random(&mut rng, dt, &shape)], 0.0);
        }
    }
}

#[test]
fn gather_axes_index_dtypes_and_negatives() {
    for dt in [DType::F32, DType::I64, DType::Bool] {
        for (axis, ishape, itype) in
            [(0, vec![4], DType::I64), (1, vec![2, 3], DType::I32), (2, vec![], DType::I64), (1, vec![5], DType::I32)]
        {
            let shape = [3, 4, 5];
            let g = build(&format!("gather_{dt}_{axis}_{itype}"), &[ty(dt, &shape), ty(itype, &ishape)], |g, x| {
                node(g, Op::Gather { axis }, x)
            });
            let mut rng = Rng::new(96);
            let d = shape[axis] as f64;
            let idx = random_in(&mut rng, itype, &ishape, -d, d - 1.0);
            check_graph(&g, &[random(&mut rng, dt, &shape), idx], 0.0);
        }
    }
}

#[test]
fn gather_out_of_range_index_is_clamped_not_read_out_of_bounds() {
    let g =
        build("gather_oob", &[ty(DType::F32, &[4]), ty(DType::I64, &[3])], |g, x| node(g, Op::Gather { axis: 0 }, x));
    let l = Loaded::compile(&g);
    let data = Tensor::from_f32(&[4], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let idx = Tensor::from_i64(&[3], vec![100, -100, -1]).unwrap();
    let got = l.run(&[data, idx], &|m| m);
    assert_eq!(got[0].to_f64_vec(), vec![4.0, 1.0, 4.0]);
}

#[test]
fn chain_of_unary_ops_reuses_the_arena() {
    let g = build("chain", &[ty(DType::F32, &[64])], |g, x| {
        let mut v = x[0];
        for _ in 0..6 {
            v = node(g, Op::Unary(UnaryOp::Tanh), &[v])[0];
        }
        vec![v]
    });
    let mut rng = Rng::new(97);
    let l = check_graph(&g, &[random(&mut rng, DType::F32, &[64])], 1e-5);
    // 5 intermediates of 256 bytes; each Tanh writes over its input, which dies there, so one
    // slot serves all of them (checked against the interpreter above).
    assert_eq!(l.meta.arena_bytes, 256);
    let offsets: Vec<_> = l.meta.buffers.iter().filter(|b| matches!(b.kind, BufferKind::Intermediate { .. })).collect();
    assert_eq!(offsets.len(), 5);
}
