//! Compiled vs interpreter: elementwise ops (unary, binary, Where, Cast, Expand) over dtypes,
//! broadcasting shapes and workgroup counts.

mod support;

use kiln_ir::{BinaryOp, DType, Op, Tensor, UnaryOp};
use support::*;

const UNARY: [UnaryOp; 12] = [
    UnaryOp::Neg,
    UnaryOp::Sqrt,
    UnaryOp::Reciprocal,
    UnaryOp::Exp,
    UnaryOp::Log,
    UnaryOp::Erf,
    UnaryOp::Tanh,
    UnaryOp::Sigmoid,
    UnaryOp::Relu,
    UnaryOp::Silu,
    UnaryOp::Gelu,
    UnaryOp::GeluTanh,
];

#[test]
fn unary_ops_f32_f64() {
    for dt in [DType::F32, DType::F64] {
        for shape in [vec![2, 3, 5], vec![7], vec![]] {
            // Signed inputs (NaN from sqrt/log of negatives must match too) and positive ones.
            for (lo, hi) in [(-3.0, 3.0), (0.05, 4.0)] {
                let t = ty(dt, &shape);
                let g = build(&format!("unary_{dt}_{shape:?}"), &[t], |g, x| {
                    UNARY.iter().map(|u| node(g, Op::Unary(*u), &[x[0]])[0]).collect()
                });
                let mut rng = Rng::new(11);
                let x = random_in(&mut rng, dt, &shape, lo, hi);
                check_graph(&g, &[x], 1e-5);
            }
        }
    }
}

#[test]
fn relu_keeps_nan() {
    let g = build("relu_nan", &[ty(DType::F32, &[4])], |g, x| node(g, Op::Unary(UnaryOp::Relu), &[x[0]]));
    let x = Tensor::from_f32(&[4], vec![f32::NAN, -1.0, 0.0, 2.5]).unwrap();
    check_graph(&g, &[x], 0.0);
}

/// Nonzero integers in [-5, 5] (division operands).
fn nonzero(rng: &mut Rng, dt: DType, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<i64> = (0..n)
        .map(|_| {
            let x = rng.int(-5, 4);
            if x >= 0 {
                x + 1
            } else {
                x
            }
        })
        .collect();
    match dt {
        DType::I32 => Tensor::from_i32(shape, v.iter().map(|x| *x as i32).collect()).unwrap(),
        DType::I64 => Tensor::from_i64(shape, v).unwrap(),
        DType::F32 => Tensor::from_f32(shape, v.iter().map(|x| *x as f32 * 0.75).collect()).unwrap(),
        _ => Tensor::from_f64(shape, v.iter().map(|x| *x as f64 * 0.75).collect()).unwrap(),
    }
}

#[test]
fn arithmetic_all_dtypes_with_broadcasting() {
    let shapes: [(&[usize], &[usize]); 4] = [(&[3, 4], &[3, 4]), (&[2, 1, 4], &[3, 1]), (&[5], &[]), (&[1], &[2, 3])];
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64] {
        for (sa, sb) in shapes {
            let g = build(&format!("arith_{dt}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
                [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Equal]
                    .iter()
                    .map(|b| node(g, Op::Binary(*b), &[x[0], x[1]])[0])
                    .collect()
            });
            let mut rng = Rng::new(5);
            let a = random_in(&mut rng, dt, sa, -9.0, 9.0);
            let b = nonzero(&mut rng, dt, sb);
            check_graph(&g, &[a, b], 1e-6);
        }
    }
}

#[test]
fn equal_on_repeated_values_and_bools() {
    for dt in [DType::F32, DType::I32, DType::Bool] {
        let g = build(&format!("equal_{dt}"), &[ty(dt, &[4, 6]), ty(dt, &[6])], |g, x| {
            node(g, Op::Binary(BinaryOp::Equal), &[x[0], x[1]])
        });
        let mut rng = Rng::new(3);
        // Values from a tiny set so equality is common.
        let a = random_in(&mut rng, DType::I32, &[4, 6], 0.0, 2.0);
        let b = random_in(&mut rng, DType::I32, &[6], 0.0, 2.0);
        let cast = |t: Tensor| kiln_ir::ops::eval(&Op::Cast { to: dt }, &[&t]).unwrap().remove(0);
        check_graph(&g, &[cast(a), cast(b)], 0.0);
    }
}

#[test]
fn pow_with_float_and_int_exponents() {
    for (bt, et) in [
        (DType::F32, DType::F32),
        (DType::F32, DType::I32),
        (DType::F32, DType::I64),
        (DType::F64, DType::F64),
        (DType::F64, DType::I32),
    ] {
        let g = build(&format!("pow_{bt}_{et}"), &[ty(bt, &[3, 4]), ty(et, &[4])], |g, x| {
            node(g, Op::Binary(BinaryOp::Pow), &[x[0], x[1]])
        });
        let mut rng = Rng::new(9);
        let a = random_in(&mut rng, bt, &[3, 4], 0.1, 3.0);
        let e = random_in(&mut rng, et, &[4], -3.0, 3.0);
        check_graph(&g, &[a, e], 1e-5);
    }
}

#[test]
fn where_broadcasts_all_three() {
    for dt in [DType::F32, DType::I64, DType::Bool] {
        let g =
            build(&format!("where_{dt}"), &[ty(DType::Bool, &[3, 1]), ty(dt, &[1, 4]), ty(dt, &[2, 3, 4])], |g, x| {
                node(g, Op::Where, &[x[0], x[1], x[2]])
            });
        let mut rng = Rng::new(4);
        let ins = vec![
            random(&mut rng, DType::Bool, &[3, 1]),
            random(&mut rng, dt, &[1, 4]),
            random(&mut rng, dt, &[2, 3, 4]),
        ];
        check_graph(&g, &ins, 0.0);
    }
}

#[test]
fn cast_every_dtype_pair() {
    for from in DType::ALL {
        let g = build(&format!("cast_from_{from}"), &[ty(from, &[4, 5])], |g, x| {
            DType::ALL.iter().map(|to| node(g, Op::Cast { to: *to }, &[x[0]])[0]).collect()
        });
        // Halves in [-3, 3] (zeros included) so truncation and x != 0 are both exercised.
        let mut rng = Rng::new(8);
        let ints = random_in(&mut rng, DType::I32, &[4, 5], -6.0, 6.0);
        let halves = Tensor::from_f64(&[4, 5], ints.to_f64_vec().iter().map(|v| v / 2.0).collect()).unwrap();
        let src = if from.is_float() { halves } else { ints };
        let x = kiln_ir::ops::eval(&Op::Cast { to: from }, &[&src]).unwrap().remove(0);
        check_graph(&g, &[x], 0.0);
    }
}

#[test]
fn expand_broadcasts() {
    for (dt, from, to) in [
        (DType::F32, vec![3, 1], vec![2, 3, 4]),
        (DType::I64, vec![1], vec![5]),
        (DType::Bool, vec![2, 1, 3], vec![2, 4, 3]),
    ] {
        let g =
            build(&format!("expand_{dt}"), &[ty(dt, &from)], |g, x| node(g, Op::Expand { shape: to.clone() }, &[x[0]]));
        let mut rng = Rng::new(2);
        check_graph(&g, &[random(&mut rng, dt, &from)], 0.0);
    }
}
