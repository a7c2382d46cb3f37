//! Op versions newer than opset 23, and which of them kiln implements.
//!
//! An ONNX model declares one opset; each op then has the semantics of its newest version at or
//! below it. kiln's importers implement each op up to its opset-23 version. For a model at opset 24 to
//! [`crate::MAX_OPSET`], an op is accepted when its version at that opset is one kiln implements:
//! either one whose schema differs from the opset-23 version only in type constraints (the new types
//! are refused by dtype at import), or one whose additions the importer checks (Cast/CastLike 24-25
//! add `round_mode`, which only affects float8e8m0 targets that kiln refuses; Attention 24 adds the
//! optional `nonpad_kv_seqlen`, refused when present). The table was derived from onnx 1.22's schema
//! history (`onnx.defs.get_all_schemas_with_history()`), comparing attributes, inputs and outputs.

/// Every (op, since_version) above 23 in the default domain, for ops kiln imports.
const NEWER_VERSIONS: &[(&str, i64)] = &[
    ("Attention", 24),
    ("Cast", 24),
    ("Cast", 25),
    ("CastLike", 24),
    ("CastLike", 25),
    ("Constant", 24),
    ("Constant", 25),
    ("ConstantOfShape", 24),
    ("ConstantOfShape", 25),
    ("DequantizeLinear", 24),
    ("DequantizeLinear", 25),
    ("Flatten", 24),
    ("Flatten", 25),
    ("Identity", 24),
    ("Identity", 25),
    ("If", 24),
    ("If", 25),
    ("Loop", 24),
    ("Loop", 25),
    ("Pad", 24),
    ("Pad", 25),
    ("QuantizeLinear", 24),
    ("QuantizeLinear", 25),
    ("Range", 27),
    ("Reshape", 24),
    ("Reshape", 25),
    ("Scan", 24),
    ("Scan", 25),
    ("Shape", 24),
    ("Shape", 25),
    ("Size", 24),
    ("Size", 25),
    ("Squeeze", 24),
    ("Squeeze", 25),
    ("TopK", 24),
    ("Transpose", 24),
    ("Transpose", 25),
    ("Unsqueeze", 24),
    ("Unsqueeze", 25),
];

/// Newer versions whose semantics differ in a way kiln does not implement yet.
const NOT_IMPLEMENTED: &[(&str, i64)] = &[
    // Range-27 adds `stash_type`, the precision of the accumulation.
    ("Range", 27),
];

/// The op's version at `opset` when it is newer than 23 (None: kiln's opset <= 23 semantics apply).
pub fn newer_version(op: &str, opset: i64) -> Option<i64> {
    NEWER_VERSIONS.iter().filter(|(o, v)| *o == op && *v <= opset).map(|(_, v)| *v).max()
}

/// Whether kiln implements `op` as the model's `opset` defines it.
pub fn implemented(op: &str, opset: i64) -> bool {
    match newer_version(op, opset) {
        None => true,
        Some(v) => !NOT_IMPLEMENTED.contains(&(op, v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_resolve_to_the_newest_at_or_below_the_opset() {
        assert_eq!(newer_version("Cast", 23), None);
        assert_eq!(newer_version("Cast", 24), Some(24));
        assert_eq!(newer_version("Cast", 27), Some(25));
        assert_eq!(newer_version("Relu", 27), None);
        assert!(implemented("Cast", 27));
        assert!(implemented("Range", 26));
        assert!(!implemented("Range", 27));
    }
}
