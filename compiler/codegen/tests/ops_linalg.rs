//! Compiled vs interpreter: MatMul, Gemm, Conv, MaxPool, AvgPool (shapes, broadcasting,
//! transposes, strides, pads, dilations, groups) with several workgroup counts.

mod support;

use kiln_ir::{DType, Op};
use support::*;

#[test]
fn matmul_shapes_and_broadcasting() {
    let cases: [(&[usize], &[usize]); 9] = [
        (&[3, 4], &[4, 5]),
        (&[1, 4], &[4, 7]),
        (&[2, 3, 4], &[4, 5]),
        (&[4], &[4, 5]),
        (&[3, 4], &[4]),
        (&[4], &[4]),
        (&[2, 1, 3, 4], &[3, 4, 2]),
        (&[4], &[2, 4, 3]),
        (&[5, 17], &[17, 33]),
    ];
    for dt in [DType::F32, DType::F64] {
        for (sa, sb) in cases {
            let g = build(&format!("matmul_{dt}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
                node(g, Op::MatMul, &[x[0], x[1]])
            });
            let mut rng = Rng::new(21);
            let ins = vec![random(&mut rng, dt, sa), random(&mut rng, dt, sb)];
            check_graph(&g, &ins, 1e-5);
        }
    }
}

#[test]
fn gemm_alpha_beta_transposes_and_c_shapes() {
    let (m, k, n) = (3, 5, 4);
    let c_shapes: [Option<&[usize]>; 5] = [None, Some(&[]), Some(&[4]), Some(&[3, 1]), Some(&[3, 4])];
    for dt in [DType::F32, DType::F64] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for c in c_shapes {
                let a_shape = if ta { vec![k, m] } else { vec![m, k] };
                let b_shape = if tb { vec![n, k] } else { vec![k, n] };
                let mut tys = vec![ty(dt, &a_shape), ty(dt, &b_shape)];
                if let Some(c) = c {
                    tys.push(ty(dt, c));
                }
                let op = Op::Gemm { alpha: 0.5, beta: -1.25, trans_a: ta, trans_b: tb };
                let g = build(&format!("gemm_{dt}_{ta}_{tb}_{c:?}"), &tys, |g, x| node(g, op.clone(), x));
                let mut rng = Rng::new(22);
                let ins: Vec<_> = tys.iter().map(|t| random(&mut rng, dt, &t.shape)).collect();
                check_graph(&g, &ins, 1e-5);
            }
        }
    }
    // alpha = 1 without C: no epilogue loop.
    let g = build("gemm_plain", &[ty(DType::F32, &[1, 6]), ty(DType::F32, &[6, 9])], |g, x| {
        node(g, Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false }, x)
    });
    let mut rng = Rng::new(23);
    let ins = vec![random(&mut rng, DType::F32, &[1, 6]), random(&mut rng, DType::F32, &[6, 9])];
    check_graph(&g, &ins, 1e-5);
}

/// f32 shapes for the register-tiled kernel: M, N not multiples of the tile, K past one or
/// several K blocks (256) with a remainder, N wide enough that the grid splits column strips,
/// A batch folded into M, B with unit batch dims.
#[test]
fn matmul_tiled_remainders_and_k_blocks() {
    // M % 6 from 0 to 5 and N % 64 needing 1, 2 or 3 vectors cover the AVX-512 6x64 tile's
    // remainders (and AVX2's 6x16).
    let cases: [(&[usize], &[usize]); 12] = [
        (&[13, 300], &[300, 37]),
        (&[9, 70], &[70, 100]),
        (&[8, 33], &[33, 90]),
        (&[10, 40], &[40, 113]),
        (&[7, 5], &[5, 40]),
        (&[1, 9], &[9, 64]),
        (&[6, 16], &[16, 16]),
        (&[2, 3, 20], &[20, 17]),
        (&[2, 3, 4], &[1, 4, 18]),
        (&[19, 513], &[513, 133]),
        (&[12, 256], &[256, 256]),
        (&[5, 257], &[257, 2]),
    ];
    check_f32_matmuls("matmul_tiled", &cases, 24);
}

/// Each f32 MatMul `a @ b` of `cases` on seeded random operands against the interpreter.
fn check_f32_matmuls(name: &str, cases: &[(&[usize], &[usize])], seed: u64) {
    let dt = DType::F32;
    for &(sa, sb) in cases {
        let g = build(&format!("{name}_{sa:?}_{sb:?}"), &[ty(dt, sa), ty(dt, sb)], |g, x| {
            node(g, Op::MatMul, &[x[0], x[1]])
        });
        let mut rng = Rng::new(seed);
        let ins = vec![random(&mut rng, dt, sa), random(&mut rng, dt, sb)];
        check_graph(&g, &ins, 1e-5);
    }
}

/// Batched f32 products on the tiled kernel: equal batch dims (split over workgroups when there
/// are at least 4 matrices, looped otherwise), an unbatched A against a batched B, sizes off the
/// tile and past a K block.
#[test]
fn matmul_tiled_batched() {
    let cases: [(&[usize], &[usize]); 6] = [
        (&[12, 33, 16], &[12, 16, 33]),
        (&[2, 3, 5, 20], &[2, 3, 20, 17]),
        (&[5, 20], &[3, 20, 17]),
        (&[2, 7, 300], &[2, 300, 40]),
        (&[1, 4, 9, 8], &[4, 8, 9]),
        (&[3, 1, 6], &[3, 6, 2]),
    ];
    check_f32_matmuls("matmul_batched", &cases, 26);
}

/// Gemm on the tiled kernel: every transpose pair, alpha/beta with C broadcast shapes, sizes off
/// the tile and past a K block, few and many column strips.
#[test]
fn gemm_tiled_transposes_alpha_beta_c() {
    let dt = DType::F32;
    for (m, k, n) in [(13, 270, 37), (8, 20, 133)] {
        let c_shapes: [Option<Vec<usize>>; 4] = [None, Some(vec![n]), Some(vec![m, 1]), Some(vec![m, n])];
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            for c in &c_shapes {
                let a_shape = if ta { vec![k, m] } else { vec![m, k] };
                let b_shape = if tb { vec![n, k] } else { vec![k, n] };
                let mut tys = vec![ty(dt, &a_shape), ty(dt, &b_shape)];
                if let Some(c) = c {
                    tys.push(ty(dt, c));
                }
                // alpha = beta = 1 with a C row or column: the bias starts the accumulators.
                for (alpha, beta) in [(if c.is_none() { 1.0 } else { 0.75 }, -1.5), (1.0, 1.0)] {
                    let op = Op::Gemm { alpha, beta, trans_a: ta, trans_b: tb };
                    let name = format!("gemm_tiled_{m}_{k}_{n}_{ta}_{tb}_{c:?}_{alpha}_{beta}");
                    let g = build(&name, &tys, |g, x| node(g, op.clone(), x));
                    let mut rng = Rng::new(25);
                    let ins: Vec<_> = tys.iter().map(|t| random(&mut rng, dt, &t.shape)).collect();
                    check_graph(&g, &ins, 1e-5);
                }
            }
        }
    }
}

struct ConvCase {
    x: [usize; 4],
    w: [usize; 4],
    strides: [usize; 2],
    pads: [usize; 4],
    dilations: [usize; 2],
    group: usize,
    bias: bool,
}

#[test]
fn conv_strides_pads_dilations_groups() {
    let cases = [
        ConvCase {
            x: [1, 3, 7, 7],
            w: [4, 3, 3, 3],
            strides: [1, 1],
            pads: [0; 4],
            dilations: [1, 1],
            group: 1,
            bias: false,
        },
        ConvCase {
            x: [2, 3, 7, 6],
            w: [4, 3, 3, 3],
            strides: [1, 1],
            pads: [1; 4],
            dilations: [1, 1],
            group: 1,
            bias: true,
        },
        ConvCase {
            x: [1, 2, 9, 8],
            w: [3, 2, 3, 2],
            strides: [2, 3],
            pads: [1, 0, 2, 1],
            dilations: [1, 1],
            group: 1,
            bias: true,
        },
        ConvCase {
            x: [1, 2, 9, 9],
            w: [2, 2, 3, 3],
            strides: [1, 2],
            pads: [2, 2, 2, 2],
            dilations: [2, 3],
            group: 1,
            bias: false,
        },
        ConvCase {
            x: [2, 4, 6, 6],
            w: [6, 2, 3, 3],
            strides: [1, 1],
            pads: [1; 4],
            dilations: [1, 1],
            group: 2,
            bias: true,
        },
        ConvCase {
            x: [1, 4, 5, 5],
            w: [4, 1, 3, 3],
            strides: [2, 2],
            pads: [1; 4],
            dilations: [1, 1],
            group: 4,
            bias: true,
        },
        ConvCase {
            x: [1, 3, 4, 4],
            w: [5, 3, 1, 1],
            strides: [1, 1],
            pads: [0; 4],
            dilations: [1, 1],
            group: 1,
            bias: true,
        },
        // The tiled im2col path: K past a block (32*3*3 = 288), many column strips, padding
        // at every border, groups with several output channels each on two images, stride 2.
        ConvCase {
            x: [1, 32, 12, 13],
            w: [10, 32, 3, 3],
            strides: [1, 1],
            pads: [1; 4],
            dilations: [1, 1],
            group: 1,
            bias: true,
        },
        ConvCase {
            x: [2, 6, 11, 9],
            w: [9, 2, 3, 3],
            strides: [2, 2],
            pads: [1, 2, 0, 1],
            dilations: [1, 1],
            group: 3,
            bias: true,
        },
        ConvCase {
            x: [1, 3, 20, 20],
            w: [8, 3, 7, 7],
            strides: [2, 2],
            pads: [3; 4],
            dilations: [1, 1],
            group: 1,
            bias: false,
        },
    ];
    for dt in [DType::F32, DType::F64] {
        for (i, c) in cases.iter().enumerate() {
            let mut tys = vec![ty(dt, &c.x), ty(dt, &c.w)];
            if c.bias {
                tys.push(ty(dt, &[c.w[0]]));
            }
            let op = Op::Conv {
                strides: c.strides.to_vec(),
                pads: c.pads.to_vec(),
                dilations: c.dilations.to_vec(),
                group: c.group,
            };
            let g = build(&format!("conv_{dt}_{i}"), &tys, |g, x| node(g, op.clone(), x));
            let mut rng = Rng::new(30 + i as u64);
            let ins: Vec<_> = tys.iter().map(|t| random(&mut rng, dt, &t.shape)).collect();
            check_graph(&g, &ins, 1e-5);
        }
    }
}

#[test]
fn pools_with_pads_strides_dilations() {
    type Case = ([usize; 2], [usize; 2], [usize; 4], [usize; 2]); // kernel, strides, pads, dilations
    let cases: [Case; 5] = [
        ([2, 2], [2, 2], [0; 4], [1, 1]),
        ([3, 3], [1, 1], [1; 4], [1, 1]),
        ([3, 2], [2, 1], [1, 0, 2, 1], [1, 1]),
        ([2, 2], [1, 2], [1, 1, 1, 1], [2, 2]),
        ([1, 1], [1, 1], [0; 4], [1, 1]),
    ];
    for dt in [DType::F32, DType::F64] {
        for (i, (k, s, p, d)) in cases.iter().enumerate() {
            let x = ty(dt, &[2, 3, 7, 8]);
            let g = build(&format!("pool_{dt}_{i}"), std::slice::from_ref(&x), |g, x| {
                let mut outs = vec![
                    node(
                        g,
                        Op::MaxPool {
                            kernel: k.to_vec(),
                            strides: s.to_vec(),
                            pads: p.to_vec(),
                            dilations: d.to_vec(),
                        },
                        &[x[0]],
                    )[0],
                ];
                if *d == [1, 1] {
                    for cip in [false, true] {
                        let op = Op::AvgPool {
                            kernel: k.to_vec(),
                            strides: s.to_vec(),
                            pads: p.to_vec(),
                            count_include_pad: cip,
                        };
                        outs.push(node(g, op, &[x[0]])[0]);
                    }
                }
                outs
            });
            // All-negative inputs: a padded cell winning a max would show up as 0.
            let mut rng = Rng::new(40 + i as u64);
            let xv = random_in(&mut rng, dt, &x.shape, -3.0, -0.5);
            check_graph(&g, &[xv], 1e-5);
        }
    }
    // Rows of several vectors and a partial last one (f32 MaxPool runs W columns at a time):
    // ResNet's 3x3 stride-2 stem pool and YOLO's 5x5 stride-1 SPPF pool (contiguous loads), a
    // 2x2 stride-2 pool padded on the right only, and a stride-3 pool (gathers).
    let wide =
        [([3, 3], [2, 2], [1; 4]), ([5, 5], [1, 1], [2; 4]), ([2, 2], [2, 2], [0, 0, 1, 1]), ([3, 3], [3, 3], [1; 4])];
    for (i, (k, s, p)) in wide.into_iter().enumerate() {
        let x = ty(DType::F32, &[1, 3, 9, 45]);
        let op = Op::MaxPool { kernel: k.to_vec(), strides: s.to_vec(), pads: p.to_vec(), dilations: vec![1, 1] };
        let g =
            build(&format!("maxpool_wide_{i}"), std::slice::from_ref(&x), |g, x| vec![node(g, op.clone(), &[x[0]])[0]]);
        let mut rng = Rng::new(50 + i as u64);
        check_graph(&g, &[random_in(&mut rng, DType::F32, &x.shape, -3.0, -0.5)], 0.0);
    }
}

/// Im2Col against the interpreter: padding on every side (asymmetric), strides, dilations,
/// several images, a 7x7 stem-like window, rows of several vectors at stride 1 and 2 (f32 runs
/// those from contiguous loads), f32 and f64.
#[test]
fn im2col_geometries() {
    #[allow(clippy::type_complexity)]
    let cases: [([usize; 4], [usize; 2], [usize; 2], [usize; 4], [usize; 2]); 7] = [
        ([1, 3, 5, 4], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1]),
        ([2, 2, 7, 6], [3, 2], [2, 3], [1, 0, 2, 1], [1, 1]),
        ([1, 2, 9, 9], [3, 3], [1, 2], [2, 2, 2, 2], [2, 3]),
        ([1, 3, 20, 18], [7, 7], [2, 2], [3, 3, 3, 3], [1, 1]),
        ([1, 4, 6, 6], [1, 1], [2, 2], [0; 4], [1, 1]),
        ([1, 2, 5, 45], [2, 2], [2, 2], [1, 1, 1, 1], [1, 1]),
        ([1, 2, 4, 40], [3, 3], [1, 1], [0, 2, 1, 3], [1, 1]),
    ];
    for dt in [DType::F32, DType::F64] {
        for (i, (x, kernel, strides, pads, dilations)) in cases.iter().enumerate() {
            let op = Op::Im2Col {
                kernel: kernel.to_vec(),
                strides: strides.to_vec(),
                pads: pads.to_vec(),
                dilations: dilations.to_vec(),
            };
            let g = build(&format!("im2col_{dt}_{i}"), &[ty(dt, x)], |g, v| node(g, op.clone(), v));
            let mut rng = Rng::new(40 + i as u64);
            check_graph(&g, &[random(&mut rng, dt, x)], 0.0);
        }
    }
}

/// Constant right operands are packed at compile time (`plan::prepackable`): MatMul with A's
/// batch folded into M, K past one block with a remainder, N off the strip width, and Gemm with
/// B stored transposed or not, a bias row, alpha/beta; one case with a fused epilogue. The
/// kernel must read the packed weights exactly as it would have packed them at run time.
#[test]
fn packed_constant_weights() {
    let f = DType::F32;
    let mut rng = Rng::new(27);
    for (sa, k, n) in [(vec![2, 5, 300], 300, 37), (vec![7, 20], 20, 64), (vec![1, 513], 513, 133), (vec![9, 4], 4, 3)]
    {
        let w = random(&mut rng, f, &[k, n]);
        let g = build(&format!("mm_packed_{sa:?}_{n}"), &[ty(f, &sa)], |g, x| {
            let c = g.add_constant("w", w.clone());
            let m = node(g, Op::MatMul, &[x[0], c])[0];
            vec![node(g, Op::Unary(kiln_ir::UnaryOp::Relu), &[m])[0]]
        });
        let l = check_graph(&g, &[random(&mut rng, f, &sa)], 1e-5);
        // The weights are stored once, packed (no unpacked copy in the artifact).
        let consts: Vec<usize> = l
            .meta
            .buffers
            .iter()
            .filter(|b| matches!(b.kind, kiln_abi::BufferKind::Constant { .. }))
            .map(|b| b.size_bytes)
            .collect();
        let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
        assert_eq!(consts, [4 * kiln_codegen::lower::gemm_pack::packed_len(lanes, k, n)], "{}", g.name);
    }
    for (m, k, n) in [(13, 270, 37), (8, 20, 133)] {
        for tb in [false, true] {
            for (alpha, beta) in [(1.0, 1.0), (0.5, -2.0)] {
                let w = random(&mut rng, f, &if tb { [n, k] } else { [k, n] });
                let c = random(&mut rng, f, &[n]);
                let op = Op::Gemm { alpha, beta, trans_a: false, trans_b: tb };
                let g = build(&format!("gemm_packed_{m}_{k}_{n}_{tb}_{alpha}"), &[ty(f, &[m, k])], |g, x| {
                    let (wc, cc) = (g.add_constant("w", w.clone()), g.add_constant("c", c.clone()));
                    node(g, op.clone(), &[x[0], wc, cc])
                });
                check_graph(&g, &[random(&mut rng, f, &[m, k])], 1e-5);
            }
        }
    }
}

/// The AVX2 tiling (6x16 tiles, 8-lane vectors) on this host whatever its vector width: the
/// artifact built for x86-64-v3 runs here, so its tiled products are checked too (remainders,
/// K blocks, batches, a packed constant, a convolution).
#[test]
fn tiled_products_for_an_avx2_target() {
    let f = DType::F32;
    let opts = kiln_codegen::CodegenOptions { target_cpu: "x86-64-v3".into(), ..Default::default() };
    let mut rng = Rng::new(28);
    let w = random(&mut rng, f, &[300, 37]);
    let g = build(
        "avx2_products",
        &[ty(f, &[13, 300]), ty(f, &[5, 7, 20]), ty(f, &[5, 20, 19]), ty(f, &[1, 8, 9, 9])],
        |g, x| {
            let c = g.add_constant("w", w.clone());
            let a = node(g, Op::MatMul, &[x[0], c])[0];
            let b = node(g, Op::MatMul, &[x[1], x[2]])[0];
            let k = g.add_constant("k", random(&mut Rng::new(29), f, &[6, 8, 3, 3]));
            let op = Op::Conv { strides: vec![1, 1], pads: vec![1; 4], dilations: vec![1, 1], group: 1 };
            let cv = node(g, op, &[x[3], k])[0];
            // Unpadded stride 1: the direct convolution.
            let k2 = g.add_constant("k2", random(&mut Rng::new(30), f, &[7, 8, 3, 2]));
            let op = Op::Conv { strides: vec![1, 1], pads: vec![0; 4], dilations: vec![1, 1], group: 1 };
            let dv = node(g, op, &[x[3], k2])[0];
            // Winograd's stages on 8-lane vectors (tile rows of 5 blocks, odd output).
            let v = node(g, Op::WinogradInput { pads: vec![1, 1, 1, 0] }, &[x[3]])[0];
            let u = g.add_constant("u", random(&mut Rng::new(31), f, &[16, 6, 8]));
            let p = node(g, Op::MatMul, &[u, v])[0];
            let wv = node(g, Op::WinogradOutput { out: vec![9, 8] }, &[p])[0];
            vec![a, b, cv, dv, wv]
        },
    );
    let ins: Vec<_> = g.input_values().iter().map(|v| random(&mut rng, f, &g.value_type(*v).shape)).collect();
    let want = kiln_ir::interp::evaluate(&g, &ins).unwrap();
    let l = Loaded::compile_with(&g, &opts);
    for nwg in [1u64, 3] {
        for (i, (got, want)) in l.run(&ins, &|m| m.min(nwg)).iter().zip(&want).enumerate() {
            assert_close(&format!("avx2 output {i} ({nwg} wg)"), got, want, 1e-5);
        }
    }
}

/// Constant left operands of Gemm against a computed right one (a convolution's weights against
/// its patches) are packed at compile time into row-tile micro-panels: rows off the tile, K past a
/// block, A stored transposed or not, a per-row bias (the conv bias) and alpha/beta.
#[test]
fn packed_constant_left_operand() {
    let f = DType::F32;
    let mut rng = Rng::new(31);
    for (m, k, n) in [(13, 300, 37), (64, 576, 49), (5, 9, 130)] {
        for ta in [false, true] {
            for (alpha, beta) in [(1.0, 1.0), (0.5, 2.0)] {
                let w = random(&mut rng, f, &if ta { [k, m] } else { [m, k] });
                let c = random(&mut rng, f, &[m, 1]);
                let op = Op::Gemm { alpha, beta, trans_a: ta, trans_b: false };
                let g = build(&format!("gemm_packed_a_{m}_{k}_{n}_{ta}_{alpha}"), &[ty(f, &[k, n])], |g, x| {
                    let (wc, cc) = (g.add_constant("w", w.clone()), g.add_constant("c", c.clone()));
                    node(g, op.clone(), &[wc, x[0], cc])
                });
                let l = check_graph(&g, &[random(&mut rng, f, &[k, n])], 1e-5);
                let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
                let want = 4 * kiln_codegen::lower::gemm_pack::packed_a_len(lanes, m, k);
                assert!(l.meta.buffers.iter().any(|b| b.size_bytes == want), "{}: A not packed", g.name);
            }
        }
    }
}

/// MatMul with a constant left operand, packed at compile time: one matrix for every batch of B
/// (2-D A, batched B), or one packed matrix per batch (Winograd's 16 filter matrices), K past
/// a depth block and a partial last strip.
#[test]
fn matmul_packed_constant_left_operand() {
    let f = DType::F32;
    let mut rng = Rng::new(43);
    let cases: [(&[usize], &[usize]); 3] =
        [(&[13, 300], &[3, 300, 37]), (&[4, 7, 290], &[4, 290, 70]), (&[40, 9], &[9, 130])];
    for (i, (a, b)) in cases.into_iter().enumerate() {
        let w = random(&mut rng, f, a);
        let g = build(&format!("matmul_packed_a_{i}"), &[ty(f, b)], |g, x| {
            let wc = g.add_constant("w", w.clone());
            node(g, Op::MatMul, &[wc, x[0]])
        });
        let l = check_graph(&g, &[random(&mut rng, f, b)], 1e-5);
        let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
        let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
        let per = a[..a.len() - 2].iter().product::<usize>();
        let want = 4 * per * kiln_codegen::lower::gemm_pack::packed_a_len(lanes, m, k);
        assert!(l.meta.buffers.iter().any(|b| b.size_bytes == want), "{}: A not packed", g.name);
    }
}

/// Convolutions with constant weights on the tiled kernel: one-group weights packed at compile
/// time into row-tile micro-panels, patches gathered (masked vector gathers) straight into the
/// packed B panels. Output pixels past one strip and a partial last strip, padding on every side,
/// stride 2 with uneven pads, dilation, K past a block, several images (the batch partition) and
/// a grouped conv (weights not packed, same gather).
#[test]
fn conv_constant_weights_gathered() {
    let f = DType::F32;
    let mut rng = Rng::new(32);
    let cases: [([usize; 4], [usize; 4], [usize; 2], [usize; 4], [usize; 2], usize); 5] = [
        ([1, 5, 19, 17], [14, 5, 3, 3], [1, 1], [1; 4], [1, 1], 1),
        ([1, 3, 23, 21], [8, 3, 5, 4], [2, 2], [2, 1, 0, 3], [1, 1], 1),
        ([1, 32, 17, 16], [13, 32, 3, 3], [1, 1], [2; 4], [2, 2], 1),
        ([5, 4, 9, 8], [7, 4, 3, 3], [1, 1], [1; 4], [1, 1], 1),
        ([1, 6, 18, 18], [9, 2, 3, 3], [1, 1], [1; 4], [1, 1], 3),
    ];
    for (i, (x, w, strides, pads, dilations, group)) in cases.into_iter().enumerate() {
        let wt = random(&mut rng, f, &w);
        let bt = random(&mut rng, f, &[w[0]]);
        let op = Op::Conv { strides: strides.to_vec(), pads: pads.to_vec(), dilations: dilations.to_vec(), group };
        let g = build(&format!("conv_const_{i}"), &[ty(f, &x)], |g, xs| {
            let (wc, bc) = (g.add_constant("w", wt.clone()), g.add_constant("b", bt.clone()));
            let y = node(g, op.clone(), &[xs[0], wc, bc])[0];
            vec![node(g, Op::Unary(kiln_ir::UnaryOp::Relu), &[y])[0]]
        });
        let l = check_graph(&g, &[random(&mut rng, f, &x)], 1e-5);
        if group == 1 {
            let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
            let want = 4 * kiln_codegen::lower::gemm_pack::packed_a_len(lanes, w[0], w[1] * w[2] * w[3]);
            assert!(l.meta.buffers.iter().any(|b| b.size_bytes == want), "{}: weights not packed", g.name);
        }
    }
}

/// Unpadded stride-1 convolutions run directly, reading each patch row in place
/// (`lower::conv_direct`): constant weights packed as one depth block, or weights computed at
/// run time; one output strip or many (the column split), a partial last strip, M % 6 from 1
/// to 4, dilation, a non-square kernel, a 1x1 kernel, five images (the image split), a Pad in
/// front (as conv-pad-input writes it), and a residual Add + Relu epilogue over the pixels
/// (which the strips' columns map onto with W - OW dropped per row). The last six take the
/// other orientation on AVX-512 (`lower::conv_pixel_rows`: pixels as rows, channels along the
/// vectors, scattered): a 7x7 output, dilation with a non-square image, a partial last channel
/// strip, five images (split by image), two images (looped), a pointwise conv, several depth
/// blocks and pixel-tile groups.
#[test]
fn conv_direct_unpadded_stride1() {
    use kiln_codegen::lower::conv_pixel_rows as pixel_rows;
    let f = DType::F32;
    let mut rng = Rng::new(33);
    let mut took_pixel_rows = 0;
    // (x, w, dilations, pad in front, weights constant)
    let cases: [([usize; 4], [usize; 4], [usize; 2], usize, bool); 15] = [
        ([1, 5, 19, 17], [14, 5, 3, 3], [1, 1], 0, true),
        ([1, 32, 20, 22], [13, 32, 3, 3], [2, 2], 0, true),
        ([5, 4, 9, 8], [7, 4, 3, 3], [1, 1], 1, true),
        ([2, 3, 40, 41], [8, 3, 3, 5], [1, 1], 0, true),
        ([1, 6, 7, 7], [64, 6, 1, 1], [1, 1], 0, true),
        ([1, 9, 12, 10], [10, 9, 3, 3], [1, 1], 1, false),
        ([1, 64, 7, 7], [66, 64, 3, 3], [1, 1], 1, true),
        ([1, 2, 3, 30], [3, 2, 3, 3], [1, 1], 0, true),
        ([1, 32, 7, 7], [64, 32, 3, 3], [1, 1], 1, true),
        ([1, 24, 14, 12], [128, 24, 3, 3], [2, 2], 2, true),
        ([1, 64, 5, 5], [120, 64, 3, 3], [1, 1], 1, true),
        ([5, 16, 6, 6], [64, 16, 3, 3], [1, 1], 1, true),
        ([2, 32, 7, 7], [64, 32, 3, 3], [1, 1], 1, true),
        ([1, 256, 7, 7], [128, 256, 1, 1], [1, 1], 0, true),
        // 43 pixel tiles in groups of 16, three depth blocks, two strips that workgroups share.
        ([1, 64, 16, 16], [128, 64, 3, 3], [1, 1], 1, true),
    ];
    for (i, (x, w, dilations, pad, constant)) in cases.into_iter().enumerate() {
        let wt = random(&mut rng, f, &w);
        let bt = random(&mut rng, f, &[w[0]]);
        let p = pad as i64;
        let (xh, xw) = (x[2] + 2 * pad, x[3] + 2 * pad);
        let (oh, ow) = (xh - (w[2] - 1) * dilations[0], xw - (w[3] - 1) * dilations[1]);
        let y_shape = [x[0], w[0], oh, ow];
        let conv = Op::Conv { strides: vec![1, 1], pads: vec![0; 4], dilations: dilations.to_vec(), group: 1 };
        let mut ins = vec![ty(f, &x), ty(f, &y_shape)];
        if !constant {
            ins.push(ty(f, &w));
        }
        let g = build(&format!("conv_direct_{i}"), &ins, |g, xs| {
            let xin = if pad > 0 {
                let mode = kiln_ir::op::PadMode::Constant;
                node(g, Op::Pad { pads: vec![0, 0, p, p, 0, 0, p, p], mode }, &[xs[0]])[0]
            } else {
                xs[0]
            };
            let wc = if constant { g.add_constant("w", wt.clone()) } else { xs[2] };
            let bc = g.add_constant("b", bt.clone());
            let y = node(g, conv.clone(), &[xin, wc, bc])[0];
            let s = node(g, Op::Binary(kiln_ir::BinaryOp::Add), &[y, xs[1]])[0];
            vec![node(g, Op::Unary(kiln_ir::UnaryOp::Relu), &[s])[0]]
        });
        let mut inputs = vec![random(&mut rng, f, &x), random(&mut rng, f, &y_shape)];
        if !constant {
            inputs.push(wt.clone());
        }
        let l = check_graph(&g, &inputs, 1e-5);
        // Workgroups in order too: each epilogue must cover exactly its own strips' pixels.
        let want = kiln_ir::interp::evaluate(&g, &inputs).unwrap();
        assert_close(&format!("{} in order", g.name), &l.run_ordered(&inputs, &|m| m, false)[0], &want[0], 1e-5);
        if constant {
            // Packed for the orientation `conv_pixel_rows::better` picks: channel-strip panels
            // for pixel rows, row-tile micro-panels otherwise.
            let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
            let depth = w[1] * w[2] * w[3];
            let rows = pixel_rows::better(lanes, w[0], depth, [oh, ow], xw);
            took_pixel_rows += rows as usize;
            let want = 4 * if rows {
                pixel_rows::packed_len(lanes, w[0], depth)
            } else {
                kiln_codegen::lower::gemm_pack::packed_a_len(lanes, w[0], depth)
            };
            assert!(l.meta.buffers.iter().any(|b| b.size_bytes == want), "{}: weights not packed", g.name);
        }
        let kernels: Vec<&str> = l.meta.kernels.iter().map(|k| k.name.as_str()).collect();
        assert!(kernels.iter().any(|k| k.contains("conv_add_relu")), "{}: epilogue not fused: {kernels:?}", g.name);
    }
    if kiln_codegen::target::resolve("host").unwrap().f32_lanes() == 16 {
        assert!(took_pixel_rows >= 4, "only {took_pixel_rows} cases ran pixels as rows");
    }
}

/// A strided convolution as conv-space-to-depth writes it (the `s*s*C` phase channels from an
/// Im2Col of `s x s` patches, or from a Pad + Reshape/Transpose/Reshape where the frame crops; a
/// stride-1 Conv with the `ceil(k/s)` phase kernel that is zero past the original taps): the direct convolution skips the zero taps,
/// so the packed weights hold exactly the original `C*kH*kW` depth. 3x3/2 padded on an odd
/// image, a 7x7/2 stem, a 3x3/3 whose frame crops, a 2x2/2, and a 3x3/2 with 64 output channels
/// that runs pixels as rows on AVX-512, each with a residual Add + Relu.
#[test]
fn conv_direct_skips_zero_phase_taps() {
    use kiln_codegen::lower::conv_pixel_rows as pixel_rows;
    let f = DType::F32;
    let mut rng = Rng::new(35);
    // (x, w, stride, pad)
    let cases: [([usize; 4], [usize; 4], usize, usize); 5] = [
        ([1, 5, 17, 17], [14, 5, 3, 3], 2, 1),
        ([1, 3, 30, 30], [8, 3, 7, 7], 2, 3),
        ([1, 4, 13, 14], [7, 4, 3, 3], 3, 0),
        ([1, 6, 12, 12], [9, 6, 2, 2], 2, 0),
        ([1, 16, 15, 15], [64, 16, 3, 3], 2, 1),
    ];
    for (i, (x, w, s, pad)) in cases.into_iter().enumerate() {
        let wt = random(&mut rng, f, &w);
        let bt = random(&mut rng, f, &[w[0]]);
        let (c, kh, kw) = (w[1], w[2], w[3]);
        let out = |n: usize, k: usize| (n + 2 * pad - k) / s + 1;
        let (oh, ow) = (out(x[2], kh), out(x[3], kw));
        let (k2h, k2w) = (kh.div_ceil(s), kw.div_ceil(s));
        let (h2, w2) = (oh + k2h - 1, ow + k2w - 1);
        let (p, bottom, right) =
            (pad as i64, (s * h2) as i64 - (x[2] + pad) as i64, (s * w2) as i64 - (x[3] + pad) as i64);
        // Both forms conv-space-to-depth writes: the phases as Im2Col rows (channel c*s*s + ph;
        // not when the frame crops), and as SpaceToDepth channels after a Pad (ph*C + c).
        for interleaved in [true, false] {
            if interleaved && (bottom < 0 || right < 0) {
                continue;
            }
            // The phase kernel: w2[m, ch(c, by*s + bx), u, v] = w[m, c, s*u + by, s*v + bx].
            let wv = wt.to_f64_vec();
            let mut pw = vec![0.0f32; w[0] * s * s * c * k2h * k2w];
            for m in 0..w[0] {
                for ci in 0..c {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let ph = (ky % s) * s + kx % s;
                            let ch = if interleaved { ci * s * s + ph } else { ph * c + ci };
                            pw[((m * s * s * c + ch) * k2h + ky / s) * k2w + kx / s] =
                                wv[((m * c + ci) * kh + ky) * kw + kx] as f32;
                        }
                    }
                }
            }
            let pw = kiln_ir::Tensor::from_f32(&[w[0], s * s * c, k2h, k2w], pw).unwrap();
            let y_shape = [1, w[0], oh, ow];
            let g = build(&format!("conv_phases_{i}_{interleaved}"), &[ty(f, &x), ty(f, &y_shape)], |g, xs| {
                let ph = if interleaved {
                    let pads = vec![pad, pad, bottom as usize, right as usize];
                    let op = Op::Im2Col { kernel: vec![s, s], strides: vec![s, s], pads, dilations: vec![1, 1] };
                    let col = node(g, op, &[xs[0]])[0];
                    node(g, Op::Reshape { shape: vec![1, c * s * s, h2, w2] }, &[col])[0]
                } else {
                    let mode = kiln_ir::op::PadMode::Constant;
                    let xp = node(g, Op::Pad { pads: vec![0, 0, p, p, 0, 0, bottom, right], mode }, &[xs[0]])[0];
                    let b6 = node(g, Op::Reshape { shape: vec![1, c, h2, s, w2, s] }, &[xp])[0];
                    let t6 = node(g, Op::Transpose { perm: vec![0, 3, 5, 1, 2, 4] }, &[b6])[0];
                    node(g, Op::Reshape { shape: vec![1, s * s * c, h2, w2] }, &[t6])[0]
                };
                let wc = g.add_constant("w", pw.clone());
                let bc = g.add_constant("b", bt.clone());
                let conv = Op::Conv { strides: vec![1, 1], pads: vec![0; 4], dilations: vec![1, 1], group: 1 };
                let y = node(g, conv, &[ph, wc, bc])[0];
                let sum = node(g, Op::Binary(kiln_ir::BinaryOp::Add), &[y, xs[1]])[0];
                vec![node(g, Op::Unary(kiln_ir::UnaryOp::Relu), &[sum])[0]]
            });
            let inputs = vec![random(&mut rng, f, &x), random(&mut rng, f, &y_shape)];
            let l = check_graph(&g, &inputs, 1e-5);
            let want = kiln_ir::interp::evaluate(&g, &inputs).unwrap();
            assert_close(&format!("{} in order", g.name), &l.run_ordered(&inputs, &|m| m, false)[0], &want[0], 1e-5);
            let lanes = kiln_codegen::target::resolve("host").unwrap().f32_lanes();
            let depth = c * kh * kw;
            let want = 4 * if pixel_rows::better(lanes, w[0], depth, [oh, ow], w2) {
                pixel_rows::packed_len(lanes, w[0], depth)
            } else {
                kiln_codegen::lower::gemm_pack::packed_a_len(lanes, w[0], depth)
            };
            let sizes: Vec<_> = l.meta.buffers.iter().map(|b| b.size_bytes).collect();
            assert!(
                sizes.contains(&want),
                "{}: zero taps not skipped (want {want} bytes of weights): {sizes:?}",
                g.name
            );
        }
    }
}

/// Winograd F(2x2, 3x3) as the conv-winograd pass emits it (input tiles, the 16 products with
/// packed constant filters, output transform with the bias and a fused Relu): odd and even
/// output extents, uneven pads, two images, a tile row longer than the unrolled vectors.
#[test]
fn winograd_stages() {
    let f = DType::F32;
    let mut rng = Rng::new(41);
    let cases: [([usize; 4], usize, [usize; 4], bool); 4] = [
        ([1, 8, 13, 13], 6, [1, 0, 1, 1], true),
        ([2, 5, 9, 10], 7, [1, 1, 1, 1], true),
        ([1, 3, 6, 150], 4, [0, 2, 1, 0], false),
        ([1, 16, 14, 14], 16, [1, 1, 1, 1], true),
    ];
    for (i, (x, m, pads, bias)) in cases.into_iter().enumerate() {
        let [oh, ow] = kiln_ir::ops::winograd::out_extents("t", [x[2], x[3]], &pads).unwrap();
        let w = random(&mut rng, f, &[m, x[1], 3, 3]);
        let u = kiln_ir::ops::winograd::filter(&w.to_f64_vec(), m, x[1]);
        let u = std::sync::Arc::new(
            kiln_ir::Tensor::from_f32(&[16, m, x[1]], u.into_iter().map(|v| v as f32).collect()).unwrap(),
        );
        let bt = random(&mut rng, f, &[m]);
        let g = build(&format!("winograd_{i}"), &[ty(f, &x)], |g, xs| {
            let v = node(g, Op::WinogradInput { pads: pads.to_vec() }, &[xs[0]])[0];
            let uc = g.add_constant("u", u.clone());
            let p = node(g, Op::MatMul, &[uc, v])[0];
            let mut oin = vec![p];
            if bias {
                oin.push(g.add_constant("b", bt.clone()));
            }
            let y = node(g, Op::WinogradOutput { out: vec![oh, ow] }, &oin)[0];
            vec![node(g, Op::Unary(kiln_ir::UnaryOp::Relu), &[y])[0]]
        });
        check_graph(&g, &[random(&mut rng, f, &x)], 1e-5);
    }
}
