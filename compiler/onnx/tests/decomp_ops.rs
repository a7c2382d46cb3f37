//! ONNX ops imported as compositions of IR ops: each model is imported and evaluated with the IR
//! interpreter against hand-computed values or onnxruntime 1.31 outputs (pasted).

mod common;
use common::*;
use kiln_ir::Tensor;

fn t32(shape: &[usize], v: &[f32]) -> Tensor {
    Tensor::from_f32(shape, v.to_vec()).unwrap()
}

/// One-node model `op(inputs) -> y` at `opset`, run on `feeds` (graph inputs, in order).
fn one_node(
    opset: i64,
    op: &str,
    inputs: &[(&str, &[usize])],
    inits: Vec<kiln_onnx::proto::TensorProto>,
    node_inputs: &[&str],
    attrs: Vec<kiln_onnx::proto::AttributeProto>,
) -> ModelBuilder {
    let mut b = ModelBuilder::new(opset);
    for (name, dims) in inputs {
        b = b.input(name, F32, dims);
    }
    for t in inits {
        b = b.init(t);
    }
    b.node(op, node_inputs, &["y"], attrs).output("y")
}

fn eval1(b: ModelBuilder, feeds: &[Tensor]) -> Tensor {
    let g = b.import().unwrap_or_else(|e| panic!("import failed: {e}"));
    run(&g, feeds).remove(0)
}

// ---- normalizations --------------------------------------------------------------------------

#[test]
fn instance_norm_per_channel_scale_and_bias() {
    let b = one_node(
        22,
        "InstanceNormalization",
        &[("x", &[1, 2, 1, 3])],
        vec![tf32("s", &[2], &[2.0, 1.0]), tf32("b", &[2], &[0.0, 1.0])],
        &["x", "s", "b"],
        vec![a_float("epsilon", 0.0)],
    );
    // channel 0 [1,2,3]: mean 2, var 2/3 -> +-1.2247449 * 2; channel 1 [2,4,6] -> +-1.2247449 + 1
    let y = eval1(b, &[t32(&[1, 2, 1, 3], &[1., 2., 3., 2., 4., 6.])]);
    assert_close(&y, &[1, 2, 1, 3], &[-2.4494897, 0.0, 2.4494897, -0.2247449, 1.0, 2.2247449]);
}

#[test]
fn group_norm_scale_per_group_before_21_per_channel_after() {
    let x = t32(&[1, 4, 1, 1], &[1., 2., 3., 4.]);
    // Groups [1, 2] and [3, 4] both normalize to [-1, 1] (epsilon 0).
    let b18 = one_node(
        18,
        "GroupNormalization",
        &[("x", &[1, 4, 1, 1])],
        vec![tf32("s", &[2], &[2.0, 3.0]), tf32("b", &[2], &[0.0, 1.0])],
        &["x", "s", "b"],
        vec![a_int("num_groups", 2), a_float("epsilon", 0.0)],
    );
    assert_close(&eval1(b18, &[x.clone()]), &[1, 4, 1, 1], &[-2.0, 2.0, -2.0, 4.0]);
    let b21 = one_node(
        21,
        "GroupNormalization",
        &[("x", &[1, 4, 1, 1])],
        vec![tf32("s", &[4], &[1.0, 2.0, 3.0, 4.0]), tf32("b", &[4], &[0.0, 0.0, 0.0, 1.0])],
        &["x", "s", "b"],
        vec![a_int("num_groups", 2), a_float("epsilon", 0.0)],
    );
    assert_close(&eval1(b21, &[x]), &[1, 4, 1, 1], &[-1.0, 2.0, -3.0, 5.0]);
}

#[test]
fn group_norm_rejects_per_channel_scale_at_opset_18() {
    let e = one_node(
        18,
        "GroupNormalization",
        &[("x", &[1, 4, 1, 1])],
        vec![tf32("s", &[4], &[1.0; 4]), tf32("b", &[4], &[0.0; 4])],
        &["x", "s", "b"],
        vec![a_int("num_groups", 2)],
    )
    .import()
    .unwrap_err();
    assert!(e.to_string().contains("scale must have shape [2]"), "{e}");
}

#[test]
fn rms_norm_last_axis() {
    let b = one_node(
        23,
        "RMSNormalization",
        &[("x", &[2, 2])],
        vec![tf32("s", &[2], &[1.0, 2.0])],
        &["x", "s"],
        vec![a_float("epsilon", 0.0)],
    );
    // row [3, 4]: rms sqrt(12.5) = 3.5355339; row [1, 1]: rms 1
    let y = eval1(b, &[t32(&[2, 2], &[3., 4., 1., 1.])]);
    assert_close(&y, &[2, 2], &[0.8485281, 2.2627417, 1.0, 2.0]);
}

#[test]
fn mean_variance_norm_over_given_axes() {
    let b =
        one_node(13, "MeanVarianceNormalization", &[("x", &[1, 1, 1, 4])], vec![], &["x"], vec![a_ints("axes", &[3])]);
    // mean 2.5, std sqrt(1.25) = 1.1180340
    let y = eval1(b, &[t32(&[1, 1, 1, 4], &[1., 2., 3., 4.])]);
    assert_close(&y, &[1, 1, 1, 4], &[-1.3416408, -0.4472136, 0.4472136, 1.3416408]);
}

#[test]
fn lp_norm_p1_and_p2() {
    let x = t32(&[2, 2], &[3., -4., 0., 2.]);
    let b2 = one_node(22, "LpNormalization", &[("x", &[2, 2])], vec![], &["x"], vec![]);
    assert_close(&eval1(b2, &[x.clone()]), &[2, 2], &[0.6, -0.8, 0.0, 1.0]);
    let b1 = one_node(22, "LpNormalization", &[("x", &[2, 2])], vec![], &["x"], vec![a_int("p", 1), a_int("axis", 1)]);
    assert_close(&eval1(b1, &[x]), &[2, 2], &[3. / 7., -4. / 7., 0.0, 1.0]);
}

// ---- data movement ---------------------------------------------------------------------------

#[test]
fn depth_to_space_dcr_and_crd() {
    let x = iota(&[1, 8, 1, 1]);
    let dcr = one_node(13, "DepthToSpace", &[("x", &[1, 8, 1, 1])], vec![], &["x"], vec![a_int("blocksize", 2)]);
    // DCR: out[c, i, j] = x[(i*2 + j)*2 + c]; CRD: out[c, i, j] = x[c*4 + i*2 + j]
    assert_close(&eval1(dcr, &[x.clone()]), &[1, 2, 2, 2], &[0., 2., 4., 6., 1., 3., 5., 7.]);
    let crd = one_node(
        13,
        "DepthToSpace",
        &[("x", &[1, 8, 1, 1])],
        vec![],
        &["x"],
        vec![a_int("blocksize", 2), a_str("mode", "CRD")],
    );
    assert_close(&eval1(crd, &[x]), &[1, 2, 2, 2], &[0., 1., 2., 3., 4., 5., 6., 7.]);
}

#[test]
fn space_to_depth_inverts_depth_to_space_dcr() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[1, 8, 2, 3])
        .node("DepthToSpace", &["x"], &["d"], vec![a_int("blocksize", 2)])
        .node("SpaceToDepth", &["d"], &["y"], vec![a_int("blocksize", 2)])
        .output("y")
        .import()
        .unwrap();
    let x = iota(&[1, 8, 2, 3]);
    let y = run(&g, &[x.clone()]).remove(0);
    assert_close(&y, &[1, 8, 2, 3], &x.to_f64_vec());
}

#[test]
fn tile_repeats_each_dim() {
    let b = one_node(13, "Tile", &[("x", &[2, 1])], vec![ints("r", &[2, 3])], &["x", "r"], vec![]);
    let y = eval1(b, &[t32(&[2, 1], &[1., 2.])]);
    assert_close(&y, &[4, 3], &[1., 1., 1., 2., 2., 2., 1., 1., 1., 2., 2., 2.]);
}

#[test]
fn trilu_upper_and_lower_with_k() {
    let up = one_node(14, "Trilu", &[("x", &[3, 3])], vec![ti64("k", &[], &[1])], &["x", "k"], vec![]);
    assert_close(&eval1(up, &[iota(&[3, 3])]), &[3, 3], &[0., 1., 2., 0., 0., 5., 0., 0., 0.]);
    let low =
        one_node(14, "Trilu", &[("x", &[3, 3])], vec![ti64("k", &[], &[-1])], &["x", "k"], vec![a_int("upper", 0)]);
    assert_close(&eval1(low, &[iota(&[3, 3])]), &[3, 3], &[0., 0., 0., 3., 0., 0., 6., 7., 0.]);
    let diag = one_node(14, "Trilu", &[("x", &[2, 3])], vec![], &["x"], vec![]);
    assert_close(&eval1(diag, &[iota(&[2, 3])]), &[2, 3], &[0., 1., 2., 0., 4., 5.]);
}

#[test]
fn one_hot_runtime_indices_negative_and_out_of_range() {
    let build = |axis: i64| {
        ModelBuilder::new(11)
            .input("i", I64, &[4])
            .init(ti64("depth", &[], &[4]))
            .init(tf32("v", &[2], &[-1.0, 5.0]))
            .node("OneHot", &["i", "depth", "v"], &["y"], vec![a_int("axis", axis)])
            .output("y")
            .import()
            .unwrap()
    };
    let idx = Tensor::from_i64(&[4], vec![0, -1, 2, 7]).unwrap();
    let y = run(&build(-1), &[idx.clone()]).remove(0);
    #[rustfmt::skip]
    let want = [5., -1., -1., -1.,  -1., -1., -1., 5.,  -1., -1., 5., -1.,  -1., -1., -1., -1.];
    assert_close(&y, &[4, 4], &want);
    let y0 = run(&build(0), &[idx]).remove(0);
    let transposed: Vec<f64> = (0..16).map(|p| want[(p % 4) * 4 + p / 4]).collect();
    assert_close(&y0, &[4, 4], &transposed);
}

#[test]
fn range_and_size_fold_to_constants() {
    let g = ModelBuilder::new(13)
        .input("x", F32, &[2, 3])
        .init(ti64("a", &[], &[10]))
        .init(ti64("b", &[], &[4]))
        .init(ti64("c", &[], &[-3]))
        .init(tf32("fa", &[], &[0.5]))
        .init(tf32("fb", &[], &[2.0]))
        .init(tf32("fc", &[], &[0.5]))
        .node("Range", &["a", "b", "c"], &["r"], vec![])
        .node("Range", &["fa", "fb", "fc"], &["f"], vec![])
        .node("Size", &["x"], &["n"], vec![])
        .output("r")
        .output("f")
        .output("n")
        .import()
        .unwrap();
    assert_eq!(histogram(&g), hist(&[("Constant", 3)]));
    let out = run(&g, &[iota(&[2, 3])]);
    assert_eq!(out[0], Tensor::from_i64(&[2], vec![10, 7]).unwrap());
    assert_eq!(out[1], Tensor::from_f32(&[3], vec![0.5, 1.0, 1.5]).unwrap());
    assert_eq!(out[2], Tensor::from_i64(&[], vec![6]).unwrap());
}

#[test]
fn range_with_runtime_operand_is_a_clear_error() {
    let e = ModelBuilder::new(13)
        .input("s", F32, &[])
        .init(tf32("l", &[], &[3.0]))
        .init(tf32("d", &[], &[1.0]))
        .node("Range", &["s", "l", "d"], &["y"], vec![])
        .output("y")
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("start (input 0 's') needs a constant operand"), "{e}");
}

#[test]
fn mean_of_three() {
    let b = one_node(13, "Mean", &[("a", &[2]), ("b", &[2]), ("c", &[1])], vec![], &["a", "b", "c"], vec![]);
    let g = b.import().unwrap();
    let y = run(&g, &[t32(&[2], &[1., 2.]), t32(&[2], &[3., 4.]), t32(&[1], &[5.])]).remove(0);
    assert_close(&y, &[2], &[3.0, 11.0 / 3.0]);
}

// ---- einsum ----------------------------------------------------------------------------------

fn einsum(eq: &str, shapes: &[&[usize]], feeds: &[Tensor]) -> Tensor {
    let names = ["a", "b", "c"];
    let inputs: Vec<(&str, &[usize])> = shapes.iter().enumerate().map(|(i, s)| (names[i], *s)).collect();
    let b = one_node(12, "Einsum", &inputs, vec![], &names[..shapes.len()], vec![a_str("equation", eq)]);
    eval1(b, feeds)
}

#[test]
fn einsum_matmul_transpose_and_inner_product() {
    let a = iota(&[2, 3]);
    let b = t32(&[3, 2], &[1., 0., 0., 1., 1., 1.]);
    // a @ b: rows [0,1,2] -> [2, 3]; [3,4,5] -> [8, 9]
    assert_close(&einsum("ij,jk->ik", &[&[2, 3], &[3, 2]], &[a.clone(), b.clone()]), &[2, 2], &[2., 3., 8., 9.]);
    assert_close(&einsum("ij,jk", &[&[2, 3], &[3, 2]], &[a.clone(), b.clone()]), &[2, 2], &[2., 3., 8., 9.]);
    // (a @ b)^T via the output order
    assert_close(&einsum("ij,jk->ki", &[&[2, 3], &[3, 2]], &[a.clone(), b]), &[2, 2], &[2., 8., 3., 9.]);
    assert_close(&einsum("ij->ji", &[&[2, 3]], &[a.clone()]), &[3, 2], &[0., 3., 1., 4., 2., 5.]);
    assert_close(&einsum("ij->i", &[&[2, 3]], &[a.clone()]), &[2], &[3., 12.]);
    let v = t32(&[3], &[1., 2., 3.]);
    assert_close(&einsum("i,i", &[&[3], &[3]], &[v.clone(), v]), &[], &[14.]);
}

#[test]
fn einsum_batched_ellipsis_and_outer_products() {
    // b=2 batches of [1,2]x[2,1]
    let a = t32(&[2, 1, 2], &[1., 2., 3., 4.]);
    let b = t32(&[2, 2, 1], &[5., 6., 7., 8.]);
    assert_close(&einsum("bij,bjk->bik", &[&[2, 1, 2], &[2, 2, 1]], &[a.clone(), b.clone()]), &[2, 1, 1], &[17., 53.]);
    assert_close(&einsum("...ij,...jk->...ik", &[&[2, 1, 2], &[2, 2, 1]], &[a, b]), &[2, 1, 1], &[17., 53.]);
    let x = t32(&[2], &[1., 2.]);
    let y = t32(&[2], &[3., 4.]);
    let z = t32(&[1], &[10.]);
    let o = einsum("i,j,k->ijk", &[&[2], &[2], &[1]], &[x, y, z]);
    assert_close(&o, &[2, 2, 1], &[30., 40., 60., 80.]);
}

#[test]
fn einsum_integer_operands_use_the_general_path() {
    let g = ModelBuilder::new(12)
        .input("a", I64, &[2, 2])
        .input("b", I64, &[2, 2])
        .node("Einsum", &["a", "b"], &["y"], vec![a_str("equation", "ij,jk->ik")])
        .output("y")
        .import()
        .unwrap();
    assert!(histogram(&g).iter().all(|(op, _)| op != "MatMul"));
    let a = Tensor::from_i64(&[2, 2], vec![1, 2, 3, 4]).unwrap();
    let b = Tensor::from_i64(&[2, 2], vec![5, 6, 7, 8]).unwrap();
    assert_eq!(run(&g, &[a, b])[0], Tensor::from_i64(&[2, 2], vec![19, 22, 43, 50]).unwrap());
}

#[test]
fn einsum_diagonal_is_refused() {
    let e = one_node(12, "Einsum", &[("a", &[3, 3])], vec![], &["a"], vec![a_str("equation", "ii->i")])
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("diagonals are unsupported"), "{e}");
}

// ---- resize ----------------------------------------------------------------------------------

/// Resize-19 of `x` with constant scales or sizes (and roi), outputs from onnxruntime 1.31.
fn resize(
    x: &Tensor,
    attrs: Vec<kiln_onnx::proto::AttributeProto>,
    roi: Option<&[f32]>,
    scales: Option<&[f32]>,
    sizes: Option<&[i64]>,
) -> Tensor {
    let mut inits = Vec::new();
    let mut ins = vec!["x", "", ""];
    if let Some(r) = roi {
        inits.push(tf32("roi", &[r.len()], r));
        ins[1] = "roi";
    }
    if let Some(s) = scales {
        inits.push(tf32("scales", &[s.len()], s));
        ins[2] = "scales";
    }
    if let Some(s) = sizes {
        inits.push(ints("sizes", s));
        ins.push("sizes");
    }
    eval1(one_node(19, "Resize", &[("x", x.shape())], inits, &ins, attrs), &[x.clone()])
}

fn x4x4() -> Tensor {
    Tensor::from_f32(&[1, 1, 4, 4], (0..16).map(|i| (i as f64).powf(1.5) as f32).collect()).unwrap()
}

#[test]
fn resize_linear_half_pixel_and_align_corners() {
    let x = t32(&[1, 1, 2, 2], &[1., 2., 3., 4.]);
    let y = resize(&x, vec![a_str("mode", "linear")], None, Some(&[1., 1., 2., 2.]), None);
    #[rustfmt::skip]
    let want = [1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0];
    assert_close(&y, &[1, 1, 4, 4], &want);
    let attrs = vec![a_str("mode", "linear"), a_str("coordinate_transformation_mode", "align_corners")];
    let y = resize(&x, attrs, None, None, Some(&[1, 1, 3, 3]));
    assert_close(&y, &[1, 1, 3, 3], &[1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0]);
}

#[test]
fn resize_nearest_asymmetric_floor_fractional_scales() {
    let x = t32(&[1, 1, 2, 2], &[1., 2., 3., 4.]);
    let attrs = vec![
        a_str("mode", "nearest"),
        a_str("coordinate_transformation_mode", "asymmetric"),
        a_str("nearest_mode", "floor"),
    ];
    let y = resize(&x, attrs, None, Some(&[1., 1., 1.5, 2.5]), None);
    let want = [1., 1., 1., 2., 2., 1., 1., 1., 2., 2., 3., 3., 3., 4., 4.];
    assert_close(&y, &[1, 1, 3, 5], &want);
}

#[test]
fn resize_cubic_downsample_and_exclude_outside() {
    let y = resize(&x4x4(), vec![a_str("mode", "cubic")], None, Some(&[1., 1., 0.8, 0.6]), None);
    let want = [0.957891822, 3.89503813, 13.8693333, 20.731617, 37.0039444, 46.017868];
    assert_close(&y, &[1, 1, 3, 2], &want);
    let attrs = vec![a_str("mode", "cubic"), a_float("cubic_coeff_a", -0.5), a_int("exclude_outside", 1)];
    let y = resize(&x4x4(), attrs, None, None, Some(&[1, 1, 3, 5]));
    #[rustfmt::skip]
    let want = [
        0.696803629, 1.49555242, 2.90906143, 4.84463787, 6.62483644,
        14.4630594, 17.1090565, 20.511467, 24.1268005, 27.1730747,
        39.348526, 42.9354706, 47.4691353, 52.1714973, 56.0755997,
    ];
    assert_close(&y, &[1, 1, 3, 5], &want);
}

#[test]
fn resize_tf_crop_and_resize_extrapolates() {
    let attrs = vec![
        a_str("mode", "linear"),
        a_str("coordinate_transformation_mode", "tf_crop_and_resize"),
        a_float("extrapolation_value", -7.0),
    ];
    let roi = [0., 0., 0.4, 0.6, 1., 1., 1.2, 1.7];
    let y = resize(&x4x4(), attrs, Some(&roi), None, Some(&[1, 1, 3, 3]));
    let want = [17.3345413, -7.0, -7.0, 38.9313354, -7.0, -7.0, -7.0, -7.0, -7.0];
    assert_close(&y, &[1, 1, 3, 3], &want);
}

#[test]
fn resize_pytorch_half_pixel_symmetric_and_aspect_policy() {
    let attrs = vec![a_str("mode", "linear"), a_str("coordinate_transformation_mode", "pytorch_half_pixel")];
    let y = resize(&x4x4(), attrs, None, None, Some(&[1, 1, 1, 3]));
    assert_close(&y, &[1, 1, 1, 3], &[0.166666687, 1.91421354, 4.80153131]);
    let attrs = vec![a_str("mode", "linear"), a_str("coordinate_transformation_mode", "half_pixel_symmetric")];
    let y = resize(&x4x4(), attrs, None, Some(&[1., 1., 0.7, 1.3]), None);
    #[rustfmt::skip]
    let want = [6.28571415, 8.26838112, 10.5762615, 13.0990648, 15.6650925,
                26.6863728, 30.0274105, 33.6648788, 37.4290504, 41.113987];
    assert_close(&y, &[1, 1, 2, 5], &want);
    let attrs =
        vec![a_str("mode", "nearest"), a_str("keep_aspect_ratio_policy", "not_smaller"), a_ints("axes", &[3, 2])];
    let y = resize(&x4x4(), attrs, None, None, Some(&[3, 2]));
    let want = [0.0, 1.0, 5.19615269, 8.0, 11.1803398, 18.5202579, 41.5692215, 46.8721657, 58.0947495];
    assert_close(&y, &[1, 1, 3, 3], &want);
}

#[test]
fn resize_antialias_is_refused() {
    let e = one_node(
        19,
        "Resize",
        &[("x", &[1, 1, 4, 4])],
        vec![ints("sizes", &[1, 1, 2, 2])],
        &["x", "", "", "sizes"],
        vec![a_str("mode", "linear"), a_int("antialias", 1)],
    )
    .import()
    .unwrap_err();
    assert!(e.to_string().contains("antialias = 1 is unsupported"), "{e}");
}

#[test]
fn upsample_nearest_repeats() {
    let b = one_node(
        9,
        "Upsample",
        &[("x", &[1, 1, 2, 2])],
        vec![tf32("s", &[4], &[1., 1., 2., 3.])],
        &["x", "s"],
        vec![a_str("mode", "nearest")],
    );
    let y = eval1(b, &[t32(&[1, 1, 2, 2], &[1., 2., 3., 4.])]);
    #[rustfmt::skip]
    let want = [1., 1., 1., 2., 2., 2., 1., 1., 1., 2., 2., 2., 3., 3., 3., 4., 4., 4., 3., 3., 3., 4., 4., 4.];
    assert_close(&y, &[1, 1, 4, 6], &want);
}

// ---- attention -------------------------------------------------------------------------------

#[test]
fn attention_4d_plain_and_causal() {
    let build = |causal: i64| {
        one_node(
            23,
            "Attention",
            &[("q", &[1, 1, 1, 2]), ("k", &[1, 1, 2, 2]), ("v", &[1, 1, 2, 2])],
            vec![],
            &["q", "k", "v"],
            vec![a_int("is_causal", causal)],
        )
    };
    let q = t32(&[1, 1, 1, 2], &[1., 0.]);
    let k = t32(&[1, 1, 2, 2], &[1., 0., 0., 1.]);
    let v = t32(&[1, 1, 2, 2], &[1., 2., 3., 4.]);
    // scores [1, 0] / sqrt(2): p0 = 1 / (1 + exp(-0.70710678)) = 0.66976155
    let p0 = 1.0 / (1.0 + (-std::f64::consts::FRAC_1_SQRT_2).exp());
    let y = eval1(build(0), &[q.clone(), k.clone(), v.clone()]);
    assert_close(&y, &[1, 1, 1, 2], &[p0 + 3.0 * (1.0 - p0), 2.0 * p0 + 4.0 * (1.0 - p0)]);
    // causal, one query and no past: only key 0 is visible
    let y = eval1(build(1), &[q, k, v]);
    assert_close(&y, &[1, 1, 1, 2], &[1.0, 2.0]);
}

// ---- 1-D windows -----------------------------------------------------------------------------

#[test]
fn conv_and_pools_1d() {
    let x = iota(&[1, 1, 5]);
    let conv = one_node(
        13,
        "Conv",
        &[("x", &[1, 1, 5])],
        vec![tf32("w", &[1, 1, 3], &[1., 1., 1.])],
        &["x", "w"],
        vec![a_ints("pads", &[1, 1])],
    );
    assert_close(&eval1(conv, &[x.clone()]), &[1, 1, 5], &[1., 3., 6., 9., 7.]);
    let attrs = || vec![a_ints("kernel_shape", &[2]), a_ints("strides", &[2])];
    let mp = one_node(13, "MaxPool", &[("x", &[1, 1, 5])], vec![], &["x"], attrs());
    assert_close(&eval1(mp, &[x.clone()]), &[1, 1, 2], &[1., 3.]);
    let mut ceil = attrs();
    ceil.push(a_int("ceil_mode", 1));
    let ap = one_node(13, "AveragePool", &[("x", &[1, 1, 5])], vec![], &["x"], ceil);
    assert_close(&eval1(ap, &[x]), &[1, 1, 3], &[0.5, 2.5, 4.0]);
}

// ---- recurrent -------------------------------------------------------------------------------

/// An RNN-family model with weights as initializers; outputs named `outs`.
fn recurrent(
    op: &str,
    attrs: Vec<kiln_onnx::proto::AttributeProto>,
    x: &[usize],
    weights: &[(&str, &[usize], &[f32])],
    outs: &[&str],
) -> kiln_ir::Graph {
    let mut b = ModelBuilder::new(14).input("X", F32, x);
    let mut names = vec!["X"];
    for (n, dims, data) in weights {
        names.push(n);
        if !data.is_empty() {
            b = b.init(tf32(n, dims, data));
        }
    }
    // An empty data slice stands for an omitted optional input.
    let given = std::iter::once(true).chain(weights.iter().map(|w| !w.2.is_empty()));
    let node_inputs: Vec<&str> = names.iter().zip(given).map(|(n, g)| if g { *n } else { "" }).collect();
    b = b.node(op, &node_inputs, outs, attrs);
    for o in outs {
        b = b.output(o);
    }
    b.import().unwrap()
}

#[test]
fn lstm_bidirectional_with_peepholes_matches_onnxruntime() {
    #[rustfmt::skip]
    let w = [0.21, 0.46, 0.09, 0.87, 0.63, -0.99, 0.71, -0.93, 0.46, -0.65, 0.73, 0.08, -0.4, -0.15, -0.94, -0.75,
        0.34, 0.29, 0.23, -0.23, 0.99, 0.96, 0.37, 0.3, 0.38, -0.22, -0.73, 0.44, 0.05, -0.38, -0.03, 0.78, 0.87,
        -0.28, 0.14, -0.36, 0.19, -0.32, -0.22, 0.78, -0.55, 0.25, -0.83, 0.67, 0.57, -0.52, 0.75, -0.88];
    #[rustfmt::skip]
    let r = [-0.33, -0.7, -0.1, 0.59, -0.54, -0.9, -0.19, -0.6, -0.82, 0.16, -0.4, 0.34, -0.6, 0.88, -0.27, -0.79,
        0.26, 0.85, -0.12, 0.91, 0.0, -0.15, 0.24, 0.99, 0.9, -0.08, 0.52, -0.01, 0.06, 0.57, -0.17, 0.47];
    #[rustfmt::skip]
    let b = [0.42, 0.86, -0.77, 0.46, 0.85, 0.94, -0.97, 0.73, 0.96, 0.91, -0.7, 0.95, 0.78, 0.64, -0.04, -0.54,
        0.6, 0.85, -0.47, 0.08, -0.11, 0.86, -0.92, 0.46, 0.23, -0.94, 0.44, -0.97, 0.52, 0.03, 0.86, -0.87];
    let g = recurrent(
        "LSTM",
        vec![a_int("hidden_size", 2), a_str("direction", "bidirectional")],
        &[2, 1, 3],
        &[
            ("W", &[2, 8, 3], &w),
            ("R", &[2, 8, 2], &r),
            ("B", &[2, 16], &b),
            ("sl", &[], &[]),
            ("h0", &[2, 1, 2], &[0.68, -0.87, -0.31, -0.14]),
            ("c0", &[2, 1, 2], &[0.93, 0.12, -0.48, -0.52]),
            ("P", &[2, 6], &[0.78, -0.55, -0.75, -0.42, 0.17, 0.11, 0.62, 0.12, -0.42, -0.17, 0.64, 0.25]),
        ],
        &["Y", "Y_h", "Y_c"],
    );
    let out = run(&g, &[t32(&[2, 1, 3], &[0.27, -0.46, -0.92, -0.97, 0.63, 0.83])]);
    #[rustfmt::skip]
    let y = [-0.0276490487, 0.328994781, -0.151871443, -0.0904809907, -0.0201223101, 0.155187681, 0.0996157676,
        -0.0712329447];
    assert_close(&out[0], &[2, 2, 1, 2], &y);
    assert_close(&out[1], &[2, 1, 2], &[-0.0201223101, 0.155187681, -0.151871443, -0.0904809907]);
    assert_close(&out[2], &[2, 1, 2], &[-0.258892208, 0.17239961, -0.601742744, -0.279356211]);
}

#[test]
fn gru_reverse_linear_before_reset_matches_onnxruntime() {
    #[rustfmt::skip]
    let w = [-0.19, 0.82, -0.91, 0.65, -0.17, 0.66, -0.98, -0.27, -0.84, 0.31, -0.45, 0.41, 0.89, -0.75, 0.73,
        -0.88, -0.24, -0.14];
    let r = [-0.02, 0.95, 0.55, -0.38, -0.46, 0.73, 0.76, 0.02, -0.31, 0.99, -0.37, -0.63];
    let b = [0.76, 0.62, 0.34, 0.92, 0.85, 0.5, 0.72, -0.51, -0.72, 0.34, 0.43, -0.67];
    let g = recurrent(
        "GRU",
        vec![a_int("hidden_size", 2), a_str("direction", "reverse"), a_int("linear_before_reset", 1)],
        &[2, 1, 3],
        &[("W", &[1, 6, 3], &w), ("R", &[1, 6, 2], &r), ("B", &[1, 12], &b)],
        &["Y", "Y_h"],
    );
    let out = run(&g, &[t32(&[2, 1, 3], &[0.92, -0.26, 0.11, 0.19, 0.7, -0.71])]);
    assert_close(&out[0], &[2, 1, 1, 2], &[0.288870722, -0.267778456, 0.0112049803, -0.107702225]);
    assert_close(&out[1], &[1, 1, 2], &[0.288870722, -0.267778456]);
}

#[test]
fn rnn_clip_is_refused() {
    let e = ModelBuilder::new(14)
        .input("X", F32, &[1, 1, 1])
        .init(tf32("W", &[1, 1, 1], &[1.0]))
        .init(tf32("R", &[1, 1, 1], &[1.0]))
        .node("RNN", &["X", "W", "R"], &["Y"], vec![a_int("hidden_size", 1), a_float("clip", 1.0)])
        .output("Y")
        .import()
        .unwrap_err();
    assert!(e.to_string().contains("'clip' is unsupported"), "{e}");
}
