"""All components from one stream: the selector model against the multi-output model (model.outputs = "all").

For each scenario (spec; offsets with signal.phase_scale 0.1, configs/offsets.toml) and each value of
model.outputs, one ordinary ``freqextract run`` with one candidate and the scenario's budget, the same
``--set`` list for both outputs. Recorded: the test MSE (mean over the test seeds 2..11 where the run has
it, else seed 2) and per frequency, the training seconds, and the inference cost of all K components per
sample over a 10 s signal: one fused forward (selector: K streams; multi-output: one stream) and one
``step`` per sample, in microseconds per sample, on one thread.

    python benchmarks/bench_outputs.py [--budget default|quick] [--only spec offsets] [--set k=v ...]
                                       [--runs-dir benchmarks/runs/outputs] [--out benchmarks/results/outputs.json]

The default budget is about 10 min of training per run on one core for spec (the learned recipe with one
candidate) and about 8 min for offsets (a shorter curriculum at 4 realisations, sized from timed steps of
the selector model against the spec recipe's; the multi-output model's steps are cheaper, its budget in
steps the same); ``--budget quick`` is a seconds-long smoke of the whole pipeline.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

OUTPUTS = ("selector", "all")
COMMON = ["train.candidates=1", "eval.baselines=false", "eval.report=false"]
# scenario -> (config, the --set list both outputs train under)
BUDGETS = {
    "default": {"spec": ("spec", []),
                "offsets": ("offsets", ["train.warmup_steps=2500", "train.growth_steps=500",
                                        "train.final_steps=80", "train.realisations=4"])},
    "quick": {"spec": ("spec", ["signal.duration=1.0", "model.hidden_size=16", "train.warmup_horizon=100",
                                "train.warmup_steps=30", "train.growth_steps=15", "train.final_steps=5",
                                "train.warmup_gate=0.0", "train.growth_gate=0.0", "train.restart_gate=0.0"]),
              "offsets": ("offsets", ["signal.duration=1.0", "model.hidden_size=16", "train.warmup_horizon=100",
                                      "train.warmup_steps=30", "train.growth_steps=15", "train.final_steps=5",
                                      "train.realisations=4"])},
}
TIMED_SECONDS = 10.0  # length of the signal the inference cost is measured on


def train_run(config: str, sets: list[str], outputs: str, out: Path) -> dict:
    """One ``freqextract run``; its metrics, or the last line of its error."""
    cmd = [sys.executable, "-m", "freqextract.cli", "run", "--config", config, "--out", str(out), "--quiet",
           *sum((["--set", s] for s in [*sets, f"model.outputs={outputs}"]), [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"failed": (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]}
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    ms = m.get("multi_seed") or {}
    if ms.get("mean") is not None:
        test, per, seeds = ms["mean"], [f["mean"] for f in ms["per_frequency"]], "2..11"
    else:
        test, per, seeds = m["test"]["mse"], m["test"]["per_frequency_mse"], "2"
    return {"test_mse": test, "per_frequency_mse": per, "test_seeds": seeds, "steps": m["training"]["steps"],
            "training_seconds": m["training"]["seconds"], "wall_seconds": wall, "run_dir": str(out)}


def inference_cost(checkpoint: Path, seconds: float = TIMED_SECONDS, repeats: int = 3) -> dict:
    """Microseconds per sample for all K components: the fused forward over ``seconds`` of signal (best of
    ``repeats``) and one ``step`` per sample, on one thread."""
    import torch

    from freqextract.models.checkpoint import load_model
    from freqextract.signals.data import streams_for
    from freqextract.signals.scenarios import generate

    torch.set_num_threads(1)
    model, cfg, _ = load_model(checkpoint)
    sig = generate(dataclasses.replace(cfg.signal, duration=seconds), cfg.signal.test_seed)
    x, _ = streams_for(model.outputs, sig.S[None], sig.targets[None])  # (K, N, 1+K) or (1, N, 1)
    x = torch.as_tensor(x)
    N = x.shape[1]
    with torch.inference_mode():
        fused = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            fused.append(time.perf_counter() - t0)
        state = model.init_state(x.shape[0])
        t0 = time.perf_counter()
        for n in range(N):
            _, state = model.step(x[:, n], state)
        stepped = time.perf_counter() - t0
    return {"streams": int(x.shape[0]), "samples": N, "fused_us_per_sample": min(fused) / N * 1e6,
            "step_us_per_sample": stepped / N * 1e6}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", choices=list(BUDGETS), default="default")
    p.add_argument("--only", nargs="+", choices=list(BUDGETS["default"]), default=list(BUDGETS["default"]))
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="added to every run's list (both outputs)")
    p.add_argument("--runs-dir", type=Path, default=Path("benchmarks/runs/outputs"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/outputs.json"))
    a = p.parse_args(argv)
    rows = []
    for scenario in a.only:
        config, budget = BUDGETS[a.budget][scenario]
        sets = [*COMMON, *budget, *a.set]
        for outputs in OUTPUTS:
            out = a.runs_dir / a.budget / f"{scenario}-{outputs}"
            row = {"scenario": scenario, "outputs": outputs, "config": config, "set": sets,
                   **train_run(config, sets, outputs, out)}
            if "failed" not in row:
                row["inference"] = inference_cost(out / "checkpoints" / "final.pt")
            rows.append(row)
            print(f"{scenario} {outputs}: " + (row["failed"] if "failed" in row else f"test MSE {row['test_mse']:.5f}"),
                  flush=True)
    result = {"budget": a.budget, "rows": rows, "timed_seconds": TIMED_SECONDS, "machine": platform.machine(),
              "cpus": os.cpu_count()}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'scenario':<8} {'outputs':<8} {'test MSE':>9} {'worst f':>9} {'train s':>8} {'fused us':>9} "
          f"{'step us':>8}")
    for r in rows:
        if "failed" in r:
            print(f"{r['scenario']:<8} {r['outputs']:<8} failed: {r['failed']}")
            continue
        i = r["inference"]
        print(f"{r['scenario']:<8} {r['outputs']:<8} {r['test_mse']:9.5f} {max(r['per_frequency_mse']):9.5f} "
              f"{r['training_seconds']:8.0f} {i['fused_us_per_sample']:9.2f} {i['step_us_per_sample']:8.1f}")
    print(f"wrote {a.out}")
    return 0 if all("failed" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
