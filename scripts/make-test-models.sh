#!/usr/bin/env bash
# Regenerates tests/models/* (ONNX files + onnxruntime reference outputs). Needs the .venv from setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python tests/models/make_models.py "$@"
