//! f32 `exp`, `erf` and `tanh` as straight-line arithmetic (range reduction plus a polynomial, or
//! a rational approximation) instead of libm calls, so the loops that use them (Softmax,
//! Sigmoid, SiLU, GELU, Tanh, Exp) vectorize. f64 keeps the `math` dialect ops.
//!
//! - `exp`: Cephes `expf`: `n = round(x log2 e)`, `r = x - n ln 2` (ln 2 split in two parts for
//!   exactness), a degree-5 polynomial for `e^r`, times `2^n` built in the exponent bits.
//!   Relative error below 2e-7 on [-87, 88.7], denormal results below (to 0 under -103.97), +inf
//!   above 88.7228, NaN stays NaN.
//! - `erf`: the odd/even rational approximation used by Eigen and XLA on [-4, 4] (erf is +-1 in
//!   f32 outside); absolute error below 5e-7.
//! - `tanh`: Eigen's rational approximation on [-7.9053, 7.9053] (+-1 outside), `x` itself for
//!   `|x| < 4e-4`; relative error below 4e-7.

use super::builder::Builder;

/// Below this `e^x` rounds to 0 in f32.
const EXP_LO: f32 = -103.972_08;
/// Above this `e^x` rounds to +inf in f32.
const EXP_HI: f32 = 88.722_84;

impl Builder {
    fn f(&mut self, v: f32) -> String {
        self.cst_f32(v)
    }

    fn fma_f32(&mut self, a: &str, b: &str, c: &str) -> String {
        self.op(format!("math.fma {a}, {b}, {c} : f32"))
    }

    /// Horner evaluation of `coeffs` (highest degree first) at `x`.
    fn horner(&mut self, x: &str, coeffs: &[f32]) -> String {
        let mut acc = self.f(coeffs[0]);
        for c in &coeffs[1..] {
            let cv = self.f(*c);
            acc = self.fma_f32(&acc, x, &cv);
        }
        acc
    }

    fn fclamp(&mut self, x: &str, lo: f32, hi: f32) -> String {
        let (l, h) = (self.f(lo), self.f(hi));
        let a = self.op(format!("arith.maximumf {x}, {l} : f32"));
        self.op(format!("arith.minimumf {a}, {h} : f32"))
    }

    pub fn exp_f32(&mut self, x: &str) -> String {
        let c = self.fclamp(x, EXP_LO, EXP_HI);
        let (log2e, half) = (self.f(std::f32::consts::LOG2_E), self.f(0.5));
        let t = self.fma_f32(&c, &log2e, &half);
        let n = self.op(format!("math.floor {t} : f32"));
        let (c1, c2) = (self.f(-0.693_359_4), self.f(2.121_944_4e-4));
        let r = self.fma_f32(&n, &c1, &c);
        let r = self.fma_f32(&n, &c2, &r);
        let p = self.horner(&r, &[1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5]);
        let r2 = self.op(format!("arith.mulf {r}, {r} : f32"));
        let y = self.fma_f32(&p, &r2, &r);
        let one = self.f(1.0);
        let mut y = self.op(format!("arith.addf {y}, {one} : f32"));
        // 2^n as 2^(n>>1) * 2^(n - (n>>1)): both halves stay normal for n in [-150, 128], so
        // results near overflow and in the denormal range come out right.
        let ni = self.op(format!("arith.fptosi {n} : f32 to i32"));
        let one_i = self.constant_i32(1);
        let n1 = self.op(format!("arith.shrsi {ni}, {one_i} : i32"));
        let n2 = self.op(format!("arith.subi {ni}, {n1} : i32"));
        for part in [n1, n2] {
            let bias = self.constant_i32(127);
            let e = self.op(format!("arith.addi {part}, {bias} : i32"));
            let sh = self.constant_i32(23);
            let bits = self.op(format!("arith.shli {e}, {sh} : i32"));
            let scale = self.op(format!("arith.bitcast {bits} : i32 to f32"));
            y = self.op(format!("arith.mulf {y}, {scale} : f32"));
        }
        // Edges: underflow to 0, overflow to inf, NaN through.
        let (lo, hi, zero, inf) = (self.f(EXP_LO), self.f(EXP_HI), self.f(0.0), self.f(f32::INFINITY));
        let under = self.op(format!("arith.cmpf olt, {x}, {lo} : f32"));
        let y = self.op(format!("arith.select {under}, {zero}, {y} : f32"));
        let over = self.op(format!("arith.cmpf ogt, {x}, {hi} : f32"));
        let y = self.op(format!("arith.select {over}, {inf}, {y} : f32"));
        let nan = self.op(format!("arith.cmpf uno, {x}, {x} : f32"));
        self.op(format!("arith.select {nan}, {x}, {y} : f32"))
    }

    /// An odd function as `x P(x^2) / Q(x^2)` on `[-edge, edge]` (coefficients highest degree
    /// first), exactly `+-1` from `|x| >= edge` on (where the f32 function rounds to it; so
    /// GELU(-inf) is NaN, as `0.5x(1 + erf(x))` is), `x` itself for `|x| < tiny`.
    fn odd_rational(&mut self, x: &str, edge: f32, tiny: f32, p: &[f32], q: &[f32]) -> String {
        let c = self.fclamp(x, -edge, edge);
        let x2 = self.op(format!("arith.mulf {c}, {c} : f32"));
        let pv = self.horner(&x2, p);
        let pv = self.op(format!("arith.mulf {c}, {pv} : f32"));
        let qv = self.horner(&x2, q);
        let r = self.op(format!("arith.divf {pv}, {qv} : f32"));
        let ax = self.op(format!("math.absf {x} : f32"));
        let r = if tiny > 0.0 {
            let t = self.f(tiny);
            let small = self.op(format!("arith.cmpf olt, {ax}, {t} : f32"));
            self.op(format!("arith.select {small}, {x}, {r} : f32"))
        } else {
            r
        };
        let (e, one) = (self.f(edge), self.f(1.0));
        let big = self.op(format!("arith.cmpf oge, {ax}, {e} : f32"));
        let s = self.op(format!("math.copysign {one}, {x} : f32"));
        self.op(format!("arith.select {big}, {s}, {r} : f32"))
    }

    pub fn erf_f32(&mut self, x: &str) -> String {
        #[rustfmt::skip]
        let p = [-2.726_142_3e-10, 2.770_681_4e-8, -2.101_024_1e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_6e-3, -1.609_603_3e-2];
        let q = [-1.456_607_2e-5, -2.133_740_5e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2];
        self.odd_rational(x, 4.0, 0.0, &p, &q)
    }

    pub fn tanh_f32(&mut self, x: &str) -> String {
        #[rustfmt::skip]
        let p = [-2.760_768_5e-16, 2.000_187_9e-13, -8.604_671_5e-11, 5.122_297e-8, 1.485_722_4e-5, 6.372_619_3e-4, 4.893_524_6e-3];
        let q = [1.198_258_4e-6, 1.185_347_1e-4, 2.268_434_6e-3, 4.893_525e-3];
        self.odd_rational(x, 7.905_311, 4e-4, &p, &q)
    }
}
