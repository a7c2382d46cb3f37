//! Compiled vs interpreter for the narrow, unsigned and 16-bit float dtypes: Cast between every
//! pair of dtypes, and a representative set of ops per dtype (arithmetic, Mod, Max/Min,
//! comparisons, shifts, unary, reductions, ArgMax, data movement). Integer inputs use the full
//! range of the type (random bytes), so a signed op where an unsigned one belongs shows up.

mod support;

use kiln_ir::{BinaryOp, DType, Op, ReduceOp, Tensor, UnaryOp};
use support::*;

const INTS: [DType; 6] = [DType::I8, DType::I16, DType::U8, DType::U16, DType::U32, DType::U64];
const HALVES: [DType; 2] = [DType::F16, DType::BF16];

/// Random bytes read as `dt`: every bit pattern of the type is possible.
fn full_range(rng: &mut Rng, dt: DType, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product::<usize>() * dt.size_bytes();
    let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
    Tensor::from_le_bytes(dt, shape, &bytes).unwrap()
}

/// Like [`full_range`] with no zero element (divisors).
fn nonzero(rng: &mut Rng, dt: DType, shape: &[usize]) -> Tensor {
    let w = dt.size_bytes();
    let mut bytes = full_range(rng, dt, shape).to_le_bytes();
    for c in bytes.chunks_mut(w) {
        if c.iter().all(|b| *b == 0) {
            c[0] = 1;
        }
    }
    Tensor::from_le_bytes(dt, shape, &bytes).unwrap()
}

/// Values of `from` to cast from: ints wrap from a fixed i64 list (negative, past the narrow
/// ranges); floats stay where every target is defined (0 <= v < 127).
fn cast_source(from: DType) -> Tensor {
    if from.is_float() {
        let v = vec![0.0, 0.5, 1.25, 7.9, 100.5, 126.99, 3.0, 64.0625];
        kiln_ir::ops::cast::cast(&Tensor::from_f64(&[8], v).unwrap(), from)
    } else {
        let v = vec![-1, 0, 1, 127, 200, -300, 70000, i64::MIN];
        kiln_ir::ops::cast::cast(&Tensor::from_i64(&[8], v).unwrap(), from)
    }
}

#[test]
fn cast_every_pair() {
    for from in DType::ALL {
        let g = build(&format!("cast_from_{from}"), &[ty(from, &[8])], |g, x| {
            DType::ALL.iter().map(|to| node(g, Op::Cast { to: *to }, &[x[0]])[0]).collect()
        });
        check_graph(&g, &[cast_source(from)], 0.0);
    }
}

#[test]
fn int_binary_ops() {
    let ops = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Mod,
        BinaryOp::Fmod,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Greater,
        BinaryOp::Less,
        BinaryOp::GreaterOrEqual,
        BinaryOp::LessOrEqual,
        BinaryOp::Equal,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Xor,
    ];
    for dt in INTS {
        let g = build(&format!("int_binary_{dt}"), &[ty(dt, &[3, 5]), ty(dt, &[5])], |g, x| {
            ops.iter().map(|b| node(g, Op::Binary(*b), &[x[0], x[1]])[0]).collect()
        });
        let mut rng = Rng::new(5);
        let x = full_range(&mut rng, dt, &[3, 5]);
        let y = nonzero(&mut rng, dt, &[5]);
        check_graph(&g, &[x, y], 0.0);
    }
}

#[test]
fn int_shifts() {
    for dt in INTS {
        let g = build(&format!("shift_{dt}"), &[ty(dt, &[12]), ty(dt, &[12])], |g, x| {
            vec![
                node(g, Op::Binary(BinaryOp::BitShiftLeft), &[x[0], x[1]])[0],
                node(g, Op::Binary(BinaryOp::BitShiftRight), &[x[0], x[1]])[0],
            ]
        });
        let mut rng = Rng::new(9);
        let x = full_range(&mut rng, dt, &[12]);
        // Amounts 0..=bits+1: in range and just past it.
        let bits = dt.bits() as i64;
        let amounts: Vec<i64> = (0..12).map(|i| i * (bits + 1) / 11).collect();
        let y = kiln_ir::ops::cast::cast(&Tensor::from_i64(&[12], amounts).unwrap(), dt);
        check_graph(&g, &[x, y], 0.0);
    }
}

#[test]
fn int_unary_reduce_and_movement() {
    for dt in INTS {
        let g = build(&format!("int_misc_{dt}"), &[ty(dt, &[4, 6]), ty(DType::Bool, &[4, 6])], |g, x| {
            let mut outs: Vec<_> = [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Not]
                .iter()
                .map(|u| node(g, Op::Unary(*u), &[x[0]])[0])
                .collect();
            for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min, ReduceOp::Mean] {
                outs.push(node(g, Op::Reduce { op, axes: vec![1], keep_dims: false }, &[x[0]])[0]);
            }
            outs.push(
                node(
                    g,
                    Op::ArgReduce { op: kiln_ir::op::ArgOp::Max, axis: 1, keep_dims: true, select_last_index: false },
                    &[x[0]],
                )[0],
            );
            outs.push(
                node(
                    g,
                    Op::ArgReduce { op: kiln_ir::op::ArgOp::Min, axis: 0, keep_dims: false, select_last_index: true },
                    &[x[0]],
                )[0],
            );
            let idx = g.add_constant("idx", Tensor::from_i64(&[3], vec![3, 0, -1]).unwrap());
            outs.push(node(g, Op::Gather { axis: 0 }, &[x[0], idx])[0]);
            outs.push(node(g, Op::Concat { axis: 0 }, &[x[0], x[0]])[0]);
            outs.push(node(g, Op::Transpose { perm: vec![1, 0] }, &[x[0]])[0]);
            let neg = outs[0];
            outs.push(node(g, Op::Where, &[x[1], x[0], neg])[0]);
            outs.push(node(g, Op::CumSum { axis: 1, exclusive: false, reverse: false }, &[x[0]])[0]);
            outs.push(node(g, Op::TopK { k: 2, axis: 1, largest: true, sorted: true }, &[x[0]])[0]);
            outs
        });
        let mut rng = Rng::new(21);
        let x = full_range(&mut rng, dt, &[4, 6]);
        let c = random(&mut rng, DType::Bool, &[4, 6]);
        check_graph(&g, &[x, c], 0.0);
    }
}

/// f16 / bf16: elementwise ops round once from f32 in both the interpreter and compiled code;
/// transcendental functions and reductions may differ by one unit in the last place of the
/// 16-bit type (f32 libm results straddling a rounding boundary; f64 vs f32 accumulation), so
/// the tolerance is one ulp at 1.0 (2^-10 for f16, 2^-7 for bf16) scaled as `assert_close` does.
#[test]
fn half_float_ops() {
    for dt in HALVES {
        let ulp = if dt == DType::F16 { 2f64.powi(-10) } else { 2f64.powi(-7) };
        let exact = build(&format!("half_exact_{dt}"), &[ty(dt, &[3, 5]), ty(dt, &[5])], |g, x| {
            let mut outs: Vec<_> = [
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
                BinaryOp::Max,
                BinaryOp::Min,
                BinaryOp::Less,
                BinaryOp::Equal,
            ]
            .iter()
            .map(|b| node(g, Op::Binary(*b), &[x[0], x[1]])[0])
            .collect();
            for u in [UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Relu, UnaryOp::Sqrt, UnaryOp::Reciprocal, UnaryOp::IsNaN] {
                outs.push(node(g, Op::Unary(u), &[x[0]])[0]);
            }
            outs.push(
                node(
                    g,
                    Op::ArgReduce { op: kiln_ir::op::ArgOp::Max, axis: 1, keep_dims: false, select_last_index: false },
                    &[x[0]],
                )[0],
            );
            outs.push(node(g, Op::Transpose { perm: vec![1, 0] }, &[x[0]])[0]);
            outs.push(node(g, Op::Concat { axis: 0 }, &[x[0], x[0]])[0]);
            outs.push(node(g, Op::Reduce { op: ReduceOp::Max, axes: vec![0], keep_dims: true }, &[x[0]])[0]);
            outs
        });
        let mut rng = Rng::new(3);
        let x = random_in(&mut rng, dt, &[3, 5], -3.0, 3.0);
        let y = random_in(&mut rng, dt, &[5], 0.5, 4.0);
        check_graph(&exact, &[x.clone(), y.clone()], 0.0);

        let approx = build(&format!("half_approx_{dt}"), &[ty(dt, &[3, 5])], |g, x| {
            let mut outs: Vec<_> = [UnaryOp::Exp, UnaryOp::Tanh, UnaryOp::Erf, UnaryOp::Sigmoid, UnaryOp::Log]
                .iter()
                .map(|u| node(g, Op::Unary(*u), &[x[0]])[0])
                .collect();
            for op in [ReduceOp::Sum, ReduceOp::Mean] {
                outs.push(node(g, Op::Reduce { op, axes: vec![1], keep_dims: false }, &[x[0]])[0]);
            }
            outs.push(node(g, Op::Softmax { axis: 1 }, &[x[0]])[0]);
            outs
        });
        check_graph(&approx, &[x], ulp);
    }
}
