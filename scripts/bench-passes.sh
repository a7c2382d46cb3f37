#!/usr/bin/env bash
# Benchmarks the Pre-LN -> Pre-RMSNorm rewrite (LayerNorm vs RMSNorm kernels, GPT-2 style models
# with and without the pass, interleaved in one run) and writes the table into docs/passes.md.
# Usage: scripts/bench-passes.sh [--threads N] [--rounds R]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p kiln-cli
exec .venv/bin/python scripts/bench_passes.py --kiln target/release/kiln --doc docs/passes.md "$@"
