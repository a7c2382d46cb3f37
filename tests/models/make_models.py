#!/usr/bin/env python3
"""Build kiln's end-to-end test models with onnx.helper and record onnxruntime's outputs.

Run once (scripts/make-test-models.sh); the .onnx files and .npy references are committed so the Rust
tests need no Python. Every weight is seeded random, so a numeric match means something.

Layout: tests/models/<name>/model.onnx, inputs/<input>.npy, expected/<output>.npy, where file names
are the ONNX names with characters outside [A-Za-z0-9._-] replaced by '_' (as `kiln run` does).
"""
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)


def w(name, *shape, scale=None):
    fan_in = shape[0] if len(shape) > 1 else 1
    s = scale if scale is not None else 1.0 / np.sqrt(max(fan_in, 1))
    return numpy_helper.from_array((rng.standard_normal(shape) * s).astype(np.float32), name)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def safe(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class G:
    """A tiny graph builder: node() returns the output names."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def fresh(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def node(self, op, inputs, n_out=1, name=None, **attrs):
        outs = [self.fresh(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name or self.fresh(op), **attrs))
        return outs if n_out > 1 else outs[0]

    def init(self, t):
        self.inits.append(t)
        return t.name

    def linear(self, x, d_in, d_out, prefix):
        wn = self.init(w(f"{prefix}/weight", d_in, d_out))
        bn = self.init(w(f"{prefix}/bias", d_out, scale=0.1))
        return self.node("Add", [self.node("MatMul", [x, wn]), bn])


def save(name, graph, opset, inputs, doc):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="kiln-tests")
    model.ir_version = 8
    model.doc_string = doc
    onnx.checker.check_model(model, full_check=True)
    d = os.path.join(HERE, name)
    os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(d, "expected"), exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(os.path.join(d, "model.onnx"), so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, inputs)
    for k, v in inputs.items():
        np.save(os.path.join(d, "inputs", safe(k) + ".npy"), v)
    for o, v in zip(sess.get_outputs(), outs):
        np.save(os.path.join(d, "expected", safe(o.name) + ".npy"), v)
    print(f"{name}: opset {opset}, {len(graph.node)} nodes, outputs " + ", ".join(f"{o.name}{list(v.shape)}" for o, v in zip(sess.get_outputs(), outs)))


def mlp():
    g = G()
    x = "x"
    h = g.node("Gemm", [x, g.init(w("fc1.w", 96, 64)), g.init(w("fc1.b", 96, scale=0.1))], transB=1)
    h = g.node("Relu", [h])
    h = g.linear(h, 96, 48, "fc2")
    h = g.node("Tanh", [h])
    h = g.linear(h, 48, 10, "fc3")
    g.nodes.append(helper.make_node("Softmax", [h], ["probs"], axis=1, name="softmax"))
    graph = helper.make_graph(g.nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [4, 10])], g.inits)
    save("mlp", graph, 13, {"x": rng.standard_normal((4, 64)).astype(np.float32)}, "MLP: Gemm, MatMul, Add, Relu, Tanh, Softmax")


def cnn():
    """Conv/BatchNorm/pools/groups at opset 11 (old-style Unsqueeze/Softmax attributes)."""
    g = G()

    def bn(x, c, p):
        return g.node("BatchNormalization", [x, g.init(const(f"{p}.g", (1 + 0.1 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.b", (0.1 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.m", (0.1 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.v", (0.5 + rng.random(c)).astype(np.float32)))], epsilon=1e-5)

    x = g.node("Conv", ["image", g.init(w("c1.w", 16, 3, 3, 3, scale=0.3))], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    x = g.node("Relu", [bn(x, 16, "bn1")])
    x = g.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    # grouped + dilated conv with bias
    x = g.node("Conv", [x, g.init(w("c2.w", 16, 4, 3, 3, scale=0.3)), g.init(w("c2.b", 16, scale=0.1))],
               kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2], group=4)
    x = g.node("Relu", [bn(x, 16, "bn2")])
    # depthwise stride-2 conv
    x = g.node("Conv", [x, g.init(w("dw.w", 16, 1, 3, 3, scale=0.5))], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], group=16)
    x = g.node("AveragePool", [x], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1], count_include_pad=0)
    x = g.node("Conv", [x, g.init(w("pw.w", 32, 16, 1, 1, scale=0.3)), g.init(w("pw.b", 32, scale=0.1))], kernel_shape=[1, 1])
    x = g.node("Sigmoid", [x])
    x = g.node("GlobalAveragePool", [x])
    x = g.node("Flatten", [x], axis=1)
    x = g.node("Gemm", [x, g.init(w("fc.w", 32, 10)), g.init(w("fc.b", 10, scale=0.1))])
    g.nodes.append(helper.make_node("Softmax", [x], ["class/probs:0"], axis=1, name="softmax"))
    graph = helper.make_graph(g.nodes, "cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [2, 3, 32, 32])],
                              [helper.make_tensor_value_info("class/probs:0", TensorProto.FLOAT, [2, 10])], g.inits)
    save("cnn", graph, 11, {"image": rng.standard_normal((2, 3, 32, 32)).astype(np.float32)},
         "CNN: Conv (groups, dilation, stride, depthwise), BatchNorm, MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm")


def attention(g, x, d, heads, seq, prefix, mask_add=None, causal=None):
    """Multi-head self-attention on x [1, seq, d]; shapes computed with Shape/Gather/Concat like exporters do."""
    qkv = g.linear(x, d, 3 * d, f"{prefix}/qkv")
    q, k, v = g.node("Split", [qkv, g.init(const(g.fresh(f"{prefix}/split"), np.array([d, d, d], np.int64)))], n_out=3, axis=2)
    dh = d // heads
    shp = g.node("Shape", [x])
    b = g.node("Gather", [shp, g.init(const(g.fresh("i0"), np.array(0, np.int64)))], axis=0)
    s = g.node("Gather", [shp, g.init(const(g.fresh("i1"), np.array(1, np.int64)))], axis=0)
    b1 = g.node("Unsqueeze", [b, g.init(const(g.fresh("ax0"), np.array([0], np.int64)))])
    s1 = g.node("Unsqueeze", [s, g.init(const(g.fresh("ax0"), np.array([0], np.int64)))])
    hd = g.init(const(g.fresh("hd"), np.array([heads, dh], np.int64)))
    split_shape = g.node("Concat", [b1, s1, hd], axis=0)

    def heads_of(t):
        return g.node("Transpose", [g.node("Reshape", [t, split_shape])], perm=[0, 2, 1, 3])

    qh, kh, vh = heads_of(q), heads_of(k), heads_of(v)
    kt = g.node("Transpose", [kh], perm=[0, 1, 3, 2])
    scores = g.node("Div", [g.node("MatMul", [qh, kt]), g.init(const(g.fresh("sqrt_dh"), np.array(np.sqrt(dh), np.float32)))])
    if causal is not None:
        scores = g.node("Where", [causal, scores, g.init(const(g.fresh("neg"), np.array(-1e9, np.float32)))])
    if mask_add is not None:
        scores = g.node("Add", [scores, mask_add])
    p = g.node("Softmax", [scores], axis=-1)
    ctx = g.node("Transpose", [g.node("MatMul", [p, vh])], perm=[0, 2, 1, 3])
    merged = g.node("Reshape", [ctx, g.init(const(g.fresh("merge"), np.array([0, 0, -1], np.int64)))])
    return g.linear(merged, d, d, f"{prefix}/proj")


def gelu_erf(g, x):
    inner = g.node("Erf", [g.node("Div", [x, g.init(const(g.fresh("sqrt2"), np.array(np.sqrt(2.0), np.float32)))])])
    one = g.init(const(g.fresh("one"), np.array(1.0, np.float32)))
    half = g.init(const(g.fresh("half"), np.array(0.5, np.float32)))
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [inner, one])])


def gelu_tanh(g, x):
    c = lambda v: g.init(const(g.fresh("c"), np.array(v, np.float32)))
    x3 = g.node("Pow", [x, c(3.0)])
    inner = g.node("Mul", [g.node("Add", [x, g.node("Mul", [x3, c(0.044715)])]), c(np.sqrt(2 / np.pi))])
    return g.node("Mul", [g.node("Mul", [x, c(0.5)]), g.node("Add", [g.node("Tanh", [inner]), c(1.0)])])


def gpt2():
    """GPT-2 style Pre-LN decoder: token+position embeddings, causal attention, tanh-GELU MLP, final LN, tied logits."""
    g = G()
    vocab, d, heads, seq, layers = 97, 64, 4, 16, 2
    wte = g.init(w("wte", vocab, d, scale=0.5))
    x = g.node("Gather", [wte, "input_ids"], axis=0)
    x = g.node("Add", [x, g.init(w("wpe", seq, d, scale=0.2))])
    causal = g.init(const("causal_mask", np.tril(np.ones((seq, seq), dtype=bool)).reshape(1, 1, seq, seq)))
    ln = lambda t, p: g.node("LayerNormalization", [t, g.init(const(f"{p}.g", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))),
                                                   g.init(const(f"{p}.b", (0.1 * rng.standard_normal(d)).astype(np.float32)))], axis=-1, epsilon=1e-5)
    for l in range(layers):
        a = attention(g, ln(x, f"h{l}.ln_1"), d, heads, seq, f"h{l}/attn", causal=causal)
        x = g.node("Add", [x, a])
        m = g.linear(ln(x, f"h{l}.ln_2"), d, 4 * d, f"h{l}/mlp/fc")
        m = g.linear(gelu_tanh(g, m), 4 * d, d, f"h{l}/mlp/proj")
        x = g.node("Add", [x, m])
    x = ln(x, "ln_f")
    g.nodes.append(helper.make_node("MatMul", [x, g.node("Transpose", [wte], perm=[1, 0])], ["logits"], name="lm_head"))
    graph = helper.make_graph(g.nodes, "gpt2_tiny", [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, seq])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, seq, vocab])], g.inits)
    save("gpt2", graph, 17, {"input_ids": rng.integers(0, vocab, (1, seq)).astype(np.int64)},
         "GPT-2 style Pre-LN transformer, causal attention, opset 17 LayerNormalization")


def bert():
    """BERT-style Post-LN encoder at opset 13: LayerNorm written out, padding mask from int64 input, erf-GELU."""
    g = G()
    vocab, d, heads, seq, layers = 101, 64, 4, 16, 2

    def ln(t, p):
        mean = g.node("ReduceMean", [t], axes=[-1])
        xc = g.node("Sub", [t, mean])
        var = g.node("ReduceMean", [g.node("Pow", [xc, g.init(const(g.fresh("two"), np.array(2.0, np.float32)))])], axes=[-1])
        den = g.node("Sqrt", [g.node("Add", [var, g.init(const(g.fresh("eps"), np.array(1e-12, np.float32)))])])
        y = g.node("Div", [xc, den])
        return g.node("Add", [g.node("Mul", [y, g.init(const(f"{p}.g", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32)))]),
                              g.init(const(f"{p}.b", (0.1 * rng.standard_normal(d)).astype(np.float32)))])

    x = g.node("Gather", [g.init(w("word_embeddings", vocab, d, scale=0.5)), "input_ids"], axis=0)
    x = g.node("Add", [x, g.init(w("position_embeddings", 1, seq, d, scale=0.2))])
    x = ln(x, "emb.ln")
    m = g.node("Unsqueeze", ["attention_mask", g.init(const("mask_axes", np.array([1, 2], np.int64)))])
    m = g.node("Cast", [m], to=TensorProto.FLOAT)
    one = g.init(const("one_f", np.array(1.0, np.float32)))
    mask_add = g.node("Mul", [g.node("Sub", [one, m]), g.init(const("big_neg", np.array(-10000.0, np.float32)))])
    for l in range(layers):
        a = attention(g, x, d, heads, seq, f"layer.{l}/attention", mask_add=mask_add)
        x = ln(g.node("Add", [a, x]), f"layer.{l}.ln1")
        f = g.linear(gelu_erf(g, g.linear(x, d, 2 * d, f"layer.{l}/intermediate")), 2 * d, d, f"layer.{l}/output")
        x = ln(g.node("Add", [f, x]), f"layer.{l}.ln2")
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    first = g.node("Slice", [x, g.init(const("s0", np.array([0], np.int64))), g.init(const("s1", np.array([1], np.int64))),
                             g.init(const("s_ax", np.array([1], np.int64)))])
    pooled = g.node("Tanh", [g.linear(g.node("Squeeze", [first, g.init(const("sq_ax", np.array([1], np.int64)))]), d, d, "pooler")])
    g.nodes.append(helper.make_node("Identity", [pooled], ["pooler_output"]))
    graph = helper.make_graph(g.nodes, "bert_tiny",
                              [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                               helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
                              [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", d]),
                               helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch", d])], g.inits)
    mask = np.ones((1, seq), np.int64)
    mask[0, 12:] = 0
    save("bert", graph, 13, {"input_ids": rng.integers(0, vocab, (1, seq)).astype(np.int64), "attention_mask": mask},
         "BERT-style Post-LN encoder, opset 13, decomposed LayerNorm, symbolic batch/seq dims (compile with --shape)")


def repvgg():
    """RepVGG-style blocks (3x3+BN, 1x1+BN, identity BN branches summed) and a ResNet-style
    Conv+BN residual block, for the reparameterization passes: each block must become one Conv."""
    g = G()

    def bn(x, c, p):
        return g.node("BatchNormalization", [x, g.init(const(f"{p}.g", (1 + 0.2 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.b", (0.1 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.m", (0.1 * rng.standard_normal(c)).astype(np.float32))),
                                             g.init(const(f"{p}.v", (0.5 + rng.random(c)).astype(np.float32)))], epsilon=1e-5)

    def conv(x, cin, cout, k, p, stride=1):
        return g.node("Conv", [x, g.init(w(g.fresh(p) + ".w", cout, cin, k, k, scale=0.6 / np.sqrt(cin * k * k)))],
                      kernel_shape=[k, k], pads=[k // 2] * 4, strides=[stride, stride])

    def block(x, cin, cout, p, stride=1):
        y = g.node("Add", [bn(conv(x, cin, cout, 3, p + ".c3", stride), cout, p + ".bn3"),
                           bn(conv(x, cin, cout, 1, p + ".c1", stride), cout, p + ".bn1")])
        if cin == cout and stride == 1:
            y = g.node("Add", [y, bn(x, cout, p + ".bnid")])
        return g.node("Relu", [y])

    x = g.node("Relu", [bn(conv("image", 3, 8, 3, "stem"), 8, "stem.bn")])
    x = block(x, 8, 8, "b1")
    x = block(x, 8, 8, "b2")
    x = block(x, 8, 16, "b3", stride=2)
    # ResNet basic block: conv-bn-relu, conv-bn, + x, relu
    h = g.node("Relu", [bn(conv(x, 16, 16, 3, "r.c1"), 16, "r.bn1")])
    h = bn(conv(h, 16, 16, 3, "r.c2"), 16, "r.bn2")
    x = g.node("Relu", [g.node("Add", [h, x])])
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x])], axis=1)
    g.nodes.append(helper.make_node("Gemm", [x, g.init(w("fc.w", 16, 10)), g.init(w("fc.b", 10, scale=0.1))], ["logits"], name="fc"))
    graph = helper.make_graph(g.nodes, "repvgg", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], g.inits)
    save("repvgg", graph, 13, {"image": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)},
         "RepVGG-style three-branch blocks with BatchNorms and a ResNet-style Conv+BN residual block")


def repavit():
    """A ViT-style Pre-LN encoder block whose FFN sends only a quarter of its hidden channels through
    GELU (RePaViT's channel-idle FFN), plus a LoRA-style parallel adapter on the attention-free
    token mixer: for the reparameterization passes (merge-linear, repavit)."""
    g = G()
    d, hidden, active, seq = 32, 128, 32, 8
    ln = lambda t, p: g.node("LayerNormalization", [t, g.init(const(f"{p}.g", (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))),
                                                   g.init(const(f"{p}.b", (0.1 * rng.standard_normal(d)).astype(np.float32)))], axis=-1, epsilon=1e-6)
    x = "tokens"
    # token mixer: W x plus a rank-4 adapter U D (parallel adapter)
    h = ln(x, "ln1")
    main = g.node("MatMul", [h, g.init(w("mix.w", d, d))])
    lora = g.node("MatMul", [g.node("MatMul", [h, g.init(w("mix.lora_u", d, 4))]), g.init(w("mix.lora_d", 4, d, scale=0.1))])
    x = g.node("Add", [x, g.node("Add", [main, lora])])
    # channel-idle FFN
    h = g.linear(ln(x, "ln2"), d, hidden, "ffn.fc1")
    act, idle = g.node("Split", [h, g.init(const("ffn.split", np.array([active, hidden - active], np.int64)))], n_out=2, axis=-1)
    act = gelu_erf(g, act)
    h = g.node("Concat", [act, idle], axis=-1)
    x = g.node("Add", [x, g.linear(h, hidden, d, "ffn.fc2")])
    g.nodes.append(helper.make_node("LayerNormalization", [x, g.init(const("lnf.g", np.ones(d, np.float32))),
                                                           g.init(const("lnf.b", np.zeros(d, np.float32)))], ["out"], axis=-1, epsilon=1e-6, name="lnf"))
    graph = helper.make_graph(g.nodes, "repavit", [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1, seq, d])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, seq, d])], g.inits)
    save("repavit", graph, 18, {"tokens": rng.standard_normal((1, seq, d)).astype(np.float32)},
         "ViT-style block: LoRA parallel adapter and a RePaViT channel-idle FFN (a quarter of the channels through GELU)")


def unsupported():
    """Bad input: ops kiln does not support (two NonZero nodes, one op of a foreign domain)."""
    nodes = [helper.make_node("NonZero", ["x"], ["nz"], name="nz1"),
             helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("NonZero", ["r"], ["nz2"], name="nz2"),
             helper.make_node("FancyOp", ["r"], ["f"], name="fancy", domain="com.example")]
    graph = helper.make_graph(nodes, "unsupported", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info(n, TensorProto.INT64, None) for n in ["nz", "nz2"]] +
                              [helper.make_tensor_value_info("f", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    d = os.path.join(HERE, "bad")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "unsupported.onnx"))
    print("bad/unsupported.onnx")


if __name__ == "__main__":
    which = sys.argv[1:] or ["mlp", "cnn", "gpt2", "bert", "unsupported", "repvgg", "repavit"]
    for m in which:
        globals()[m]()
