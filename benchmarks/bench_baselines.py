"""Every reference on every scenario: mean test MSE over held-out seeds.

Scenarios (the bundled configs plus overrides): spec; phase-scaled s = 0.1 and 0.01; offsets s = 0.1
without and with white Gaussian noise (sigma 0.1 by default). For each, seeds 2..11 (``--seeds``), every
baseline of freqextract.evaluation.baselines with its hand-set defaults (untuned), the causal band-pass
with geometric centring (``bandpass-causal-geometric``: no phase lag at f), rls-tuned and bandpass-tuned
(tuned on the scenario's training-side seeds, eval.tune_seed.., 1001..1008) and on offsets bayes-smc
(``--particles``; 0 leaves it out). MSE over all K*N rows, as evaluation.metrics.mse.

    python benchmarks/bench_baselines.py [--seeds 2 3 ...] [--sigma 0.1] [--particles 4096]
                                         [--out benchmarks/results/baselines.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy

from freqextract.config import load
from freqextract.evaluation import reference_panel, references
from freqextract.evaluation.baselines import BASELINES, DEFAULTS, bandpass_causal, run_all
from freqextract.evaluation.metrics import mse
from freqextract.evaluation.smc import smc_posterior_mean
from freqextract.signals import generate


def scenarios(sigma: float) -> dict[str, tuple[str | None, list[str]]]:
    """label -> (config name, overrides)."""
    return {
        "spec": (None, []),
        "phase-scaled s=0.1": ("phase-scaled", ["signal.phase_scale=0.1"]),
        "phase-scaled s=0.01": ("phase-scaled", ["signal.phase_scale=0.01"]),
        "offsets s=0.1": ("offsets", ["signal.phase_scale=0.1", "signal.noise_sigma=0.0"]),
        f"offsets s=0.1 sigma={sigma:g}": ("offsets",
                                           ["signal.phase_scale=0.1", f"signal.noise_sigma={sigma!r}"]),
    }


EXTRA = "bandpass-causal-geometric"


def estimators(sig_cfg, record: dict, particles: int) -> dict:
    """name -> function of a signal returning its outputs (K, N), one estimator each (timed apart)."""
    methods = {name: (lambda s, n=name: run_all(s, [n])[n]) for name in BASELINES}
    methods[EXTRA] = lambda s: bandpass_causal(s, centre="geometric")
    for name, rec in record["references"].items():
        methods[name] = lambda s, n=name, r=rec: references.run_tuned(s, {"references": {n: r}})[n]
    if particles:
        methods[reference_panel.BAYES] = lambda s: smc_posterior_mean(
            s, sig_cfg.phase_scale, sig_cfg.amplitude, sig_cfg.noise_sigma, particles=particles)
    return methods


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(2, 12)), help="test noise seeds")
    p.add_argument("--sigma", type=float, default=0.1, help="AWGN standard deviation, noisy offsets case")
    p.add_argument("--particles", type=int, default=4096, help="bayes-smc's particles on offsets (0 = none)")
    p.add_argument("--out", default="benchmarks/results/baselines.json")
    a = p.parse_args(argv)
    bayes = reference_panel.BAYES
    names = [*BASELINES, EXTRA, *references.TUNED, *([bayes] if a.particles else [])]
    results: dict[str, dict] = {}
    seconds = dict.fromkeys(names, 0.0)
    runs = dict.fromkeys(names, 0)
    tuning: dict[str, dict] = {}
    t_start = time.perf_counter()
    for label, (cfg_name, overrides) in scenarios(a.sigma).items():
        cfg = load(cfg_name, overrides)
        sig_cfg = cfg.signal
        t0 = time.perf_counter()
        record = references.tune(sig_cfg, cfg.eval.tuning_seeds())
        tuning[label] = {"seconds": time.perf_counter() - t0, "seeds": record["seeds"],
                         **{n: {"params": r["params"], "edges": r["edges"]} for n, r in record["references"].items()}}
        per: dict[str, list[dict]] = {n: [] for n in names if n != bayes or sig_cfg.scenario == "offsets"}
        methods = estimators(sig_cfg, record, a.particles if bayes in per else 0)
        for seed in a.seeds:
            sig = generate(sig_cfg, seed)
            for name, fn in methods.items():
                t0 = time.perf_counter()
                out = fn(sig)
                seconds[name] += time.perf_counter() - t0
                runs[name] += 1
                per[name].append(mse(out, sig.targets))
        results[label] = {
            "signal": {"scenario": sig_cfg.scenario, "phase_scale": sig_cfg.phase_scale,
                       "noise_sigma": sig_cfg.noise_sigma},
            "baselines": {
                n: {
                    "mean_mse": float(np.mean([m["mse"] for m in per[n]])),
                    "std_mse": float(np.std([m["mse"] for m in per[n]])),
                    "mean_per_frequency_mse": [float(v) for v in
                                               np.mean([m["per_frequency_mse"] for m in per[n]], axis=0)],
                    "per_seed_mse": [m["mse"] for m in per[n]],
                }
                for n in per
            },
        }
    total = time.perf_counter() - t_start
    labels = {**references.kinds(names), EXTRA: "untuned"}
    result = {
        "benchmark": "baselines", "seeds": a.seeds, "params": DEFAULTS,
        "extra": {EXTRA: "bandpass-causal with centre='geometric' (same width, no phase lag at f)"},
        "kinds": labels, "scenarios": results, "tuning": tuning, "particles": a.particles,
        "seconds_per_run": {n: seconds[n] / runs[n] for n in names if runs[n]},
        "total_seconds": total, "numpy": np.__version__, "scipy": scipy.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
    }
    width = max(len(n) for n in names) + 2
    cols = list(results)
    colw = max(len(c) for c in cols) + 2
    print(f"mean test MSE over seeds {a.seeds[0]}..{a.seeds[-1]} ({len(a.seeds)} seeds)")
    print(f"{'baseline':<{width}}{'':<12}" + "".join(f"{c:>{colw}}" for c in cols))
    for n in names:
        print(f"{n:<{width}}{labels[n]:<12}"
              + "".join(f"{results[c]['baselines'][n]['mean_mse']:>{colw}.5f}" if n in results[c]["baselines"]
                        else f"{'–':>{colw}}" for c in cols))
    print(f"total {total:.1f} s; per run: "
          + ", ".join(f"{n} {1000 * v:.0f} ms" for n, v in result["seconds_per_run"].items()))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
