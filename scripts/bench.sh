#!/usr/bin/env bash
# kiln against onnxruntime on CPU, in one run: end-to-end latency of six models (MLP, MiniLM-L3,
# ResNet-50, GPT-2-small-sized, ViT-B/16-sized, YOLOv8n-style), GEMM GFLOP/s at three shapes and the
# machine's fp32 FMA peak; writes docs/performance.md. The models are built (seeded random weights)
# into target/bench-models on first use and reused after.
# Usage: scripts/bench.sh [--threads N] [--rounds R] [--models a,b,...] [--no-gemm]
#   models: mlp, minilm, resnet50, gpt2, vit, yolo (default: all); threads default 2, rounds 5.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p kiln-cli
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python scripts/bench.py --kiln target/release/kiln --cmd "scripts/bench.sh${*:+ $*}" "$@"
