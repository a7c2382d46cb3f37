//! kiln ONNX frontend (TODO)
