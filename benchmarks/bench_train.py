"""The default run over several training seeds: test MSE spread, wall time, time to target, peak memory.

Each seed is a complete ``freqextract run`` with that base training seed: by default it trains two
candidate inits side by side (one process per core) and keeps the one with the lower validation MSE, so
the table shows every candidate's test MSE too: the spread over inits, not only over runs. Run it alone on
the machine (other load slows every step); ``--jobs`` runs several seeds at once (only with more cores).

``--from-sweep DIR`` trains nothing: it reads the run directories of a multi-seed study
(``python benchmarks/bench_multiseed.py``, i.e. ``freqextract sweep --preset multiseed``), whose trials are
the same default runs, so one pass of training gives both tables. Wall time is then the training time.

    python benchmarks/bench_train.py [--seeds 0 1 2] [--jobs 1] [--config spec] [--set k=v ...]
                                     [--runs-dir benchmarks/runs] [--out benchmarks/results/train_seeds.json]
    python benchmarks/bench_train.py --from-sweep benchmarks/runs/multiseed

One seed, alone on the machine, measures what the README's first command costs: ``--seeds 0 --out
benchmarks/results/run_time.json`` (the README's run-time sentence).
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

from freqextract.fmt import mse

TARGET_OVERALL, TARGET_EACH = 0.005, 0.01


def cpu_model() -> str:
    """The CPU's model name where /proc/cpuinfo tells it (run times compare only on the same CPU)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_seed(seed: int, a) -> dict:
    out = Path(a.runs_dir) / f"seed-{seed}"
    cmd = [sys.executable, "-m", "freqextract.cli", "run", "--config", a.config, "--out", str(out), "--overwrite",
           "--quiet", "--set", f"train.seed={seed}", *sum((["--set", s] for s in a.set), [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"seed": seed, "error": proc.stderr.strip()[-2000:], "wall_seconds": wall}
    return row_of(seed, out, wall)


def sweep_rows(sweep_dir: Path) -> list[dict]:
    """One row per finished trial of a multi-seed study, ordered by training seed."""
    import tomllib

    rows = []
    for run_dir in sorted((sweep_dir / "trials").iterdir()):
        if not (run_dir / "metrics.json").exists():
            continue
        seed = tomllib.loads((run_dir / "config.toml").read_text())["train"]["seed"]
        m = json.loads((run_dir / "metrics.json").read_text())
        rows.append(row_of(seed, run_dir, m["training"]["seconds"]))
    return sorted(rows, key=lambda r: r["seed"])


def row_of(seed: int, out: Path, wall: float) -> dict:
    m = json.loads((out / "metrics.json").read_text())
    return {
        "seed": seed, "run_dir": str(out), "wall_seconds": wall,
        "train_seconds": m["training"]["seconds"], "seconds_to_target": m["training"]["seconds_to_target"],
        "peak_rss_mib": m["training"]["peak_rss_mib"],
        "test_mse": m["test"]["mse"], "test_per_frequency_mse": m["test"]["per_frequency_mse"],
        "train_mse": m["train"]["mse"],
        "test_mse_S_zeroed": m["ablation"]["test_mse_S_zeroed"],
        "test_mse_S_shuffled": m["ablation"]["test_mse_S_shuffled"],
        "meets_target": m["test"]["mse"] <= TARGET_OVERALL and max(m["test"]["per_frequency_mse"]) <= TARGET_EACH,
        "candidates": [{k: c[k] for k in ("seed", "val_mse", "test_mse", "kept", "steps", "seconds")}
                       for c in m["training"].get("candidates", [])],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--config", default="spec")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--runs-dir", default="benchmarks/runs")
    p.add_argument("--out", default="benchmarks/results/train_seeds.json")
    p.add_argument("--from-sweep", metavar="DIR", help="read a multi-seed study's runs instead of training")
    a = p.parse_args(argv)
    if a.from_sweep:
        rows = sweep_rows(Path(a.from_sweep))
        a.jobs = 1
    else:
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            rows = list(pool.map(lambda s: run_seed(s, a), a.seeds))

    print(f"{'seed':>4} {'test MSE':>9} {'per frequency':>35} {'train':>8} {'S=0':>8} {'S shuf':>8} "
          f"{'train s':>8} {'to target':>9} {'wall s':>7} {'RSS MiB':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['seed']:>4} FAILED: {r['error'].splitlines()[-1] if r['error'] else '?'}")
            continue
        ttt = f"{r['seconds_to_target']:.0f}" if r["seconds_to_target"] is not None else "never"
        per_freq = " ".join(f"{mse(v):>8}" for v in r["test_per_frequency_mse"])
        print(f"{r['seed']:>4} {mse(r['test_mse']):>9} {per_freq:>35} "
              f"{mse(r['train_mse']):>8} {mse(r['test_mse_S_zeroed']):>8} {mse(r['test_mse_S_shuffled']):>8} "
              f"{r['train_seconds']:8.0f} {ttt:>9} {r['wall_seconds']:7.0f} {r['peak_rss_mib']:8.0f}")
    for r in rows:
        for c in r.get("candidates", []):
            print(f"     candidate seed {c['seed']}: validation {mse(c['val_mse'])}, test {mse(c['test_mse'])}, "
                  f"{c['steps']} steps, {c['seconds']:.0f} s{'  (kept)' if c['kept'] else ''}")
    ok = [r for r in rows if "error" not in r]
    summary = {}
    if ok:
        tests = [r["test_mse"] for r in ok]
        cands = [c for r in ok for c in r["candidates"]]
        summary = {
            "seeds": len(rows), "met_target": sum(r["meets_target"] for r in ok),
            "candidates": len(cands),
            "candidates_met_overall_target": sum(c["test_mse"] <= TARGET_OVERALL for c in cands),
            "test_mse_median": statistics.median(tests), "test_mse_mean": statistics.fmean(tests),
            "test_mse_worst": max(tests), "test_mse_best": min(tests),
            "wall_seconds_max": max(r["wall_seconds"] for r in ok),
        }
        print(f"met the target (test <= {TARGET_OVERALL}, each <= {TARGET_EACH}): {summary['met_target']}/{len(rows)}; "
              f"test MSE median {mse(summary['test_mse_median'])}, worst {mse(summary['test_mse_worst'])}; "
              f"slowest run {summary['wall_seconds_max']:.0f} s wall ({a.jobs} at a time)")
    result = {"benchmark": "train_seeds", "config": a.config, "overrides": a.set, "jobs": a.jobs, "rows": rows,
              "source": f"multi-seed study {a.from_sweep}" if a.from_sweep else "freqextract run per seed",
              "summary": summary, "machine": platform.machine(), "cpus": os.cpu_count(), "cpu_model": cpu_model(),
              "python": platform.python_version()}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ok and len(ok) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
