#!/usr/bin/env python3
"""Light CNNs of the onnx wheel with seeded random weights, and onnxruntime's outputs for them.

The onnx 1.22 wheel ships nine classic CNNs (onnx/backend/test/data/light/light_<name>.onnx) whose
weights are ConstantOfShape nodes filled with 0.02. This script replaces each such node by a seeded
random initializer of the same shape, scaled by role so activations stay O(1):
  conv / gemm weight -> N(0, 2 / fan_in) (He init)
  batch-norm scale and variance, and the Mul factor of an unrolled batch norm -> U(0.5, 1.5)
  biases, batch-norm mean and shift, and the Add term of an unrolled batch norm -> N(0, 0.1^2)
Residual sums (resnet50, shufflenet) still grow the activations block after block, so every batch
norm whose mean and variance were ConstantOfShape nodes gets them from the activations it sees for
the recorded input (data-dependent init), in graph order: each batch norm's output is then O(1).
The logits (the input of the final Softmax) become a second graph output, so the comparison is not
blunted by the softmax. The input is a seeded N(0, 1) image 1x3x224x224.

Usage: make_light_cnns.py OUT_DIR NAME...   (NAME: alexnet, zfnet512, vgg19, squeezenet, inception_v1,
inception_v2, shufflenet, resnet50, densenet121). Writes OUT_DIR/<name>/model.onnx, inputs/<input>.npy,
expected/<output>.npy (ONNX names with characters outside [A-Za-z0-9._-] replaced by '_') and
meta.json (input and output names in graph order). A model whose meta.json carries this script's
VERSION is left as it is (the cache: vgg19 is ~550 MB).
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from common import is_current, session, write_case

VERSION = 1
FILES = {
    "alexnet": "light_bvlc_alexnet.onnx",
    "zfnet512": "light_zfnet512.onnx",
    "vgg19": "light_vgg19.onnx",
    "squeezenet": "light_squeezenet.onnx",
    "inception_v1": "light_inception_v1.onnx",
    "inception_v2": "light_inception_v2.onnx",
    "shufflenet": "light_shufflenet.onnx",
    "resnet50": "light_resnet50.onnx",
    "densenet121": "light_densenet121.onnx",
}


def light_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def role(graph, name):
    """(op, input index) of the first consumer of `name` that is not a pure data-movement op."""
    for n in graph.node:
        for i, x in enumerate(n.input):
            if x != name:
                continue
            if n.op_type in ("Unsqueeze", "Reshape", "Identity") and i == 0:
                return role(graph, n.output[0])
            return n.op_type, i
    return None, None


def random_weight(rng, graph, name, shape):
    op, i = role(graph, name)
    shape = tuple(int(d) for d in shape)
    if (op, i) in (("Conv", 1), ("Gemm", 1)):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if (op, i) in (("BatchNormalization", 1), ("BatchNormalization", 4), ("Mul", 0), ("Mul", 1)):
        return rng.uniform(0.5, 1.5, shape)
    if (op, i) in (("Conv", 2), ("Gemm", 2), ("BatchNormalization", 2), ("BatchNormalization", 3),
                   ("Add", 0), ("Add", 1)):
        return rng.standard_normal(shape) * 0.1
    raise SystemExit(f"{name}: no weight rule for a ConstantOfShape consumed by {op} input {i}")


def randomize(model, rng):
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    new_inits, kept_nodes, used_shapes = [], [], set()
    for n in g.node:
        if n.op_type != "ConstantOfShape":
            kept_nodes.append(n)
            continue
        shape = inits[n.input[0]]
        used_shapes.add(n.input[0])
        w = random_weight(rng, g, n.output[0], shape).astype(np.float32)
        new_inits.append(numpy_helper.from_array(w, n.output[0]))
    del g.node[:]
    g.node.extend(kept_nodes)
    still_used = {x for n in g.node for x in n.input}
    dead = {s for s in used_shapes if s not in still_used}
    keep = [t for t in g.initializer if t.name not in dead]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    keep_in = [i for i in g.input if i.name not in dead]
    # IR version 3 lists every initializer among the graph inputs too; keep that form.
    keep_in += [helper.make_tensor_value_info(t.name, t.data_type, t.dims) for t in new_inits]
    del g.input[:]
    g.input.extend(keep_in)
    # The logits: the input of the last Softmax, as an extra output with its inferred type.
    softmax = [n for n in g.node if n.op_type == "Softmax"]
    if softmax:
        logits = softmax[-1].input[0]
        inferred = shape_inference.infer_shapes(model)
        vi = [v for v in inferred.graph.value_info if v.name == logits]
        g.output.append(vi[0] if vi else helper.make_tensor_value_info(logits, onnx.TensorProto.FLOAT, None))
    onnx.checker.check_model(model)
    return model


def calibrate_batch_norms(model, feeds, randomized):
    """Set each batch norm's mean and variance (when they were random) to its input's channel
    statistics, a level of independent batch norms per onnxruntime run."""
    g = model.graph
    index = {t.name: i for i, t in enumerate(g.initializer)}
    pending = [n for n in g.node if n.op_type == "BatchNormalization"
               and n.input[3] in randomized and n.input[4] in randomized]
    while pending:
        pending_ids = {id(n) for n in pending}
        tainted, ready = set(), []
        for n in g.node:
            if id(n) in pending_ids:
                if n.input[0] not in tainted:
                    ready.append(n)
                tainted.update(n.output)
            elif any(x in tainted for x in n.input):
                tainted.update(n.output)
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        for n in ready:
            probe.graph.output.append(helper.make_tensor_value_info(n.input[0], onnx.TensorProto.FLOAT, None))
        xs = session(probe).run([n.input[0] for n in ready], feeds)
        for n, x in zip(ready, xs):
            axes = (0,) + tuple(range(2, x.ndim))
            mean, var = x.mean(axis=axes), np.maximum(x.var(axis=axes), 1e-3)
            for slot, v in ((3, mean), (4, var)):
                g.initializer[index[n.input[slot]]].CopyFrom(numpy_helper.from_array(v.astype(np.float32), n.input[slot]))
        ready_ids = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in ready_ids]


def make(out_root, name):
    out = os.path.join(out_root, name)
    if is_current(out, VERSION):
        return
    rng = np.random.default_rng(20261122 + sum(map(ord, name)))
    model = onnx.load(os.path.join(light_dir(), FILES[name]))
    randomized = {n.output[0] for n in model.graph.node if n.op_type == "ConstantOfShape"}
    model = randomize(model, rng)
    init_names = {t.name for t in model.graph.initializer}
    feeds = {}
    for i in model.graph.input:
        if i.name not in init_names:
            shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    calibrate_batch_norms(model, feeds, randomized)
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    outputs = [o.name for o in model.graph.output]
    write_case(out, name, VERSION, feeds, outputs, session(model).run(outputs, feeds))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    for name in sys.argv[2:]:
        if name not in FILES:
            raise SystemExit(f"unknown model {name}; known: {', '.join(FILES)}")
        make(sys.argv[1], name)


if __name__ == "__main__":
    main()
