//! Compiled vs interpreter: Reduce Prod/Max/Min (floats, ints, bool, empty reductions),
//! ArgMax/ArgMin, TopK, CumSum, CumProd, GatherElements, GatherND, ScatterElements, ScatterND and Pad,
//! over dtypes, axes and workgroup counts (1, max, 3).

mod support;

use kiln_ir::op::{ArgOp, PadMode, ScatterReduction};
use kiln_ir::{DType, Op, ReduceOp, Tensor};
use support::*;

const NUMERIC: [DType; 4] = [DType::F32, DType::F64, DType::I32, DType::I64];

/// Random valid indices (negative ones included) into extent `dim`, as `dt`.
fn indices(rng: &mut Rng, dt: DType, shape: &[usize], dim: usize) -> Tensor {
    let d = dim as i64;
    let v: Vec<i64> = (0..shape.iter().product::<usize>()).map(|_| rng.int(-d, d - 1)).collect();
    match dt {
        DType::I32 => Tensor::from_i32(shape, v.into_iter().map(|x| x as i32).collect()),
        _ => Tensor::from_i64(shape, v),
    }
    .unwrap()
}

#[test]
fn reduce_prod_max_min() {
    let cases: [(&[usize], &[usize]); 5] =
        [(&[3, 4, 5], &[1]), (&[3, 4, 5], &[0, 2]), (&[3, 4], &[0, 1]), (&[2, 0, 3], &[1]), (&[6], &[])];
    for dt in NUMERIC {
        for op in [ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
            for (shape, axes) in cases {
                for keep_dims in [false, true] {
                    let name = format!("reduce_{op:?}_{dt}_{shape:?}_{axes:?}_{keep_dims}");
                    let g = build(&name, &[ty(dt, shape)], |g, x| {
                        node(g, Op::Reduce { op, axes: axes.to_vec(), keep_dims }, &[x[0]])
                    });
                    let mut rng = Rng::new(80);
                    // Prod of many values in [-2, 2) stays small enough to compare at 1e-5.
                    check_graph(&g, &[random_in(&mut rng, dt, shape, -1.5, 1.5)], 1e-5);
                }
            }
        }
    }
    for op in [ReduceOp::Max, ReduceOp::Min] {
        let g = build(&format!("reduce_bool_{op:?}"), &[ty(DType::Bool, &[4, 5])], |g, x| {
            node(g, Op::Reduce { op, axes: vec![1], keep_dims: false }, &[x[0]])
        });
        let mut rng = Rng::new(81);
        check_graph(&g, &[random(&mut rng, DType::Bool, &[4, 5])], 0.0);
    }
    // NaN propagates through Max/Min.
    let g = build("reduce_max_nan", &[ty(DType::F32, &[2, 3])], |g, x| {
        node(g, Op::Reduce { op: ReduceOp::Max, axes: vec![1], keep_dims: false }, &[x[0]])
    });
    let x = Tensor::from_f32(&[2, 3], vec![1., f32::NAN, 2., -1., -3., -2.]).unwrap();
    check_graph(&g, &[x], 0.0);
}

#[test]
fn arg_max_min() {
    for dt in NUMERIC {
        for op in [ArgOp::Max, ArgOp::Min] {
            for (shape, axis) in [(vec![3, 4, 5], 0), (vec![3, 4, 5], 2), (vec![7], 0), (vec![4, 1], 1)] {
                for (keep_dims, last) in [(false, false), (true, true), (true, false)] {
                    let name = format!("arg_{op:?}_{dt}_{shape:?}_{axis}_{keep_dims}_{last}");
                    let g = build(&name, &[ty(dt, &shape)], |g, x| {
                        node(g, Op::ArgReduce { op, axis, keep_dims, select_last_index: last }, &[x[0]])
                    });
                    let mut rng = Rng::new(82);
                    // ints in [-2, 2]: many ties, so first/last index selection matters.
                    check_graph(&g, &[random_in(&mut rng, dt, &shape, -2.0, 2.0)], 0.0);
                }
            }
        }
    }
}

#[test]
fn topk_largest_smallest() {
    for dt in NUMERIC {
        for (shape, axis, k) in [(vec![3, 6], 1, 3), (vec![5, 2, 3], 0, 5), (vec![8], 0, 1), (vec![2, 4], 1, 0)] {
            for largest in [true, false] {
                let name = format!("topk_{dt}_{shape:?}_{axis}_{k}_{largest}");
                let g = build(&name, &[ty(dt, &shape)], |g, x| {
                    node(g, Op::TopK { k, axis, largest, sorted: true }, &[x[0]])
                });
                let mut rng = Rng::new(83);
                check_graph(&g, &[random_in(&mut rng, dt, &shape, -2.0, 2.0)], 0.0);
            }
        }
    }
    let g = build("topk_nan", &[ty(DType::F64, &[5])], |g, x| {
        node(g, Op::TopK { k: 5, axis: 0, largest: false, sorted: true }, &[x[0]])
    });
    let x = Tensor::from_f64(&[5], vec![1., f64::NAN, -1., f64::NAN, f64::INFINITY]).unwrap();
    check_graph(&g, &[x], 0.0);
}

#[test]
fn cumsum_and_cumprod_modes() {
    for dt in NUMERIC {
        for (shape, axis) in [(vec![3, 5], 1), (vec![3, 5], 0), (vec![2, 3, 4], 1), (vec![6], 0)] {
            for (exclusive, reverse) in [(false, false), (true, false), (false, true), (true, true)] {
                let name = format!("cumsum_{dt}_{shape:?}_{axis}_{exclusive}_{reverse}");
                let g = build(&name, &[ty(dt, &shape)], |g, x| {
                    vec![
                        node(g, Op::CumSum { axis, exclusive, reverse }, &[x[0]])[0],
                        node(g, Op::CumProd { axis, exclusive, reverse }, &[x[0]])[0],
                    ]
                });
                let mut rng = Rng::new(84);
                check_graph(&g, &[random(&mut rng, dt, &shape)], 1e-5);
            }
        }
    }
}

#[test]
fn gather_elements_and_nd() {
    for dt in [DType::F32, DType::I64, DType::Bool] {
        for idt in [DType::I32, DType::I64] {
            for (data, idx, axis) in
                [(vec![3, 4], vec![2, 4], 0), (vec![3, 4], vec![3, 6], 1), (vec![2, 3, 4], vec![2, 2, 2], 2)]
            {
                let name = format!("gather_elements_{dt}_{idt}_{data:?}_{idx:?}_{axis}");
                let g = build(&name, &[ty(dt, &data), ty(idt, &idx)], |g, x| {
                    node(g, Op::GatherElements { axis }, &[x[0], x[1]])
                });
                let mut rng = Rng::new(85);
                let ins = vec![random(&mut rng, dt, &data), indices(&mut rng, idt, &idx, data[axis])];
                check_graph(&g, &ins, 0.0);
            }
            // (data shape, indices shape, batch_dims); index depth = indices.shape[-1]
            let nd: [(&[usize], &[usize], usize); 4] =
                [(&[3, 4], &[5, 2], 0), (&[3, 4], &[2, 1], 0), (&[2, 3, 4], &[2, 5, 1], 1), (&[2, 3, 4], &[3], 0)];
            for (data, idx, b) in nd {
                let name = format!("gather_nd_{dt}_{idt}_{data:?}_{idx:?}_{b}");
                let g = build(&name, &[ty(dt, data), ty(idt, idx)], |g, x| {
                    node(g, Op::GatherND { batch_dims: b }, &[x[0], x[1]])
                });
                let mut rng = Rng::new(86);
                // Every index component must fit its dim: use the smallest dim it may address.
                let m = idx[idx.len() - 1];
                let dim = data[b..b + m].iter().copied().min().unwrap();
                let ins = vec![random(&mut rng, dt, data), indices(&mut rng, idt, idx, dim)];
                check_graph(&g, &ins, 0.0);
            }
        }
    }
}

#[test]
fn scatter_elements_and_nd() {
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64, DType::Bool] {
        for r in ScatterReduction::ALL {
            if dt == DType::Bool && r != ScatterReduction::None {
                continue;
            }
            for (data, idx, axis) in [(vec![4, 3], vec![6, 3], 0), (vec![2, 5], vec![2, 4], 1)] {
                let name = format!("scatter_elements_{dt}_{r:?}_{data:?}_{axis}");
                let tys = [ty(dt, &data), ty(DType::I64, &idx), ty(dt, &idx)];
                let g = build(&name, &tys, |g, x| node(g, Op::ScatterElements { axis, reduction: r }, x));
                let mut rng = Rng::new(87);
                // Repeated targets: the order of updates matters for `none`.
                let ins = vec![
                    random(&mut rng, dt, &data),
                    indices(&mut rng, DType::I64, &idx, data[axis]),
                    random(&mut rng, dt, &idx),
                ];
                check_graph(&g, &ins, 1e-5);
            }
            // (data, indices, updates)
            let nd: [(&[usize], &[usize], &[usize]); 3] =
                [(&[8], &[6, 1], &[6]), (&[4, 3], &[5, 1], &[5, 3]), (&[3, 4, 2], &[2, 2, 2], &[2, 2, 2])];
            for (data, idx, upd) in nd {
                let name = format!("scatter_nd_{dt}_{r:?}_{data:?}_{idx:?}");
                let tys = [ty(dt, data), ty(DType::I32, idx), ty(dt, upd)];
                let g = build(&name, &tys, |g, x| node(g, Op::ScatterND { reduction: r }, x));
                let mut rng = Rng::new(88);
                let dim = data[..idx[idx.len() - 1]].iter().copied().min().unwrap();
                let ins = vec![
                    random(&mut rng, dt, data),
                    indices(&mut rng, DType::I32, idx, dim),
                    random(&mut rng, dt, upd),
                ];
                check_graph(&g, &ins, 1e-5);
            }
        }
    }
}

#[test]
fn pad_modes() {
    // The last two are wider than a vector: f32 constant padding runs by rows, whole vectors then
    // a masked tail, with rows and columns cropped (negative pads) or padded at either end.
    let cases: [(&[usize], &[i64]); 6] = [
        (&[3, 4], &[1, 2, 2, 1]),
        (&[2, 3, 4], &[0, 1, -1, 0, 2, 3]),
        (&[5], &[7, 6]),
        (&[1, 3], &[2, 0, 1, 0]),
        (&[2, 5, 37], &[1, 2, 3, 0, -1, 12]),
        (&[4, 40], &[-1, -3, 2, -5]),
    ];
    for dt in [DType::F32, DType::I32, DType::I64, DType::Bool] {
        for mode in PadMode::ALL {
            for (shape, pads) in cases {
                let name = format!("pad_{dt}_{mode:?}_{shape:?}_{pads:?}");
                let g = build(&name, &[ty(dt, shape)], |g, x| node(g, Op::Pad { pads: pads.to_vec(), mode }, &[x[0]]));
                let mut rng = Rng::new(89);
                check_graph(&g, &[random(&mut rng, dt, shape)], 0.0);
            }
        }
        // The constant value as a runtime operand.
        let g = build(&format!("pad_value_{dt}"), &[ty(dt, &[2, 3]), ty(dt, &[])], |g, x| {
            node(g, Op::Pad { pads: vec![1, 1, 1, 1], mode: PadMode::Constant }, x)
        });
        let mut rng = Rng::new(90);
        check_graph(&g, &[random(&mut rng, dt, &[2, 3]), random(&mut rng, dt, &[])], 0.0);
    }
}
