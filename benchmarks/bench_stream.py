"""Streaming speed: per-sample latency of one push, and bulk throughput over the 40 000-row test set.

The model is the default config's (H = 64, 4 frequencies), untrained (init seed 0): the work per sample
does not depend on the weights, so neither does the speed. It is saved as a checkpoint and exported with
``freqextract.serving.onnx``, and both backends run through the same ``StreamExtractor`` a user gets.

    latency     ``push(sample)`` of one scalar, timed one by one (``--pushes`` after a warm-up), for one
                stream (one frequency chosen) and for all four; p50 and p99 in microseconds
    throughput  the test signal (seed 2) from the reset, 4 streams x 10 000 samples = 40 000 output rows:
                torch: ``push(S)`` of the whole signal, one fused nn.LSTM call; "2 workers": two extractors
                of 2 frequencies each pushed at once from two threads (torch releases the GIL), one torch
                thread each; onnxruntime: ``push(S)`` = 10 000 session runs of 4 streams. Median and
                best of ``--repeats``; rows/s = 40 000 / seconds

torch runs once with the product's default for streaming (1 thread, the checkpoint's train.threads) and
once with torch's own default (what OMP_NUM_THREADS, or the core count when it is unset, gives).
onnxruntime runs with 1 intra-op thread (the extractor's default). The load average is recorded: on a
shared machine it explains the spread.

``--trained CKPT`` (default: the multi-seed study's seed-0 model, benchmarks/runs/multiseed/trials/0, or
benchmarks/runs/seed-0 from bench_train.py, whichever exists) also streams a trained model over the test
signal in onnxruntime, one sample at a time, and reports its largest difference from eager PyTorch and the
test MSE both ways.

    python benchmarks/bench_stream.py [--pushes 20000] [--repeats 7] [--trained CKPT]
                                      [--out benchmarks/results/stream.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from freqextract.atomic import write_json
from freqextract.config import load
from freqextract.models import checkpoint
from freqextract.serving import StreamExtractor, export_onnx
from freqextract.signals import generate

TRAINED = next((p for p in (Path("benchmarks/runs/multiseed/trials/0/checkpoints/final.pt"),
                            Path("benchmarks/runs/seed-0/checkpoints/final.pt")) if p.exists()), None)
GOALS = {"onnxruntime_one_stream_p50_us_max": 50.0, "bulk_rows_per_s_min": 1_000_000}


def latency(ex: StreamExtractor, S: np.ndarray, pushes: int, warmup: int = 500) -> dict:
    ex.reset()
    for s in S[:warmup]:
        ex.push(s)
    values = [float(v) for v in np.resize(S, pushes)]
    ns = np.empty(pushes)
    clock = time.perf_counter_ns
    for i, s in enumerate(values):
        t0 = clock()
        ex.push(s)
        ns[i] = clock() - t0
    us = ns / 1000.0
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99)),
            "mean_us": float(us.mean()), "pushes": pushes}


def throughput(run, repeats: int) -> dict:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - t0)
    sec = float(np.median(times))
    return {"rows": rows, "seconds_median": sec, "seconds_best": float(min(times)), "rows_per_s": rows / sec}


def whole_signal(ex: StreamExtractor, S: np.ndarray):
    def run() -> int:
        ex.reset()
        return int(ex.push(S).size)
    return run


def two_workers(path: Path, S: np.ndarray):
    halves = [StreamExtractor.from_checkpoint(path, frequencies=f, threads=1) for f in ([1, 3], [5, 7])]
    pool = ThreadPoolExecutor(max_workers=2)

    def run() -> int:
        return sum(pool.map(lambda ex: whole_signal(ex, S)(), halves))
    return run


def trained_drift(path: Path, workdir: Path, sig) -> dict:
    export_onnx(path, workdir / "trained.onnx")
    eager = StreamExtractor.from_checkpoint(path).push(sig.S)  # (N, 4), one fused call
    ort = StreamExtractor.from_onnx(workdir / "trained.onnx")
    streamed = np.concatenate([ort.push(s) for s in sig.S])  # one sample per session run
    diff = np.abs(streamed - eager).max(axis=1)
    return {"checkpoint": str(path), "samples": int(sig.n_samples),
            "max_abs_diff": float(diff.max()), "max_abs_diff_first_1000": float(diff[:1000].max()),
            "test_mse_torch": float(((eager.T - sig.targets) ** 2).mean()),
            "test_mse_onnxruntime": float(((streamed.T - sig.targets) ** 2).mean())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pushes", type=int, default=20000, help="timed pushes per latency row")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per throughput row")
    p.add_argument("--trained", type=Path, default=TRAINED,
                   help="a trained checkpoint for the onnxruntime-vs-PyTorch difference (optional)")
    p.add_argument("--out", default="benchmarks/results/stream.json")
    a = p.parse_args(argv)
    torch_default_threads = torch.get_num_threads()  # before anything sets it
    load_before = os.getloadavg()
    cfg = load(None)
    sig = generate(cfg.signal, cfg.signal.test_seed)
    S = sig.S
    latency_rows, batch_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        torch.manual_seed(0)
        checkpoint.save(work / "model.pt", checkpoint.build_model(cfg), cfg, step=0)
        export_onnx(work / "model.pt", work / "model.onnx")
        ckpt, graph = work / "model.pt", work / "model.onnx"
        backends = [
            ("torch", torch_default_threads,
             lambda f: StreamExtractor.from_checkpoint(ckpt, f, threads=torch_default_threads)),
            ("torch", 1, lambda f: StreamExtractor.from_checkpoint(ckpt, f, threads=1)),
            ("onnxruntime", 1, lambda f: StreamExtractor.from_onnx(graph, f, threads=1)),
        ]
        for name, threads, make in backends:
            for freqs in ([3.0], None):
                ex = make(freqs)
                latency_rows.append({"backend": name, "threads": threads, "streams": ex.n_streams,
                                     **latency(ex, S, a.pushes)})
            ex = make(None)
            mode = ("one fused nn.LSTM call, 4 streams x 10 000 steps" if name == "torch"
                    else "10 000 session runs of 4 streams")
            batch_rows.append({"backend": name, "threads": threads, "mode": mode,
                               **throughput(whole_signal(ex, S), a.repeats)})
        batch_rows.append({"backend": "torch", "threads": 2,
                           "mode": "2 workers: 2 fused calls of 2 streams at once, 1 thread each",
                           **throughput(two_workers(ckpt, S), a.repeats)})
        trained = trained_drift(a.trained, work, sig) if a.trained else None
    result = {
        "benchmark": "stream",
        "model": "default config (H 64, 1 layer, 4 frequencies), untrained, init seed 0",
        "note": "latency and throughput do not depend on training: the same operations run for any weights",
        "latency": latency_rows, "batch": batch_rows, "trained": trained, "goals": GOALS,
        "cpu_count": os.cpu_count(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "torch_default_threads": torch_default_threads,
        "load_average_before": load_before[0], "load_average_after": os.getloadavg()[0],
        "torch": str(torch.__version__), "onnxruntime": __import__("onnxruntime").__version__,
        "machine": platform.machine(), "python": platform.python_version(),
    }
    print(f"{'backend':<12}{'threads':>8}{'streams':>8}{'p50 us':>9}{'p99 us':>9}")
    for r in latency_rows:
        print(f"{r['backend']:<12}{r['threads']:>8}{r['streams']:>8}{r['p50_us']:>9.1f}{r['p99_us']:>9.1f}")
    print(f"\n{'backend':<12}{'threads':>8}{'rows/s':>12}{'best':>12}  mode (40 000 rows: the test set)")
    for r in batch_rows:
        best = r["rows"] / r["seconds_best"]
        print(f"{r['backend']:<12}{r['threads']:>8}{r['rows_per_s']:>12,.0f}{best:>12,.0f}  {r['mode']}")
    print(f"\n{result['model']}; {result['note']}.")
    print(f"OMP_NUM_THREADS={result['OMP_NUM_THREADS']}, torch default threads {torch_default_threads}, "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
          f"{result['load_average_after']:.1f} after")
    if trained:
        print(f"trained model {trained['checkpoint']}: onnxruntime streamed vs PyTorch max |diff| "
              f"{trained['max_abs_diff']:.2e} over {trained['samples']} samples "
              f"({trained['max_abs_diff_first_1000']:.2e} over the first 1000); test MSE "
              f"{trained['test_mse_torch']:.6f} / {trained['test_mse_onnxruntime']:.6f}")
    write_json(a.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
