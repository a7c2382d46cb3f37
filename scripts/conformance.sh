#!/usr/bin/env bash
# Regenerates docs/onnx-conformance.md and tests/conformance/expected_pass.txt: runs every case of
# the onnx 1.22 backend node suite (compile -> run -> compare) with the release conformance binary.
# Extra arguments go to the binary (e.g. --jobs 4, --filter conv to look at a few cases; a filtered
# run still writes the doc and the list, so only commit full runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
KILN_ONNX_NODE_DATA="${KILN_ONNX_NODE_DATA:-$(.venv/bin/python -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node"))')}"
export KILN_ONNX_NODE_DATA
cargo build --release -q -p kiln-tests --bin conformance
exec target/release/conformance --all --jobs 2 --doc docs/onnx-conformance.md --expected tests/conformance/expected_pass.txt "$@"
