//! Compiled vs interpreter: Softmax, LayerNorm, RmsNorm, BatchNorm and Reduce Sum/Mean over axis
//! variants, dtypes and workgroup counts.

mod support;

use kiln_ir::{DType, Op, ReduceOp};
use support::*;

#[test]
fn softmax_every_axis() {
    for dt in [DType::F32, DType::F64] {
        for (shape, axis) in
            [(vec![3, 4, 5], 0), (vec![3, 4, 5], 1), (vec![3, 4, 5], 2), (vec![1, 10], 1), (vec![6], 0)]
        {
            let g = build(&format!("softmax_{dt}_{shape:?}_{axis}"), &[ty(dt, &shape)], |g, x| {
                node(g, Op::Softmax { axis }, &[x[0]])
            });
            let mut rng = Rng::new(50);
            check_graph(&g, &[random_in(&mut rng, dt, &shape, -8.0, 8.0)], 1e-5);
        }
    }
}

#[test]
fn layer_norm_and_rms_norm_axes_scale_bias() {
    let cases: [(&[usize], usize, &[usize], bool); 5] = [
        (&[2, 3, 4], 2, &[4], true),
        (&[2, 3, 4], 1, &[3, 4], true),
        (&[2, 3, 4], 1, &[4], false),
        (&[5, 8], 1, &[8], true),
        (&[1, 1, 16], 2, &[16], true),
    ];
    for dt in [DType::F32, DType::F64] {
        for (i, (shape, axis, sshape, bias)) in cases.iter().enumerate() {
            let mut tys = vec![ty(dt, shape), ty(dt, sshape)];
            if *bias {
                tys.push(ty(dt, sshape));
            }
            let g = build(&format!("layernorm_{dt}_{i}"), &tys, |g, x| {
                let ln = node(g, Op::LayerNorm { axis: *axis, epsilon: 1e-5 }, x)[0];
                let rms = node(g, Op::RmsNorm { axis: *axis, epsilon: 1e-5 }, x)[0];
                vec![ln, rms]
            });
            let mut rng = Rng::new(60 + i as u64);
            let ins: Vec<_> = tys.iter().map(|t| random(&mut rng, dt, &t.shape)).collect();
            check_graph(&g, &ins, 1e-5);
        }
    }
}

#[test]
fn batch_norm_ranks() {
    for dt in [DType::F32, DType::F64] {
        for shape in [vec![2, 3, 4, 5], vec![4, 3], vec![1, 6, 7]] {
            let c = shape[1];
            let tys = vec![ty(dt, &shape), ty(dt, &[c]), ty(dt, &[c]), ty(dt, &[c]), ty(dt, &[c])];
            let g =
                build(&format!("batchnorm_{dt}_{shape:?}"), &tys, |g, x| node(g, Op::BatchNorm { epsilon: 1e-3 }, x));
            let mut rng = Rng::new(70);
            let mut ins: Vec<_> = tys.iter().map(|t| random(&mut rng, dt, &t.shape)).collect();
            ins[4] = random_in(&mut rng, dt, &[c], 0.1, 2.0); // variance >= 0
            check_graph(&g, &ins, 1e-5);
        }
    }
}

#[test]
fn reduce_sum_mean_axes_keepdims_dtypes() {
    let axes_cases: [&[usize]; 6] = [&[0], &[1], &[2], &[0, 2], &[0, 1, 2], &[]];
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64] {
        for axes in axes_cases {
            for keep_dims in [false, true] {
                let shape = [3, 4, 5];
                let g = build(&format!("reduce_{dt}_{axes:?}_{keep_dims}"), &[ty(dt, &shape)], |g, x| {
                    [ReduceOp::Sum, ReduceOp::Mean]
                        .iter()
                        .map(|op| node(g, Op::Reduce { op: *op, axes: axes.to_vec(), keep_dims }, &[x[0]])[0])
                        .collect()
                });
                let mut rng = Rng::new(80);
                check_graph(&g, &[random_in(&mut rng, dt, &shape, -9.0, 9.0)], 1e-5);
            }
        }
    }
}
