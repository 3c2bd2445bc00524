"""Levers on the learned clock's recipe (``--config spec``): what each does with one init per seed.

Every lever is a set of overrides on the learned recipe with ``train.candidates = 1``; every seed is an
ordinary ``freqextract run`` (``bench_oneinit.run_seed``), trained with training seeds 0..N-1 and tested on
noise seed 2. The table gives, per lever, the test MSE per seed, the median, the worst frequency, how many
seeds meet the one-init targets (every seed <= 0.002 with every frequency <= 0.004) and the mean training
time. ``--only NAME ...`` re-measures some levers and keeps the others' rows. The planted clock and the
polish are measured by their own tables (bench_oneinit.py, bench_rotation.py).

    python benchmarks/bench_levers.py [--seeds 3] [--workers 2] [--only NAME ...]
                                      [--runs benchmarks/runs/levers] [--out benchmarks/results/levers.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_oneinit import FREQ_TARGET, SEED_TARGET, run_seed  # noqa: E402

from freqextract.fmt import mse  # noqa: E402

# name -> (overrides on --config spec, seeds trained at once: a lever that takes both cores runs alone)
LEVERS: dict[str, tuple[list[str], int | None]] = {
    "none (the learned recipe, one init)": ([], None),
    "4 noise realisations per step, half the steps": (
        ["train.realisations=4", "train.warmup_steps=1500", "train.warmup_extra=500", "train.growth_steps=1250",
         "train.final_steps=250"], None),
    "both cores for one candidate (2 torch threads)": (["train.threads=2"], 1),
}


def measure(name: str, seeds: int, workers: int, runs: Path) -> dict:
    sets, own = LEVERS[name]
    workers = own or workers
    folder = runs / name.split(" (")[0].replace(" ", "-").replace(",", "")
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda s: run_seed(s, "spec", sets, folder), range(seeds)))
    ok = [r for r in rows if "failed" not in r]
    tests = [r["test_mse"] for r in ok]
    return {"lever": name, "set": sets, "workers": workers, "rows": rows,
            "median_test_mse": statistics.median(tests) if tests else None,
            "met": sum(r["test_mse"] <= SEED_TARGET and max(r["per_frequency_mse"]) <= FREQ_TARGET for r in ok),
            "mean_training_seconds": statistics.mean(r["training_seconds"] for r in ok) if ok else None}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="training seeds 0..N-1")
    p.add_argument("--workers", type=int, default=2, help="seeds trained at once (each on one core)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="re-measure these levers (by name, or a prefix)")
    p.add_argument("--runs", type=Path, default=Path("benchmarks/runs/levers"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/levers.json"))
    a = p.parse_args(argv)
    names = list(LEVERS)
    if a.only:
        names = [n for n in LEVERS if any(n.startswith(o) for o in a.only)]
        if not names:
            p.error(f"--only: no lever named {' '.join(a.only)} (levers: {'; '.join(LEVERS)})")
    old = json.loads(a.out.read_text(encoding="utf-8")) if a.out.is_file() else {"levers": []}
    measured = {name: measure(name, a.seeds, a.workers, a.runs) for name in names}
    levers = [measured.get(n) or next((x for x in old["levers"] if x["lever"] == n), None) for n in LEVERS]
    result = {"config": "spec", "seeds": a.seeds, "levers": [x for x in levers if x is not None],
              "targets": {"seed": SEED_TARGET, "frequency": FREQ_TARGET},
              "machine": platform.machine(), "cpus": os.cpu_count()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for x in result["levers"]:
        per_seed = " ".join(mse(r["test_mse"]) if "failed" not in r else "failed" for r in x["rows"])
        med, secs = x["median_test_mse"], x["mean_training_seconds"]
        print(f"{x['lever']}: {per_seed}; median {'n/a' if med is None else mse(med)}, {x['met']}/{len(x['rows'])} "
              f"seeds meet the targets, training {'n/a' if secs is None else format(secs, '.0f')} s")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
