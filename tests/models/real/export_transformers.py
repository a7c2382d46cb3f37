#!/usr/bin/env python3
"""Small transformers built from Hugging Face configs with seeded random weights, exported by
torch.onnx.export(dynamo=True) at opset 18 and 23, with onnxruntime's outputs for fixed inputs.

Models (hidden 128, 2 layers, 4 heads, vocabulary 1000; initializer_range 0.1 instead of 0.02 so
attention is not uniform and the logits are O(1)):
  gpt2   GPT2LMHeadModel: learned positions, pre-LayerNorm, GELU (tanh), causal attention -> logits
  llama  LlamaForCausalLM: RMSNorm, rotary embeddings, grouped-query attention (4 query heads, 2
         key/value heads), SiLU-gated MLP -> logits
  bert   BertModel: post-LayerNorm, GELU (erf), padding mask (last 4 of 16 tokens) ->
         last_hidden_state, pooler_output
  vit    ViTForImageClassification: 32x32 image, 8x8 patches, 10 classes -> logits
Text models take batch 1 x 16 tokens; the sequence length is a symbolic dim ("seq") in the export, so
kiln fixes it with --shape. Needs torch, transformers, onnxscript, onnx and onnxruntime (a venv outside
the repo: scripts/make-real-models.sh). Run with HF_HUB_OFFLINE=1: nothing is downloaded.

Usage: export_transformers.py [OUT_ROOT] [NAME...]. Writes OUT_ROOT/<name>_opset<N>/ in the case
layout of common.py (default OUT_ROOT: this folder); these small cases are committed.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import transformers as tf  # noqa: E402

from common import session, write_case  # noqa: E402

VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
OPSETS = (18, 23)
SEQ = 16
SMALL = dict(vocab_size=1000, initializer_range=0.1)


class Outputs(torch.nn.Module):
    """Calls a Hugging Face model with keyword inputs and returns the named outputs as a tuple."""

    def __init__(self, model, input_names, output_names):
        super().__init__()
        self.model, self.input_names, self.output_names = model, input_names, output_names

    def forward(self, *args):
        out = self.model(**dict(zip(self.input_names, args)), return_dict=True)
        return tuple(out[n] for n in self.output_names)


def text_inputs(rng, with_mask):
    ids = rng.integers(0, SMALL["vocab_size"], size=(1, SEQ), dtype=np.int64)
    feeds = {"input_ids": ids}
    if with_mask:
        mask = np.ones((1, SEQ), dtype=np.int64)
        mask[0, SEQ - 4:] = 0
        feeds["attention_mask"] = mask
    return feeds


def build(name, rng):
    """(model, feeds, output names, symbolic dims per input)."""
    if name == "gpt2":
        cfg = tf.GPT2Config(n_layer=2, n_embd=128, n_head=4, n_positions=64, use_cache=False, **SMALL)
        return tf.GPT2LMHeadModel(cfg), text_inputs(rng, False), ["logits"], True
    if name == "llama":
        cfg = tf.LlamaConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=64, use_cache=False, **SMALL)
        return tf.LlamaForCausalLM(cfg), text_inputs(rng, False), ["logits"], True
    if name == "bert":
        cfg = tf.BertConfig(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                            max_position_embeddings=64, **SMALL)
        return tf.BertModel(cfg), text_inputs(rng, True), ["last_hidden_state", "pooler_output"], True
    if name == "vit":
        cfg = tf.ViTConfig(image_size=32, patch_size=8, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                           num_attention_heads=4, num_labels=10, initializer_range=0.1)
        pixels = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
        return tf.ViTForImageClassification(cfg), {"pixel_values": pixels}, ["logits"], False
    raise SystemExit(f"unknown model {name}; known: gpt2, llama, bert, vit")


def export(name, opset, out_root):
    seed = 20261122 + sum(map(ord, name))
    torch.manual_seed(seed)
    model, feeds, outputs, symbolic_seq = build(name, np.random.default_rng(seed))
    model.eval()
    wrapped = Outputs(model, list(feeds), outputs).eval()
    args = tuple(torch.from_numpy(v) for v in feeds.values())
    dynamic = None
    if symbolic_seq:
        seq = torch.export.Dim("seq", min=2, max=64)
        dynamic = (tuple({1: seq} for _ in feeds),)  # one entry: the *args tuple
    out = os.path.join(out_root, f"{name}_opset{opset}")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        program = torch.onnx.export(wrapped, args, dynamo=True, external_data=False, opset_version=opset,
                                    input_names=list(feeds), output_names=outputs, dynamic_shapes=dynamic)
        program.save(path)
        want = [t.numpy() for t in wrapped(*args)]
    m = onnx.load(path)
    onnx.checker.check_model(m)
    got = session(path).run(outputs, feeds)
    for n, a, b in zip(outputs, got, want):
        err = np.abs(a - b).max() / max(1.0, np.abs(b).max())
        assert err < 1e-4, f"{name} opset {opset} {n}: onnxruntime vs torch {err:.2e} of scale"
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{name}_opset{opset}: {os.path.getsize(path) / 1e6:.2f} MB, ops {' '.join(ops)}")
    write_case(out, f"{name}_opset{opset}", VERSION, feeds, outputs, got)


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else HERE
    names = sys.argv[2:] or ["gpt2", "llama", "bert", "vit"]
    for name in names:
        for opset in OPSETS:
            export(name, opset, out_root)


if __name__ == "__main__":
    main()
