#!/usr/bin/env python3
"""Compile a model with kiln, run it, and compare outputs and latency with onnxruntime.

The model folder holds model.onnx and inputs/<name>.npy (see tests/models/make_models.py). Both
engines get the same inputs and the same thread count; latencies are measured in the same run.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
import numpy as np
import onnxruntime as ort


def safe(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    model = os.path.join(a.model_dir, "model.onnx")
    sess_opts = ort.SessionOptions()
    sess_opts.intra_op_num_threads = a.threads
    sess_opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model, sess_opts, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(os.path.join(a.model_dir, "inputs", safe(i.name) + ".npy")) for i in sess.get_inputs()}
    shapes = [f"--shape={k}={'x'.join(map(str, v.shape))}" for k, v in feeds.items()]
    out = tempfile.mkdtemp(prefix="kiln-demo-")
    so = os.path.join(out, "model.so")
    t = time.time()
    subprocess.run([a.kiln, "compile", model, "-o", so, *shapes], check=True)
    print(f"kiln compile {model} -> {so} ({time.time() - t:.1f} s)")
    subprocess.run([a.kiln, "inspect", so], check=True)
    inputs = [f"--input={k}={os.path.join(a.model_dir, 'inputs', safe(k) + '.npy')}" for k in feeds]
    subprocess.run([a.kiln, "run", so, *inputs, "--output-dir", out, "--threads", str(a.threads)], check=True, stdout=subprocess.DEVNULL)
    ref = sess.run(None, feeds)
    print("\noutputs (kiln vs onnxruntime):")
    for o, r in zip(sess.get_outputs(), ref):
        k = np.load(os.path.join(out, safe(o.name) + ".npy"))
        scale = max(1.0, float(np.abs(r).max()))
        err = float(np.abs(k.astype(np.float64) - r).max()) if k.shape == r.shape else float("inf")
        flat = k.reshape(-1)
        print(f"  {o.name}{list(k.shape)}: first values {np.array2string(flat[:6], precision=5)}; "
              f"max |kiln - ort| = {err:.3g} ({err / scale:.3g} of scale) {'OK' if err <= 1e-4 * scale else 'MISMATCH'}")
    # Latency, interleaved: kiln bench and onnxruntime in the same run, same inputs and threads.
    bench = json.loads(subprocess.run([a.kiln, "bench", so, *inputs, "--threads", str(a.threads), "--runs", str(a.runs), "--json"],
                                      check=True, capture_output=True, text=True).stdout)
    for _ in range(5):
        sess.run(None, feeds)
    ts = []
    for _ in range(a.runs):
        t = time.perf_counter()
        sess.run(None, feeds)
        ts.append((time.perf_counter() - t) * 1e3)
    ort_med = float(np.median(ts))
    print(f"\nlatency at {a.threads} threads (median of {a.runs} runs):")
    print(f"  kiln        {bench['median_ms']:.3f} ms (p90 {bench['p90_ms']:.3f} ms)")
    print(f"  onnxruntime {ort_med:.3f} ms (p90 {float(np.percentile(ts, 90)):.3f} ms), all graph optimizations")
    print(f"  ratio kiln/onnxruntime = {bench['median_ms'] / ort_med:.2f}")


if __name__ == "__main__":
    sys.exit(main())
