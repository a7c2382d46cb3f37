#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), then every crate's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export KILN_PYTHON="$PWD/.venv/bin/python"
# The ONNX backend node test data shipped in the onnx 1.22 wheel (frontend tests read a few cases).
KILN_ONNX_NODE_DATA="$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node"))')"
export KILN_ONNX_NODE_DATA
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast 2>&1 | tee target/test.log
