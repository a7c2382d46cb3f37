//! The per-axis arithmetic of Resize, computed at import (the output shape is static): for each
//! output position along one axis, the source indices and weights of its taps (1 nearest,
//! 2 linear, 4 cubic). A port of the vectorized ONNX reference (`_interpolate_1d_along_axis`):
//! source coordinate per `coordinate_transformation_mode`, ratio in (0, 1], coefficients, the
//! n nearest neighbours with ties to the smaller index, `exclude_outside` renormalization, and
//! edge clamping. `tf_crop_and_resize` positions outside the input are flagged for the
//! extrapolation value.

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Coord {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    /// Region of interest `[start, end]` of the axis, as fractions of `I - 1`.
    TfCropAndResize(f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nearest {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
    /// onnxruntime's Resize-10 / Upsample rule: floor when upsampling, ceil when downsampling.
    Simple,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Nearest(Nearest),
    Linear,
    Cubic { a: f64, exclude_outside: bool },
}

/// Taps of one axis: `index[o * taps + t]`, `weight[o * taps + t]`, `outside[o]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Taps {
    pub taps: usize,
    pub index: Vec<i64>,
    pub weight: Vec<f64>,
    pub outside: Vec<bool>,
}

impl Coord {
    /// Source coordinate of output index `y` for input size `i`, output size `o`, scale `s`.
    fn source(self, y: f64, i: usize, o: usize, s: f64) -> f64 {
        let (fi, fo) = (i as f64, s * i as f64);
        match self {
            Coord::HalfPixel => (y + 0.5) / s - 0.5,
            Coord::HalfPixelSymmetric => {
                let adjustment = o as f64 / fo;
                let offset = fi / 2.0 * (1.0 - adjustment);
                offset + (y + 0.5) / s - 0.5
            }
            Coord::PytorchHalfPixel if fo == 1.0 => -0.5,
            Coord::PytorchHalfPixel => (y + 0.5) / s - 0.5,
            Coord::AlignCorners if fo == 1.0 => 0.0,
            Coord::AlignCorners => y * (fi - 1.0) / (fo - 1.0),
            Coord::Asymmetric => y / s,
            Coord::TfCropAndResize(start, end) => {
                let x = if fo == 1.0 {
                    (end - start) * (fi - 1.0) / 2.0
                } else {
                    y * (end - start) * (fi - 1.0) / (fo - 1.0)
                };
                x + start * (fi - 1.0)
            }
        }
    }
}

fn nearest_coeffs(ratio: f64, mode: Nearest, s: f64) -> Vec<f64> {
    if ratio.fract() == 0.0 {
        return vec![0.0, 1.0];
    }
    let right = match mode {
        Nearest::RoundPreferFloor => ratio > 0.5,
        Nearest::RoundPreferCeil => ratio >= 0.5,
        Nearest::Floor => false,
        Nearest::Ceil => true,
        Nearest::Simple => s < 1.0,
    };
    vec![!right as u8 as f64, right as u8 as f64]
}

fn cubic_coeffs(r: f64, a: f64) -> Vec<f64> {
    let (p, q) = (r + 1.0, 2.0 - r);
    vec![
        ((a * p - 5.0 * a) * p + 8.0 * a) * p - 4.0 * a,
        ((a + 2.0) * r - (a + 3.0)) * r * r + 1.0,
        ((a + 2.0) * (1.0 - r) - (a + 3.0)) * (1.0 - r) * (1.0 - r) + 1.0,
        ((a * q - 5.0 * a) * q + 8.0 * a) * q - 4.0 * a,
    ]
}

/// Taps for resizing an axis of size `i` to `o` with scale `s` (> 0).
pub fn taps(mode: Mode, coord: Coord, i: usize, o: usize, s: f64) -> Taps {
    let n = match mode {
        Mode::Nearest(_) | Mode::Linear => 2,
        Mode::Cubic { .. } => 4,
    };
    let mut out =
        Taps { taps: n, index: Vec::with_capacity(o * n), weight: Vec::with_capacity(o * n), outside: vec![] };
    let last = i.saturating_sub(1) as i64;
    for y in 0..o {
        let x = coord.source(y as f64, i, o, s);
        out.outside.push(matches!(coord, Coord::TfCropAndResize(..)) && (x < 0.0 || x > last as f64));
        let ratio = if x == x.floor() { 1.0 } else { x - x.floor() };
        let mut c = match mode {
            Mode::Nearest(m) => nearest_coeffs(ratio, m, s),
            Mode::Linear => vec![1.0 - ratio, ratio],
            Mode::Cubic { a, .. } => cubic_coeffs(ratio, a),
        };
        let pad = n.div_ceil(2) as f64;
        let xp = x + pad;
        let p = xp.floor();
        let frac = xp - p;
        let half = (n / 2) as i64;
        let offset = if frac == 0.0 { -half } else { -half + 1 };
        let start = p as i64 + offset - pad as i64;
        let idx: Vec<i64> = (0..n as i64).map(|t| start + t).collect();
        if let Mode::Cubic { exclude_outside: true, .. } = mode {
            for (w, k) in c.iter_mut().zip(&idx) {
                if *k < 0 || *k > last {
                    *w = 0.0;
                }
            }
            let sum: f64 = c.iter().sum();
            let sum = if sum == 0.0 { 1.0 } else { sum };
            c.iter_mut().for_each(|w| *w /= sum);
        }
        out.index.extend(idx.iter().map(|k| (*k).clamp(0, last)));
        out.weight.extend(c);
    }
    out
}

/// For nearest modes: the one source index per output position (the tap of weight 1).
pub fn nearest_indices(t: &Taps) -> Vec<i64> {
    t.index.chunks(t.taps).zip(t.weight.chunks(t.taps)).map(|(ix, w)| if w[0] > w[1] { ix[0] } else { ix[1] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_upsample_by_two_half_pixel_repeats() {
        let t = taps(Mode::Nearest(Nearest::RoundPreferFloor), Coord::HalfPixel, 2, 4, 2.0);
        // x = -0.25, 0.25, 0.75, 1.25 -> 0, 0, 1, 1
        assert_eq!(nearest_indices(&t), vec![0, 0, 1, 1]);
    }

    #[test]
    fn nearest_simple_floors_when_upsampling_by_three() {
        let t = taps(Mode::Nearest(Nearest::Simple), Coord::Asymmetric, 2, 6, 3.0);
        assert_eq!(nearest_indices(&t), vec![0, 0, 0, 1, 1, 1]);
    }

    #[test]
    fn linear_half_pixel_weights_and_edge_clamp() {
        let t = taps(Mode::Linear, Coord::HalfPixel, 2, 4, 2.0);
        // x = -0.25: taps (-1 -> 0, 0) weights (0.25, 0.75); x = 0.25: (0, 1) (0.75, 0.25)
        assert_eq!(&t.index[..4], &[0, 0, 0, 1]);
        assert_eq!(&t.weight[..4], &[0.25, 0.75, 0.75, 0.25]);
        // x = 1.25: taps (1, 2 -> 1)
        assert_eq!(&t.index[6..], &[1, 1]);
    }

    #[test]
    fn align_corners_hits_both_ends() {
        let t = taps(Mode::Linear, Coord::AlignCorners, 3, 5, 5.0 / 3.0);
        // x = 0, 0.5, 1, 1.5, 2; integer x takes weight 1 on the right tap (x itself).
        assert_eq!(&t.index[..2], &[0, 0]);
        assert_eq!(&t.weight[..2], &[0.0, 1.0]);
        assert_eq!(&t.index[2..4], &[0, 1]);
        assert_eq!(&t.weight[2..4], &[0.5, 0.5]);
        assert_eq!(&t.index[8..], &[1, 2]);
        assert_eq!(&t.weight[8..], &[0.0, 1.0]);
    }

    #[test]
    fn cubic_weights_sum_to_one() {
        let t = taps(Mode::Cubic { a: -0.75, exclude_outside: false }, Coord::HalfPixel, 4, 8, 2.0);
        for w in t.weight.chunks(4) {
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{w:?}");
        }
        // x = 0.75 (y = 2): taps 0..=3 around it.
        assert_eq!(&t.index[8..12], &[0, 0, 1, 2]);
    }

    #[test]
    fn tf_crop_flags_outside_positions() {
        let t = taps(Mode::Linear, Coord::TfCropAndResize(0.4, 1.2), 4, 3, 0.75);
        // x = 1.2, 2.4, 3.6 (> 3): the last is outside.
        assert_eq!(t.outside, vec![false, false, true]);
    }
}
