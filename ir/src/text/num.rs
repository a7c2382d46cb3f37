//! Bit-exact number spelling: floats print shortest-round-trip (`{:?}`), `inf`, `-inf`, `nan`
//! for the canonical quiet NaN and MLIR-style hex bits (`0x7FC00001`) for any other NaN. f16 and
//! bf16 print as the f32 they widen to exactly (so round trips are exact) and parse through f32.

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

macro_rules! half_num {
    ($fmt:ident, $parse:ident, $t:ty) => {
        pub fn $fmt(v: $t) -> String {
            if v.is_nan() && v.to_bits() != <$t>::NAN.to_bits() {
                format!("0x{:04X}", v.to_bits())
            } else {
                fmt_f32(if v.is_nan() { f32::NAN } else { v.to_f32() })
            }
        }

        pub fn $parse(w: &str) -> Option<$t> {
            match w {
                "nan" => Some(<$t>::NAN),
                _ => match w.strip_prefix("0x") {
                    Some(h) if h.len() == 4 => u16::from_str_radix(h, 16).ok().map(<$t>::from_bits),
                    Some(_) => None,
                    None => w.parse::<f32>().ok().map(<$t>::from_f32),
                },
            }
        }
    };
}
half_num!(fmt_f16, parse_f16, half::f16);
half_num!(fmt_bf16, parse_bf16, half::bf16);

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
        for bits in [0x0000u16, 0x8000, 0x0001, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7D01, 0x3555] {
            let v = half::f16::from_bits(bits);
            assert_eq!(parse_f16(&fmt_f16(v)).map(half::f16::to_bits), Some(bits), "{}", fmt_f16(v));
            let v = half::bf16::from_bits(bits);
            assert_eq!(parse_bf16(&fmt_bf16(v)).map(half::bf16::to_bits), Some(bits), "{}", fmt_bf16(v));
        }
        assert_eq!(fmt_f16(half::f16::from_f32(0.5)), "0.5");
        assert_eq!(fmt_bf16(half::bf16::from_bits(0x7FC0)), "nan");
        assert_eq!(fmt_f16(half::f16::from_bits(0x7D01)), "0x7D01");
    }
}
