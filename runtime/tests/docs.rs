//! docs/abi.md stays true: its example metadata parses and describes the test fixture, and the
//! descriptor offsets it states match `kiln_abi::KilnArtifact`.

mod support;

use kiln_abi::{KilnArtifact, Metadata};
use std::mem::{offset_of, size_of};

#[test]
fn example_metadata_matches_the_fixture() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/abi.md")).expect("docs/abi.md");
    let start = doc.find("```json\n").expect("a json block") + "```json\n".len();
    let len = doc[start..].find("```").expect("end of the json block");
    let meta = Metadata::from_json(&doc[start..start + len]).expect("example parses");
    let fixture = support::metadata();
    assert_eq!(meta.inputs, fixture.inputs);
    assert_eq!(meta.outputs, fixture.outputs);
    assert_eq!(meta.buffers, fixture.buffers);
    assert_eq!(meta.arena_bytes, fixture.arena_bytes);
    assert_eq!(meta.kernels, fixture.kernels);
    assert_eq!(meta.schedule, fixture.schedule);
    assert_eq!(meta.abi_version, kiln_abi::ABI_VERSION);
}

#[test]
fn descriptor_offsets() {
    assert_eq!(offset_of!(KilnArtifact, magic), 0);
    assert_eq!(offset_of!(KilnArtifact, abi_version), 4);
    assert_eq!(offset_of!(KilnArtifact, metadata_json), 8);
    assert_eq!(offset_of!(KilnArtifact, metadata_len), 16);
    assert_eq!(offset_of!(KilnArtifact, num_kernels), 24);
    assert_eq!(offset_of!(KilnArtifact, kernels), 32);
    assert_eq!(offset_of!(KilnArtifact, num_constants), 40);
    assert_eq!(offset_of!(KilnArtifact, constants), 48);
    assert_eq!(size_of::<KilnArtifact>(), 56);
    assert_eq!(kiln_abi::MAGIC, 0x4e4c494b);
}
