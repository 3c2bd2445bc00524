"""How the requested frequency should enter the model: concat vs FiLM vs demod, same data and budget.

Each conditioning trains the configs/mix.toml model (H, init, lr) for ``--steps`` steps on the warm-up
horizon (the same fresh mixtures and requests for every one: the data RNG is seeded alike), then is scored
on held-out mixtures (seeds from signal.test_seed, whole 10 s sequences): mean NMSE of present requests
and output power of absent ones, beside the tuned references on the same sequences. A budget this small
ranks the conditionings by how fast they learn; it is not the bundled model's score.

    python benchmarks/bench_conditioning.py [--steps 600] [--sequences 6] [--out benchmarks/results/conditioning.json]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

from freqextract.atomic import write_json
from freqextract.config import CONDITIONINGS, load
from freqextract.evaluation.mix import evaluate_mix, held_out_signals, tune_references, tuning_signals
from freqextract.models.lstm import count_parameters
from freqextract.training.loop import train


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--sequences", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/conditioning.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = ["train.growth_steps=0", "train.final_steps=0", f"train.warmup_steps={args.steps}",
            f"eval.mix_sequences={args.sequences}", f"train.log_every={args.steps}"]
    cfg0 = load("mix", base)
    tuned = tune_references(tuning_signals(cfg0), cfg0.eval.absent_separation)
    signals = held_out_signals(cfg0)
    rows = []
    for cond in CONDITIONINGS:
        cfg = load("mix", [*base, f'model.conditioning="{cond}"'])
        t0 = time.perf_counter()
        result = train(cfg, progress=False)
        seconds = time.perf_counter() - t0
        r = evaluate_mix(result.model, cfg, signals=signals, tuned=tuned)
        rows.append({"conditioning": cond, "parameters": count_parameters(result.model), "steps": result.steps,
                     "train_seconds": seconds, "nmse": r["model"]["nmse"], "absent_power": r["model"]["absent_power"]})
        print(f"{cond:>7}: NMSE {rows[-1]['nmse']:.4f}, absent power {rows[-1]['absent_power']:.4f}, "
              f"{seconds:.0f} s", flush=True)
    refs = {k: {"nmse": v["nmse"], "absent_power": v["absent_power"]} for k, v in r["references"].items()
            if k != "zero"}
    result = {"rows": rows, "references": refs, "steps": args.steps, "horizon": cfg0.train.warmup_horizon,
              "sequences": r["sequences"], "machine": f"{platform.machine()}, torch threads 1",
              "command": "python benchmarks/bench_conditioning.py " + " ".join(argv or sys.argv[1:])}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
