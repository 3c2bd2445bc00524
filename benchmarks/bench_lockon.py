"""The lock-on after the reset on `offsets`: the LSTM beside the tuned RLS and the Bayes references.

On `offsets` nearly all of any causal method's 10 s MSE is made in the first half second, while the phases
are still unknown. This compares, over the same held-out test seeds, the trained LSTM of an offsets run
directory, rls-tuned (known-frequency least squares, the best *linear* causal estimator, with its
forgetting and prior tuned on the run's training-side seeds, eval.tune_seed..), bayes-smc (the particle
filter approximating the posterior mean E[target | S_0..S_n] over the whole 10 s) and, with ``--grid G``,
freqextract.evaluation.bayes.grid_posterior_mean (the posterior mean on a grid of G phases per component,
over the first ``--samples`` only), in time bins after the reset, with how much of the 10 s MSE each bin
makes (bin MSE x bin length / N) and the LSTM's 10 s MSE over rls-tuned's and bayes-smc's.

    python benchmarks/bench_lockon.py [--run DIR ...] [--grid 0] [--samples 500] [--particles 4096]
                                      [--out benchmarks/results/lockon.json]

The default runs are bench_scenarios.py's two offsets rows (s = 0.1, without and with sigma = 0.1).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from freqextract.config import TEST_SEEDS
from freqextract.evaluation import references
from freqextract.evaluation.bayes import grid_posterior_mean
from freqextract.evaluation.metrics import predict_many
from freqextract.evaluation.smc import smc_posterior_mean
from freqextract.models import load_model
from freqextract.signals import generate

EDGES_S = (0.0, 0.1, 0.25, 0.5)  # bin edges in seconds after the reset


def measure(run_dir: str, grid: int, samples: int, particles: int) -> dict:
    """The bins of one offsets run directory's LSTM and the references on its test seeds."""
    model, cfg, _ = load_model(Path(run_dir) / "checkpoints" / "final.pt")
    sc = cfg.signal
    if sc.scenario != "offsets":
        raise SystemExit(f"--run {run_dir}: scenario {sc.scenario!r}, not offsets")
    seeds = list(range(sc.test_seed, sc.test_seed + TEST_SEEDS))
    sigs = [generate(sc, s) for s in seeds]
    edges = [int(round(e * sc.fs)) for e in EDGES_S]
    if samples < edges[-1]:
        raise SystemExit(f"--samples must cover the bins ({edges[-1]} samples)")
    N = sigs[0].n_samples
    record = references.tune(sc, cfg.eval.tuning_seeds(), ["rls-tuned"])
    methods = {"LSTM": predict_many(model, sigs),  # (R, K, N)
               "rls-tuned": np.stack([references.run_tuned(s, record)["rls-tuned"] for s in sigs])}
    seconds = {}
    t0 = time.perf_counter()
    methods["bayes-smc"] = np.stack([smc_posterior_mean(s, sc.phase_scale, sc.amplitude, sc.noise_sigma,
                                                        particles=particles) for s in sigs])
    seconds["bayes-smc"] = time.perf_counter() - t0
    if grid:
        t0 = time.perf_counter()
        methods[f"posterior mean (grid {grid})"] = np.stack([
            grid_posterior_mean(s, sc.phase_scale, sc.amplitude, sc.noise_sigma, samples, grid) for s in sigs])
        seconds["grid"] = time.perf_counter() - t0
    targets = np.stack([s.targets for s in sigs])  # (R, K, N)
    rows = []
    for name, out in methods.items():
        err = (out - targets[..., :out.shape[-1]]) ** 2
        bins = [float(err[..., lo:hi].mean()) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        share = [b * (hi - lo) / N for b, lo, hi in zip(bins, edges[:-1], edges[1:], strict=True)]
        rows.append({"method": name, "bin_mse": bins, "share_of_10s_mse": share,
                     "first_0.5s_share": float(sum(share)),
                     "mse_10s": float(err.mean()) if out.shape[-1] == N else None,
                     "after_0.5s_mse": float(err[..., edges[-1]:].mean()) if out.shape[-1] == N else None})
    total = {r["method"]: r["mse_10s"] for r in rows}
    ratio = {n: total["LSTM"] / total[n] for n in ("rls-tuned", "bayes-smc") if total.get(n)}
    return {"run_dir": run_dir, "phase_scale": sc.phase_scale, "noise_sigma": sc.noise_sigma, "seeds": seeds,
            "rows": rows, "lstm_ratio_to": ratio, "tuned": record["references"]["rls-tuned"]["params"],
            "tuning_seeds": record["seeds"], "posterior_seconds": seconds.get("grid", 0.0),
            "bayes_seconds": seconds["bayes-smc"], "particles": particles}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", nargs="+", default=["benchmarks/runs/scenario-offsets-s-0.1",
                                                 "benchmarks/runs/scenario-offsets-s-0.1-sigma-0.1"],
                   help="offsets run directories")
    p.add_argument("--grid", type=int, default=0,
                   help="phases per component of the grid posterior over the first --samples (0 = leave it out)")
    p.add_argument("--particles", type=int, default=4096, help="particles of bayes-smc")
    p.add_argument("--samples", type=int, default=500, help="samples after the reset the posterior covers")
    p.add_argument("--out", default="benchmarks/results/lockon.json")
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    runs = [measure(d, a.grid, a.samples, a.particles) for d in a.run]
    labels = [f"{lo:g}-{hi:g} s" for lo, hi in zip(EDGES_S[:-1], EDGES_S[1:], strict=True)]
    for r in runs:
        print(f"offsets s={r['phase_scale']:g} sigma={r['noise_sigma']:g}, test seeds {r['seeds'][0]}.."
              f"{r['seeds'][-1]}: MSE in time bins after the reset (share of the 10 s MSE)")
        print(f"{'method':<28}" + "".join(f"{x:>22}" for x in labels) + f"{'10 s MSE':>12}")
        for row in r["rows"]:
            cells = "".join(f"{b:>12.4f} ({s:.5f})" for b, s in zip(row["bin_mse"], row["share_of_10s_mse"],
                                                                    strict=True))
            total = "" if row["mse_10s"] is None else f"{row['mse_10s']:.5f}"
            print(f"{row['method']:<28}{cells}{total:>12}")
        print("LSTM's 10 s MSE over " + ", ".join(f"{n}'s: {v:.2f}" for n, v in r["lstm_ratio_to"].items())
              + f" (rls-tuned: {r['tuned']})")
    result = {"benchmark": "lockon", "grid": a.grid, "samples": a.samples, "particles": a.particles,
              "bin_edges_s": list(EDGES_S),
              "runs": runs, "seconds": time.perf_counter() - t0, "machine": platform.machine(),
              "python": platform.python_version()}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
