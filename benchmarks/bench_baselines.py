"""Classical baselines on every scenario: mean test MSE over held-out seeds.

Scenarios (the bundled configs plus overrides): spec; phase-scaled s = 0.1 and 0.01; offsets s = 0.1
without and with white Gaussian noise (sigma 0.1 by default). For each, seeds 2..11 (``--seeds``), every
baseline of freqextract.evaluation.baselines with its defaults, plus the causal band-pass with geometric centring
(``bandpass-causal-geometric``: no phase lag at f) for comparison. MSE over all K*N rows, as evaluation.metrics.mse.

    python benchmarks/bench_baselines.py [--seeds 2 3 ...] [--sigma 0.1]
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
from freqextract.evaluation.baselines import BASELINES, DEFAULTS, bandpass_causal, run_all
from freqextract.evaluation.metrics import mse
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(2, 12)), help="test noise seeds")
    p.add_argument("--sigma", type=float, default=0.1, help="AWGN standard deviation, noisy offsets case")
    p.add_argument("--out", default="benchmarks/results/baselines.json")
    a = p.parse_args(argv)
    names = [*BASELINES, EXTRA]
    results: dict[str, dict] = {}
    seconds = dict.fromkeys(names, 0.0)
    t_start = time.perf_counter()
    for label, (cfg_name, overrides) in scenarios(a.sigma).items():
        sig_cfg = load(cfg_name, overrides, signal_only=True).signal
        per: dict[str, list[dict]] = {n: [] for n in names}
        for seed in a.seeds:
            sig = generate(sig_cfg, seed)
            for name in BASELINES:
                t0 = time.perf_counter()
                out = run_all(sig, [name])[name]
                seconds[name] += time.perf_counter() - t0
                per[name].append(mse(out, sig.targets))
            t0 = time.perf_counter()
            per[EXTRA].append(mse(bandpass_causal(sig, centre="geometric"), sig.targets))
            seconds[EXTRA] += time.perf_counter() - t0
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
                for n in names
            },
        }
    total = time.perf_counter() - t_start
    labels = {n: ("oracle" if BASELINES[n].oracle else "causal" if BASELINES[n].causal else "NON-causal")
              if n in BASELINES else "causal" for n in names}
    result = {
        "benchmark": "baselines", "seeds": a.seeds, "params": DEFAULTS,
        "extra": {EXTRA: "bandpass-causal with centre='geometric' (same width, no phase lag at f)"},
        "kinds": labels, "scenarios": results,
        "seconds_per_run": {n: seconds[n] / (len(a.seeds) * len(results)) for n in names},
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
              + "".join(f"{results[c]['baselines'][n]['mean_mse']:>{colw}.5f}" for c in cols))
    print(f"total {total:.1f} s; per run: "
          + ", ".join(f"{n} {1000 * v:.0f} ms" for n, v in result["seconds_per_run"].items()))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
