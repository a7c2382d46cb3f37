//! Generates the Rust types for the vendored `proto/onnx.proto` (onnx 1.22) with prost-build,
//! using the protoc binary shipped by the protoc-bin-vendored crate.

fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let protoc = match protoc_bin_vendored::protoc_bin_path() {
        Ok(p) => p,
        Err(e) => panic!("kiln-onnx build: no vendored protoc for this host: {e}"),
    };
    // prost-build finds protoc through PROTOC.
    std::env::set_var("PROTOC", protoc);
    if let Err(e) = prost_build::compile_protos(&["proto/onnx.proto"], &["proto/"]) {
        panic!("kiln-onnx build: compiling proto/onnx.proto failed: {e}");
    }
}
