#!/usr/bin/env python3
"""Benchmark of the Pre-LN -> Pre-RMSNorm rewrite (issue: graph passes from the papers).

Measures, in one run, interleaved, same thread count:
  1. the LayerNorm kernel against the RMSNorm kernel on the same [rows, d] input;
  2. whole GPT-2 style models compiled with the default pipeline (LayerNorm -> RmsNorm) and with
     `--disable-pass pre-ln-to-rmsnorm` (LayerNorms kept), on the same inputs.
Each pair alternates `kiln bench` rounds so machine noise hits both sides alike; the table reports
the median of the round medians and the ratio. With --doc, the table replaces the block between
the bench markers in docs/passes.md.
"""
import argparse, json, os, re, subprocess, sys, tempfile
import numpy as np
import onnx
from onnx import TensorProto, helper

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def norm_model(path, op, rows, d, opset):
    rng = np.random.default_rng(0)
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [d], (1 + 0.1 * rng.standard_normal(d)).astype(np.float32))
    node = helper.make_node(op, ["x", "scale"], ["y"], axis=-1, epsilon=1e-5)
    g = helper.make_graph([node], op.lower(), [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, d])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, d])], [scale])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), path)


def compile_model(kiln, model, so, shapes, extra):
    subprocess.run([kiln, "compile", model, "-o", so, *shapes, *extra], check=True)
    ops = json.loads(subprocess.run([kiln, "inspect", so, "--json"], check=True, capture_output=True, text=True).stdout)["ops"]
    return ops


def bench_pair(kiln, a, b, inputs, threads, rounds, runs):
    ma, mb = [], []
    for _ in range(rounds):
        for so, acc in ((a, ma), (b, mb)):
            out = subprocess.run([kiln, "bench", so, *inputs, "--threads", str(threads), "--runs", str(runs), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            acc.append(json.loads(out)["median_ms"])
    return float(np.median(ma)), float(np.median(mb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--doc")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kiln-bench-passes-")
    rows = []

    for (r, d) in [(128, 768), (512, 1024)]:
        ln, rms = os.path.join(tmp, f"ln_{r}x{d}.onnx"), os.path.join(tmp, f"rms_{r}x{d}.onnx")
        norm_model(ln, "LayerNormalization", r, d, 17)
        norm_model(rms, "RMSNormalization", r, d, 23)
        ln_so, rms_so = ln[:-5] + ".so", rms[:-5] + ".so"
        ops_ln = compile_model(a.kiln, ln, ln_so, [], [])
        ops_rms = compile_model(a.kiln, rms, rms_so, [], [])
        assert "LayerNorm" in ops_ln and "RmsNorm" in ops_rms, (ops_ln, ops_rms)
        t_ln, t_rms = bench_pair(a.kiln, ln_so, rms_so, [], a.threads, a.rounds, a.runs)
        rows.append((f"norm kernel [{r}, {d}]", "LayerNorm", "RmsNorm", t_ln, t_rms))

    root = os.path.join(os.path.dirname(__file__), "..")
    for name, model_dir in [("tiny GPT-2 (tests/models/gpt2, 2 layers, d 64, seq 16)", "tests/models/gpt2"),
                            ("GPT-2 export (tests/models/real/gpt2_opset18)", "tests/models/real/gpt2_opset18")]:
        model_dir = os.path.join(root, model_dir)
        model = os.path.join(model_dir, "model.onnx")
        feeds = {}
        for f in sorted(os.listdir(os.path.join(model_dir, "inputs"))):
            feeds[f[:-4]] = os.path.join(model_dir, "inputs", f)
        shapes = [f"--shape={k}={'x'.join(map(str, np.load(p).shape))}" for k, p in feeds.items()]
        inputs = [f"--input={k}={p}" for k, p in feeds.items()]
        on, off = os.path.join(tmp, "on.so"), os.path.join(tmp, "off.so")
        ops_on = compile_model(a.kiln, model, on, shapes, [])
        ops_off = compile_model(a.kiln, model, off, shapes, ["--disable-pass", "pre-ln-to-rmsnorm"])
        t_off, t_on = bench_pair(a.kiln, off, on, inputs, a.threads, a.rounds, a.runs)
        rows.append((name, f"LayerNorm x{ops_off.get('LayerNorm', 0)}", f"RmsNorm x{ops_on.get('RmsNorm', 0)}", t_off, t_on))

    lines = [f"Measured by `scripts/bench-passes.sh` ({a.threads} threads, {a.rounds} interleaved rounds of "
             f"{a.runs} runs; median of round medians):", "",
             "| what | before | after | before ms | after ms | after / before |", "|---|---|---|---:|---:|---:|"]
    for what, b, af, tb, ta in rows:
        lines.append(f"| {what} | {b} | {af} | {tb:.4f} | {ta:.4f} | {ta / tb:.3f} |")
    table = "\n".join(lines)
    print(table)
    if a.doc:
        text = open(a.doc).read()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            open(a.doc, "w").write(f"{head}{BEGIN}\n{table}\n{END}{tail}")
        else:
            sys.exit(f"{a.doc} has no {BEGIN} ... {END} block")


if __name__ == "__main__":
    main()
