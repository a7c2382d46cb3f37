//! Bit-exact number spelling: floats print shortest-round-trip (`{:?}`), `inf`, `-inf`, `nan`
//! for the canonical quiet NaN and MLIR-style hex bits (`0x7FC00001`) for any other NaN.

pub fn fmt_f32(v: f32) -> String {
    if v.is_nan() {
        if v.to_bits() == f32::NAN.to_bits() {
            "nan".into()
        } else {
            format!("0x{:08X}", v.to_bits())
        }
    } else {
        format!("{v:?}")
    }
}

pub fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        if v.to_bits() == f64::NAN.to_bits() {
            "nan".into()
        } else {
            format!("0x{:016X}", v.to_bits())
        }
    } else {
        format!("{v:?}")
    }
}

pub fn parse_f32(w: &str) -> Option<f32> {
    match w {
        "nan" => Some(f32::NAN),
        _ => match w.strip_prefix("0x") {
            Some(h) if h.len() == 8 => u32::from_str_radix(h, 16).ok().map(f32::from_bits),
            Some(_) => None,
            None => w.parse().ok(),
        },
    }
}

pub fn parse_f64(w: &str) -> Option<f64> {
    match w {
        "nan" => Some(f64::NAN),
        _ => match w.strip_prefix("0x") {
            Some(h) if h.len() == 16 => u64::from_str_radix(h, 16).ok().map(f64::from_bits),
            Some(_) => None,
            None => w.parse().ok(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bits() {
        for v in
            [0.1f32, -0.0, 1e-45, f32::MAX, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::from_bits(0xFFC0_0001)]
        {
            let s = fmt_f32(v);
            assert_eq!(parse_f32(&s).map(f32::to_bits), Some(v.to_bits()), "{s}");
        }
        for v in [0.1f64, -0.0, 5e-324, f64::NAN, f64::from_bits(0x7FF0_0000_0000_0001)] {
            let s = fmt_f64(v);
            assert_eq!(parse_f64(&s).map(f64::to_bits), Some(v.to_bits()), "{s}");
        }
        assert_eq!(fmt_f32(1.0), "1.0");
        assert_eq!(fmt_f32(1e-3), "0.001");
        assert_eq!(fmt_f32(f32::from_bits(0x7FC0_0001)), "0x7FC00001");
    }
}
