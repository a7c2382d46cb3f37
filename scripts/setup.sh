#!/usr/bin/env bash
# Installs what kiln needs on a fresh Debian 12 machine, idempotently:
#  - LLVM/MLIR 22 (Debian packages) + libclang (bindgen for mlir-sys) + Polly (linked by tblgen)
#  - a Python venv at .venv with onnx, onnxruntime and numpy (reference outputs, demo comparisons)
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(llvm-22-dev libmlir-22-dev mlir-22-tools libclang-22-dev libpolly-22-dev libzstd-dev libz3-dev libxml2-dev zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cc >/dev/null || { echo "setup: a C compiler (cc) is needed to link model.so files: apt-get install gcc" >&2; exit 1; }

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  echo "setup: creating .venv with onnx, onnxruntime, numpy"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check onnx==1.22.0 onnxruntime numpy
fi
echo "setup: ok (LLVM/MLIR $(/usr/lib/llvm-22/bin/llvm-config --version), $(.venv/bin/python -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__)'))"
