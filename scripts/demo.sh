#!/usr/bin/env bash
# The main job on the bundled example model: set-up, build kiln, compile the model, run it, and
# print its outputs and latency beside onnxruntime's on the same inputs and thread count.
# Usage: scripts/demo.sh [MODEL_DIR] [THREADS]   (default: tests/models/gpt2, 2 threads)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
model_dir="${1:-tests/models/gpt2}"
threads="${2:-2}"
cargo build --release -q -p kiln-cli
exec .venv/bin/python scripts/demo.py --kiln target/release/kiln --model-dir "$model_dir" --threads "$threads"
