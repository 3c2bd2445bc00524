"""The LSTM beside every classical baseline on each scenario: mean test MSE over held-out seeds.

For each scenario (spec; phase-scaled s = 0.1 and 0.01; offsets s = 0.1 without and with white Gaussian
noise) this runs a complete ``freqextract run`` (bundled config plus overrides, otherwise the defaults),
takes the model's test MSE on seeds 2..11 from its metrics.json (``multi_seed``), and runs every baseline
of freqextract.evaluation.baselines on the same seeds. A run directory whose config.toml already equals the requested
config and holds metrics.json is reused (``--fresh`` retrains); ``--run LABEL=DIR`` takes a scenario's
model from any finished run directory of that scenario (e.g. the spec row from the multi-seed study).

    python benchmarks/bench_scenarios.py [--only LABEL ...] [--set k=v ...] [--fresh] [--run LABEL=DIR]
                                         [--runs-dir benchmarks/runs] [--out benchmarks/results/scenarios.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from freqextract.config import dumps, load
from freqextract.evaluation.baselines import BASELINES, run_all
from freqextract.evaluation.metrics import error_vs_time, mse
from freqextract.signals import generate

SCENARIOS: dict[str, tuple[str, list[str]]] = {  # label -> (bundled config, overrides)
    "spec": ("spec", []),
    "phase-scaled s=0.1": ("phase-scaled", ["signal.phase_scale=0.1"]),
    "phase-scaled s=0.01": ("phase-scaled", ["signal.phase_scale=0.01"]),
    "offsets s=0.1": ("offsets", ["signal.phase_scale=0.1", "signal.noise_sigma=0.0"]),
    "offsets s=0.1 sigma=0.1": ("offsets", ["signal.phase_scale=0.1", "signal.noise_sigma=0.1"]),
}
CAUSAL_REFERENCE = ("rls-causal", "bandpass-causal")


def goal(label: str, lstm: float, base: dict[str, float]) -> tuple[str, bool | None]:
    """The target each scenario is held to (None: no target, reported only)."""
    if label.startswith(("spec", "phase-scaled")):
        return "≤ 0.005", lstm <= 0.005
    if label == "offsets s=0.1":
        ok = lstm <= 1.5 * base["rls-causal"] and lstm <= 0.25 * base["bandpass-causal"]
        return "≤ 1.5× RLS and ≤ ¼ causal band-pass", ok
    return "", None


def early_late(outputs: np.ndarray, targets: np.ndarray, fs: float) -> dict:
    """MSE over the first half second after the reset (the lock-on transient) and from 1.5 s on (settled),
    from evaluation.metrics.error_vs_time's half-second bins (equal-sized for the scenarios' whole seconds)."""
    bins = error_vs_time(outputs, targets, fs, bin_seconds=0.5)["mse"]
    return {"first_0.5s": float(bins[0]), "after_1.5s": float(np.mean(bins[3:]))}


def slug(label: str) -> str:
    return "scenario-" + re.sub(r"[^a-z0-9.]+", "-", label.lower()).strip("-")


def train_run(label: str, cfg_name: str, overrides: list[str], a) -> tuple[Path, bool, float]:
    """A run directory holding metrics.json for this config: reused when its config.toml matches."""
    given = dict(item.split("=", 1) for item in a.run)
    if label in given:
        out = Path(given[label])
        have = load(str(out / "config.toml"), []).signal
        if have != load(cfg_name, overrides, signal_only=True).signal:
            raise SystemExit(f"--run {label}={out}: that run's [signal] is not this scenario's")
        return out, True, 0.0
    out = Path(a.runs_dir) / slug(label)
    wanted = dumps(load(cfg_name, overrides))
    if not a.fresh and (out / "metrics.json").exists() and (out / "config.toml").read_text() == wanted:
        return out, True, 0.0
    cmd = [sys.executable, "-m", "freqextract.cli", "run", "--config", cfg_name, "--out", str(out),
           "--overwrite", "--quiet", *sum((["--set", s] for s in overrides), [])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{label}: freqextract run failed:\n{proc.stderr[-2000:]}")
    return out, False, time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=list(SCENARIOS), metavar="LABEL", help="a subset of scenarios")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="extra override for every scenario's run (e.g. train.seed=1)")
    p.add_argument("--fresh", action="store_true", help="retrain even where a matching run exists")
    p.add_argument("--run", action="append", default=[], metavar="LABEL=DIR",
                   help="take this scenario's model from a finished run directory")
    p.add_argument("--runs-dir", default="benchmarks/runs")
    p.add_argument("--out", default="benchmarks/results/scenarios.json")
    a = p.parse_args(argv)
    rows = []
    for label in a.only or SCENARIOS:
        cfg_name, overrides = SCENARIOS[label]
        overrides = [*overrides, *a.set]
        run_dir, reused, wall = train_run(label, cfg_name, overrides, a)
        m = json.loads((run_dir / "metrics.json").read_text())
        ms = m["multi_seed"]
        sig_cfg = load(cfg_name, overrides, signal_only=True).signal
        per_seed = {n: [] for n in BASELINES}
        for seed in ms["seeds"]:
            sig = generate(sig_cfg, seed)
            for n, out in run_all(sig).items():
                per_seed[n].append(mse(out, sig.targets)["mse"])
        base = {n: float(np.mean(v)) for n, v in per_seed.items()}
        first = generate(sig_cfg, ms["seeds"][0])  # where the error sits in time, on the first test seed
        with np.load(run_dir / "predictions.npz") as z:
            lstm_out = z["test"]
        timing = {"seed": ms["seeds"][0], "lstm": early_late(lstm_out, first.targets, first.fs),
                  "rls-causal": early_late(run_all(first, ["rls-causal"])["rls-causal"], first.targets, first.fs)}
        target, met = goal(label, ms["mean"], base)
        rows.append({
            "scenario": label, "config": cfg_name, "overrides": overrides, "run_dir": str(run_dir),
            "reused": reused, "run_wall_seconds": wall, "train_seconds": m["training"]["seconds"],
            "seeds": ms["seeds"], "lstm_mean_mse": ms["mean"], "lstm_ci95_halfwidth": ms["ci95_halfwidth"],
            "lstm_per_seed_mse": ms["mse"],
            "lstm_mean_per_frequency_mse": [float(v) for v in np.mean(ms["per_frequency_mse"], axis=0)],
            "baselines_mean_mse": base, "baselines_per_seed_mse": per_seed,
            "ratio_to": {n: ms["mean"] / base[n] for n in CAUSAL_REFERENCE if base[n] > 0},
            "target": target, "met": met, "error_in_time": timing,
        })
    names = list(BASELINES)
    print(f"mean test MSE over seeds {rows[0]['seeds'][0]}..{rows[0]['seeds'][-1]}")
    print(f"{'scenario':<26}{'LSTM':>10}{'±95%':>9}" + "".join(f"{n:>21}" for n in names) + "  target")
    for r in rows:
        verdict = "" if r["met"] is None else ("met" if r["met"] else "MISSED")
        print(f"{r['scenario']:<26}{r['lstm_mean_mse']:>10.5f}{r['lstm_ci95_halfwidth']:>9.5f}"
              + "".join(f"{r['baselines_mean_mse'][n]:>21.5f}" for n in names)
              + f"  {r['target']} {verdict}{'  (reused run)' if r['reused'] else ''}")
    print(f"seed {rows[0]['seeds'][0]}, MSE in the first 0.5 s / from 1.5 s on:")
    for r in rows:
        t = r["error_in_time"]
        print(f"  {r['scenario']:<26} LSTM {t['lstm']['first_0.5s']:.5f} / {t['lstm']['after_1.5s']:.5f}   "
              f"RLS {t['rls-causal']['first_0.5s']:.5f} / {t['rls-causal']['after_1.5s']:.5f}")
    kinds = {n: "oracle" if BASELINES[n].oracle else "causal" if BASELINES[n].causal else "non-causal"
             for n in names}
    result = {"benchmark": "scenarios", "rows": rows, "baseline_kinds": kinds,
              "machine": platform.machine(), "python": platform.python_version()}
    out = Path(a.out)
    previous = json.loads(out.read_text()) if a.only and out.exists() else None
    if previous:  # a subset run keeps the other scenarios' rows
        keep = [r for r in previous["rows"] if r["scenario"] not in {x["scenario"] for x in rows}]
        result["rows"] = sorted(keep + rows, key=lambda r: list(SCENARIOS).index(r["scenario"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
