//! Strided reads of one input row as contiguous vector loads: `W` columns `b + sw*i` of a row
//! at column stride 1 or 2 come from `sw` contiguous masked loads from column `b`, every `sw`-th
//! lane kept (a shuffle keeping the even lanes of two vectors at stride 2), instead of a gather.
//! MaxPool's windows and Im2Col's patch rows read their input this way.

use super::gemm_pack::IdxVec;
use crate::emit::{Kernel, Mem};

/// The `W` values at columns `b + sw*i` (`i < W`) of the row that starts at flat index `rbase`
/// of `flat`, a row `w` wide: `fill` (a vector constant) where the column lies outside
/// `[0, w)` or the lane of `row_ok` is false. `sw` is 1 or 2.
#[allow(clippy::too_many_arguments)]
pub fn strided(
    k: &mut Kernel,
    flat: &Mem,
    rbase: &str,
    b: &str,
    w: usize,
    sw: usize,
    row_ok: &str,
    fill: &str,
) -> String {
    debug_assert!(sw == 1 || sw == 2);
    let lanes = k.f32_lanes;
    let (vty, mty, ity) =
        (format!("vector<{lanes}xf32>"), format!("vector<{lanes}xi1>"), format!("vector<{lanes}xi32>"));
    let iota = IdxVec::new(lanes, "i32").lanes(k, 1);
    let zc = k.b.typed_const("dense<0>", &ity);
    let wc = k.b.typed_const(&format!("dense<{w}>"), &ity);
    let parts: Vec<String> = (0..sw)
        .map(|v| {
            let start = k.b.affine(b, 1, (v * lanes) as i64);
            let s32 = k.b.op(format!("arith.index_cast {start} : index to i32"));
            let sv = k.b.op(format!("vector.broadcast {s32} : i32 to {ity}"));
            let iw = k.b.op(format!("arith.addi {sv}, {iota} : {ity}"));
            let ge = k.b.op(format!("arith.cmpi sge, {iw}, {zc} : {ity}"));
            let lt = k.b.op(format!("arith.cmpi slt, {iw}, {wc} : {ity}"));
            let m = k.b.op(format!("arith.andi {ge}, {lt} : {mty}"));
            let m = k.b.op(format!("arith.andi {m}, {row_ok} : {mty}"));
            let at = k.b.iadd(rbase, &start);
            k.b.op(format!(
                "vector.maskedload {}[{at}], {m}, {fill} : {}, {mty}, {vty} into {vty}",
                flat.name,
                flat.memref_ty()
            ))
        })
        .collect();
    if sw == 1 {
        return parts[0].clone();
    }
    let even: Vec<String> = (0..lanes).map(|i| (2 * i).to_string()).collect();
    k.b.op(format!("vector.shuffle {}, {} [{}] : {vty}, {vty}", parts[0], parts[1], even.join(", ")))
}
