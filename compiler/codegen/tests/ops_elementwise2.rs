//! Compiled vs interpreter for the second wave of elementwise primitives: rounding, sign,
//! trigonometric and hyperbolic unary ops, IsNaN, Not; Max/Min, Mod/Fmod, ordered comparisons,
//! And/Or/Xor and shifts, over their dtypes, broadcasting shapes and special values.

mod support;

use kiln_ir::{BinaryOp, DType, Op, Tensor, UnaryOp};
use support::*;

/// Unary float ops with the input range where each is defined (values outside give NaN, which
/// must match too, so one range per op also crosses the domain edge).
const FLOAT_UNARY: [(UnaryOp, f64, f64); 17] = [
    (UnaryOp::Abs, -3.0, 3.0),
    (UnaryOp::Ceil, -3.0, 3.0),
    (UnaryOp::Floor, -3.0, 3.0),
    (UnaryOp::Round, -3.0, 3.0),
    (UnaryOp::Sign, -3.0, 3.0),
    (UnaryOp::Sin, -4.0, 4.0),
    (UnaryOp::Cos, -4.0, 4.0),
    (UnaryOp::Tan, -1.2, 1.2),
    (UnaryOp::Asin, -1.0, 1.0),
    (UnaryOp::Acos, -1.2, 1.2),
    (UnaryOp::Atan, -5.0, 5.0),
    (UnaryOp::Sinh, -3.0, 3.0),
    (UnaryOp::Cosh, -3.0, 3.0),
    (UnaryOp::Asinh, -5.0, 5.0),
    (UnaryOp::Acosh, 0.8, 5.0),
    (UnaryOp::Atanh, -1.0, 1.0),
    (UnaryOp::Neg, -3.0, 3.0),
];

#[test]
fn float_unary_ops() {
    for dt in [DType::F32, DType::F64] {
        for (u, lo, hi) in FLOAT_UNARY {
            for shape in [vec![3, 7], vec![]] {
                let g =
                    build(&format!("{u:?}_{dt}_{shape:?}"), &[ty(dt, &shape)], |g, x| node(g, Op::Unary(u), &[x[0]]));
                let mut rng = Rng::new(17);
                check_graph(&g, &[random_in(&mut rng, dt, &shape, lo, hi)], 1e-5);
            }
        }
    }
}

#[test]
fn rounding_ties_signs_and_nan() {
    let v = vec![-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.0, 0.0, f32::NAN, f32::INFINITY, -f32::INFINITY, 1e30];
    let n = v.len();
    let g = build("round_special", &[ty(DType::F32, &[n])], |g, x| {
        [UnaryOp::Round, UnaryOp::Ceil, UnaryOp::Floor, UnaryOp::Sign, UnaryOp::Abs, UnaryOp::IsNaN]
            .iter()
            .map(|u| node(g, Op::Unary(*u), &[x[0]])[0])
            .collect()
    });
    let l = check_graph(&g, &[Tensor::from_f32(&[n], v.clone()).unwrap()], 0.0);
    // Hand-checked too: half to even.
    let out = l.run(&[Tensor::from_f32(&[n], v).unwrap()], &|_| 1);
    assert_eq!(&out[0].to_f64_vec()[..6], &[-2.0, -2.0, -0.0, 0.0, 2.0, 2.0]);
    let nan = out[5].to_f64_vec();
    assert_eq!(nan.iter().filter(|b| **b != 0.0).count(), 1);
    assert_eq!(nan[8], 1.0);
}

#[test]
fn integer_unary_ops_wrap() {
    for dt in [DType::I32, DType::I64] {
        let g = build(&format!("int_unary_{dt}"), &[ty(dt, &[6])], |g, x| {
            [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Not]
                .iter()
                .map(|u| node(g, Op::Unary(*u), &[x[0]])[0])
                .collect()
        });
        let min = if dt == DType::I32 { i32::MIN as i64 } else { i64::MIN };
        let x = Tensor::from_i64(&[6], vec![-7, 0, 5, min, -1, min + 1]).unwrap();
        let x = kiln_ir::ops::eval(&Op::Cast { to: dt }, &[&x]).unwrap().remove(0);
        check_graph(&g, &[x], 0.0);
    }
}

#[test]
fn not_on_bools() {
    let g = build("not_bool", &[ty(DType::Bool, &[2, 5])], |g, x| node(g, Op::Unary(UnaryOp::Not), &[x[0]]));
    let mut rng = Rng::new(6);
    check_graph(&g, &[random(&mut rng, DType::Bool, &[2, 5])], 0.0);
}

const SHAPES: [(&[usize], &[usize]); 3] = [(&[3, 4], &[3, 4]), (&[2, 1, 4], &[3, 1]), (&[5], &[])];

#[test]
fn max_min_compare_numeric_dtypes() {
    let ops = [
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Greater,
        BinaryOp::Less,
        BinaryOp::GreaterOrEqual,
        BinaryOp::LessOrEqual,
    ];
    for dt in [DType::F32, DType::F64, DType::I32, DType::I64] {
        for (sa, sb) in SHAPES {
            let g = build(&format!("cmp_{dt}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
                ops.iter().map(|b| node(g, Op::Binary(*b), &[x[0], x[1]])[0]).collect()
            });
            // Small integer-valued ranges so ties are common.
            let mut rng = Rng::new(21);
            let a = random_in(&mut rng, DType::I32, sa, -3.0, 3.0);
            let b = random_in(&mut rng, DType::I32, sb, -3.0, 3.0);
            let cast = |t: Tensor| kiln_ir::ops::eval(&Op::Cast { to: dt }, &[&t]).unwrap().remove(0);
            check_graph(&g, &[cast(a), cast(b)], 0.0);
        }
    }
}

#[test]
fn max_min_compare_nan_and_signed_zero() {
    let a = vec![f64::NAN, 1.0, -0.0, 0.0, f64::NAN, -3.0];
    let b = vec![1.0, f64::NAN, 0.0, -0.0, f64::NAN, f64::NEG_INFINITY];
    for dt in [DType::F32, DType::F64] {
        let g = build(&format!("nan_{dt}"), &[ty(dt, &[6]), ty(dt, &[6])], |g, x| {
            [BinaryOp::Max, BinaryOp::Min, BinaryOp::Greater, BinaryOp::LessOrEqual, BinaryOp::Equal]
                .iter()
                .map(|o| node(g, Op::Binary(*o), &[x[0], x[1]])[0])
                .collect()
        });
        let t = |v: &Vec<f64>| {
            let f = Tensor::from_f64(&[6], v.clone()).unwrap();
            kiln_ir::ops::eval(&Op::Cast { to: dt }, &[&f]).unwrap().remove(0)
        };
        let l = check_graph(&g, &[t(&a), t(&b)], 0.0);
        // The sign of a zero max/min is checked on the bits (assert_close treats -0 == +0).
        let out = l.run(&[t(&a), t(&b)], &|_| 1);
        let (mx, mn) = (out[0].to_f64_vec(), out[1].to_f64_vec());
        assert!(mx[2].is_sign_positive() && mx[3].is_sign_positive());
        assert!(mn[2].is_sign_negative() && mn[3].is_sign_negative());
    }
}

#[test]
fn mod_and_fmod() {
    for dt in [DType::I32, DType::I64] {
        for (sa, sb) in SHAPES {
            let g = build(&format!("mod_{dt}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
                [BinaryOp::Mod, BinaryOp::Fmod].iter().map(|o| node(g, Op::Binary(*o), &[x[0], x[1]])[0]).collect()
            });
            let mut rng = Rng::new(13);
            let a = random_in(&mut rng, dt, sa, -20.0, 20.0);
            // Nonzero divisors of both signs (the interpreter rejects a zero divisor).
            let n: usize = sb.iter().product();
            let b: Vec<i64> = (0..n).map(|_| [-7, -3, -1, 1, 2, 5][rng.int(0, 5) as usize]).collect();
            let b = kiln_ir::ops::eval(&Op::Cast { to: dt }, &[&Tensor::from_i64(sb, b).unwrap()]).unwrap().remove(0);
            check_graph(&g, &[a, b], 0.0);
        }
    }
    for dt in [DType::F32, DType::F64] {
        let g = build(&format!("fmod_{dt}"), &[ty(dt, &[4, 5]), ty(dt, &[5])], |g, x| {
            node(g, Op::Binary(BinaryOp::Fmod), &[x[0], x[1]])
        });
        let mut rng = Rng::new(14);
        let a = random_in(&mut rng, dt, &[4, 5], -10.0, 10.0);
        let b = random_in(&mut rng, dt, &[5], 0.5, 3.0);
        let nb = kiln_ir::ops::eval(&Op::Unary(UnaryOp::Neg), &[&b]).unwrap().remove(0);
        let bb = kiln_ir::ops::eval(&Op::Concat { axis: 0 }, &[&b, &nb]).unwrap().remove(0);
        let bb =
            kiln_ir::ops::eval(&Op::Slice { axes: vec![0], starts: vec![3], ends: vec![8], steps: vec![1] }, &[&bb])
                .unwrap()
                .remove(0);
        check_graph(&g, &[a, bb], 0.0);
    }
}

#[test]
fn logical_and_bitwise() {
    for dt in [DType::Bool, DType::I32, DType::I64] {
        for (sa, sb) in SHAPES {
            let g = build(&format!("logic_{dt}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
                [BinaryOp::And, BinaryOp::Or, BinaryOp::Xor]
                    .iter()
                    .map(|o| node(g, Op::Binary(*o), &[x[0], x[1]])[0])
                    .collect()
            });
            let mut rng = Rng::new(31);
            let a = random_in(&mut rng, dt, sa, -1000.0, 1000.0);
            let b = random_in(&mut rng, dt, sb, -1000.0, 1000.0);
            check_graph(&g, &[a, b], 0.0);
        }
    }
}

#[test]
fn shifts_including_out_of_range_amounts() {
    for dt in [DType::I32, DType::I64] {
        let bits = 8 * dt.size_bytes() as i64;
        let g = build(&format!("shift_{dt}"), &[ty(dt, &[2, 8]), ty(dt, &[8])], |g, x| {
            [BinaryOp::BitShiftLeft, BinaryOp::BitShiftRight]
                .iter()
                .map(|o| node(g, Op::Binary(*o), &[x[0], x[1]])[0])
                .collect()
        });
        let a =
            Tensor::from_i64(&[2, 8], vec![1, -1, 12345, -9876, 7, 3, 255, -2, 5, 6, 7, 8, -9, 10, 11, 12]).unwrap();
        let s = Tensor::from_i64(&[8], vec![0, 1, 3, bits - 1, bits, bits + 5, -1, 9]).unwrap();
        let cast = |t: &Tensor| kiln_ir::ops::eval(&Op::Cast { to: dt }, &[t]).unwrap().remove(0);
        check_graph(&g, &[cast(&a), cast(&s)], 0.0);
    }
}
