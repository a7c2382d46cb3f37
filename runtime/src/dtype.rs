//! Element types the runtime moves across its API: the one definition in kiln-abi (names as in
//! artifact metadata, byte sizes, and the C API codes `KILN_F32` = 0, ...).

pub use kiln_abi::DType;

#[cfg(test)]
mod tests {
    use super::DType;

    /// `include/kiln.h` declares `KILN_<NAME> = <code>` for every dtype, with the codes of
    /// [`DType::code`].
    #[test]
    fn header_codes_match() {
        let h = include_str!("../include/kiln.h");
        for d in DType::ALL {
            let decl = format!("KILN_{} = {}", d.name().to_uppercase(), d.code());
            assert!(h.contains(&format!("{decl},")) || h.contains(&format!("{decl}\n")), "kiln.h lacks {decl}");
        }
        assert_eq!(h.matches("    KILN_").count(), DType::ALL.len(), "kiln.h declares another dtype");
    }
}
