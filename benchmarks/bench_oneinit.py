"""One init is enough: a recipe (``--config``, the learned ``spec`` by default; ``spec-planted`` is the default
run) trained with training seeds 0..N-1, one candidate each.

Every seed is an ordinary ``freqextract run`` (that config, ``train.candidates = 1``, ``train.seed =
s``), so its wall time is what a user waits for: data, training, evaluation, baselines, report. The table
gives, per seed, the test MSE on noise seed 2, per frequency, the mean over the test seeds 2..11, the
training and the wall time, and checks the targets (every seed <= 0.002 with every frequency <= 0.004, the
median <= 0.001), and each selector's free-running frequency error in ppm (``freqextract explain``, run
at the end of every ``run``). With ``--workers 2`` two seeds train side by side (each on one core): the times are then
those of a machine doing two runs at once.

    python benchmarks/bench_oneinit.py [--seeds 5] [--workers 1] [--config spec] [--set k=v ...]
                                       [--runs benchmarks/runs/oneinit] [--out benchmarks/results/oneinit.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SEED_TARGET, FREQ_TARGET, MEDIAN_TARGET = 0.002, 0.004, 0.001


def run_seed(seed: int, config: str, sets: list[str], runs: Path, reuse: bool = False) -> dict:
    out = runs / f"seed-{seed}"
    if reuse and (out / "metrics.json").is_file():
        return _row(seed, out, None)
    cmd = [sys.executable, "-m", "freqextract.cli", "run", "--config", config, "--out", str(out),
           "--set", f"train.seed={seed}", "--set", "train.candidates=1", *sum((["--set", s] for s in sets), [])]
    if reuse and (out / "checkpoints").is_dir():  # an interrupted run: go on from its training state
        cmd = [sys.executable, "-m", "freqextract.cli", "run", "--resume", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"seed": seed, "failed": proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]}
    return _row(seed, out, wall)


def _row(seed: int, out: Path, wall: float | None) -> dict:
    """One seed's row from its finished run directory (wall: the run's wall time, None when not timed here)."""
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    if m["training"].get("resumed"):
        wall = None  # went on from an interrupted run's training state: this call's time is not the run's
    polish = [r["polish"] for r in json.loads((out / "history.json").read_text(encoding="utf-8"))
              if r.get("phase") == "polish"]
    explain = out / "explain.json"  # the run's free-running measurement (freqextract explain)
    ppm = json.loads(explain.read_text(encoding="utf-8"))["ppm_error"] if explain.is_file() else None
    return {"seed": seed, "test_mse": m["test"]["mse"], "per_frequency_mse": m["test"]["per_frequency_mse"],
            "multi_seed_mean": m["multi_seed"]["mean"],
            # the candidate's own time over every invocation that trained it (a resumed run's counts too)
            "training_seconds": next(c["seconds"] for c in m["training"]["candidates"] if c.get("kept")),
            "steps": m["training"]["steps"], "wall_seconds": wall,
            "polish": polish[0] if polish else None, "free_running_ppm": ppm, "run_dir": str(out)}


def _secs(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5, help="training seeds 0..N-1")
    p.add_argument("--workers", type=int, default=1, help="seeds trained at once")
    p.add_argument("--config", default="spec")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--runs", type=Path, default=Path("benchmarks/runs/oneinit"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/oneinit.json"))
    p.add_argument("--note", default="", help="a remark on how it was run, printed under the table")
    p.add_argument("--reuse", action="store_true",
                   help="a seed whose run directory is finished is read, not trained again (its wall time unknown); "
                        "an interrupted one goes on from its training state")
    a = p.parse_args(argv)
    a.runs.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(a.workers) as pool:
        rows = list(pool.map(lambda s: run_seed(s, a.config, a.set, a.runs, a.reuse), range(a.seeds)))
    ok = [r for r in rows if "failed" not in r]
    tests = [r["test_mse"] for r in ok]
    median = statistics.median(tests) if tests else None
    met = (len(ok) == len(rows) and all(r["test_mse"] <= SEED_TARGET and max(r["per_frequency_mse"]) <= FREQ_TARGET
                                        for r in ok) and median is not None and median <= MEDIAN_TARGET)
    result = {"config": a.config, "set": a.set, "seeds": a.seeds, "workers": a.workers, "rows": rows,
              "median_test_mse": median, "targets": {"seed": SEED_TARGET, "frequency": FREQ_TARGET,
                                                      "median": MEDIAN_TARGET}, "met": met,
              "machine": platform.machine(), "cpus": os.cpu_count(), "note": a.note}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'seed':>4} {'test MSE':>9} {'worst f':>9} {'2..11':>9} {'train s':>8} {'wall s':>7}")
    for r in rows:
        if "failed" in r:
            print(f"{r['seed']:>4} failed: {r['failed'][0]}")
            continue
        print(f"{r['seed']:>4} {r['test_mse']:9.5f} {max(r['per_frequency_mse']):9.5f} {r['multi_seed_mean']:9.5f} "
              f"{r['training_seconds']:8.0f} {_secs(r['wall_seconds']):>7}")
    if median is not None:
        print(f"median test MSE {median:.5f}; targets {'met' if met else 'missed'}")
    print(f"wrote {a.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
