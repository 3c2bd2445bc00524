"""The multi-seed study of the default model: N training seeds, each model tested on the noise seeds
2..11, the mean test MSE across training seeds with a 95% confidence interval (t-distribution).

It is ``freqextract sweep --preset multiseed`` (configs/multiseed.toml: a grid over train.seed = 0..N-1,
each trial an ordinary `freqextract run`, two inits per seed kept by validation MSE), run with K local
workers; this script only times it and copies the study's summary into benchmarks/results. Each worker
trains two inits side by side, so K workers keep 2K cores busy: run it alone on the machine.

    python benchmarks/bench_multiseed.py [--seeds 10] [--workers 1] [--config spec] [--set k=v ...]
                                         [--sweep-dir benchmarks/runs/multiseed]
                                         [--out benchmarks/results/multiseed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10, help="training seeds 0..N-1")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--config", default="spec")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--sweep-dir", default="benchmarks/runs/multiseed")
    p.add_argument("--out", default="benchmarks/results/multiseed.json")
    a = p.parse_args(argv)
    cmd = [sys.executable, "-m", "freqextract.cli", "sweep", "--config", a.config, "--preset", "multiseed",
           "--trials", str(a.seeds), "--workers", str(a.workers), "--out", a.sweep_dir,
           *sum((["--set", s] for s in a.set), [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"the study failed (exit status {proc.returncode})", file=sys.stderr)
        return 1
    summary = json.loads((Path(a.sweep_dir) / "summary.json").read_text())
    o = summary["over_seeds"]
    if not o:
        print("no trial completed", file=sys.stderr)
        return 1
    result = {"seeds": a.seeds, "workers": a.workers, "config": a.config, "set": a.set,
              "frequencies": summary["frequencies"], "states": summary["states"], "wall_seconds": wall,
              "machine": platform.machine(), "cpus": os.cpu_count(), "over_seeds": o}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    ms = o["multi_seed_mean"]
    print(f"{'seed':>4} {'val MSE':>9} {'test MSE':>9} {'mean 2..11':>10}")
    for r in o["rows"]:
        print(f"{r['seed']:>4} {r['validation_mse']:9.5f} {r['test_mse']:9.5f} {r['multi_seed_mean']:10.5f}")
    ci = f" (95% CI {ms['ci95'][0]:.5f} to {ms['ci95'][1]:.5f})" if ms.get("ci95") else ""
    print(f"mean over {o['n']} training seeds: {ms['mean']:.5f}{ci}; {o['met_target']} meet the target; "
          f"{wall:.0f} s wall")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
