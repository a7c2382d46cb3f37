"""Shared by the real-model scripts: the case layout the Rust test (tests/tests/real_models.rs) reads.

A case folder holds model.onnx, inputs/<input>.npy, expected/<output>.npy and meta.json
({"version", "inputs": [names in graph order], "outputs": [names in graph order]}); file names are
the ONNX names with characters outside [A-Za-z0-9._-] replaced by '_' (as `kiln run` does).
"""
import json
import os
import re

import numpy as np
import onnxruntime as ort


def safe(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def session(model):
    """An onnxruntime CPU session without graph rewrites; `model` is a path or a ModelProto."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    src = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def is_current(out, version):
    """True when `out` holds a complete case written by the given script version."""
    try:
        with open(os.path.join(out, "meta.json")) as f:
            return json.load(f).get("version") == version
    except (OSError, ValueError):
        return False


def write_case(out, label, version, feeds, outputs, results):
    """Write the inputs, the reference outputs and (last, so a half-written case is redone) meta.json."""
    os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    for n, v in feeds.items():
        np.save(os.path.join(out, "inputs", safe(n) + ".npy"), v)
    for n, v in zip(outputs, results):
        np.save(os.path.join(out, "expected", safe(n) + ".npy"), v)
        print(f"{label}/{n}: {v.dtype} {list(v.shape)}, max |x| {np.abs(v).max():.3g}")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump({"version": version, "inputs": list(feeds), "outputs": list(outputs)}, f, indent=1)
