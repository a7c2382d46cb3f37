#!/usr/bin/env python3
"""fp32 MatMul throughput of kiln against onnxruntime (issue: fast CPU code, GEMM near peak).

For each shape M x K x N builds an ONNX MatMul (A an input, B an initializer), compiles it with
`kiln compile`, and alternates rounds of `kiln bench --threads T --runs R --json` (median_ms)
with onnxruntime (intra_op_num_threads=T, same runs, median) so machine noise hits both alike.
Prints GFLOP/s = 2*M*N*K / time at the median and at the best run (a shared machine is noisy); with several --kiln binaries (e.g. a baseline and
the current build) each gets its own column.
"""
import argparse, json, os, subprocess, tempfile, time
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(512, 512, 512), (1024, 1024, 1024), (128, 768, 768)]


def matmul_model(path, m, k, n):
    rng = np.random.default_rng(0)
    b = rng.standard_normal((k, n)).astype(np.float32)
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    g = helper.make_graph([node], "mm", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
                          [numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)



def kiln_ms(kiln, so, threads, runs):
    out = subprocess.run([kiln, "bench", so, "--threads", str(threads), "--runs", str(runs), "--json"],
                         check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    return d["median_ms"], d["min_ms"]


def ort_ms(sess, a, runs):
    for _ in range(3):
        sess.run(None, {"a": a})
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, {"a": a})
        ts.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ts)), float(np.min(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", action="append", required=True, help="kiln binary (repeatable; label=path)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    import onnxruntime as ort
    kilns = [(k.split("=", 1) if "=" in k else (os.path.basename(k), k)) for k in a.kiln]
    tmp = tempfile.mkdtemp(prefix="kiln-gemm-bench-")
    labels = [l for l, _ in kilns] + ["onnxruntime"]
    header = f"{'M x K x N':>16} " + " ".join(f"{l:>16}" for l in labels)
    print(f"threads={a.threads} runs={a.runs} rounds={a.rounds}; GFLOP/s at median / at best run")
    print(header)
    for (m, k, n) in SHAPES:
        path = os.path.join(tmp, f"mm_{m}x{k}x{n}.onnx")
        matmul_model(path, m, k, n)
        sos = []
        for label, kiln in kilns:
            so = path[:-5] + f".{label}.so"
            subprocess.run([kiln, "compile", path, "-o", so], check=True)
            sos.append(so)
        so_opts = ort.SessionOptions()
        so_opts.intra_op_num_threads = a.threads
        sess = ort.InferenceSession(path, so_opts, providers=["CPUExecutionProvider"])
        x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
        times = [[] for _ in kilns]
        ort_t = []
        for _ in range(a.rounds):
            for i, (_, kiln) in enumerate(kilns):
                times[i].append(kiln_ms(kiln, sos[i], a.threads, a.runs))
            ort_t.append(ort_ms(sess, x, a.runs))
        flop = 2.0 * m * n * k

        def gfs(ts):
            """GFLOP/s of the median of round medians / of the best run (min)."""
            med, best = np.median([t[0] for t in ts]), np.min([t[1] for t in ts])
            return f"{flop / (med * 1e-3) / 1e9:.1f} / {flop / (best * 1e-3) / 1e9:.1f}"

        cells = [gfs(t) for t in times] + [gfs(ort_t)]
        print(f"{f'{m}x{k}x{n}':>16} " + " ".join(f"{c:>16}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
