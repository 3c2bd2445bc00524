"""Transfer: start from the bundled extractor's weights (``--init-from``) or from scratch, on a new task.

The task is the offsets scenario's four frequencies in the mix setting: every mixture holds 1, 3, 5 and
7 Hz (``signal.mix_frequencies``) with its own levels and phases, the requests are those four and absent
ones. Both variants train configs/mix.toml's recipe, shortened (``--steps`` on the 1 s warm-up horizon,
``--growth`` steps growing it to 10 s, ``--final`` steps at 10 s), on the same data; validation (its own
mixtures, whole 10 s) every ``--log-every`` steps, the first after one step. Reported: the training
seconds until the validation NMSE of present requests first reaches ``--target`` and stays there, and both
models' NMSE and absent power on held-out mixtures.

    python benchmarks/bench_transfer.py [--steps 300] [--growth 100] [--final 50] [--target 0.05]
                                        [--model extractor] [--out benchmarks/results/transfer.json]
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from freqextract.atomic import write_json
from freqextract.config import load
from freqextract.evaluation.mix import check_model
from freqextract.serving import bundled
from freqextract.training.loop import train

TASK = ["signal.mix_frequencies=[1.0, 3.0, 5.0, 7.0]"]
HELD_OUT = [2, 3, 4, 5, 6, 7]


def seconds_to(history: list[dict], target: float) -> float | None:
    since = None
    for rec in history:
        ok = rec["val_per_frequency_mse"][0] <= target
        since = (rec["seconds"] if since is None else since) if ok else None
    return since


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--growth", type=int, default=100)
    ap.add_argument("--final", type=int, default=50)
    ap.add_argument("--target", type=float, default=0.05)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--model", default=bundled.DEFAULT)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/transfer.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = [*TASK, f"train.growth_steps={args.growth}", f"train.final_steps={args.final}",
            f"train.warmup_steps={args.steps}",
            f"train.log_every={args.log_every}"]
    start = bundled.checkpoint_path(args.model)
    rows = []
    for label, extra in (("from scratch", []), (f"from bundled '{args.model}'", [f'train.init_from="{start}"'])):
        cfg = load("mix", [*base, *extra])
        result = train(cfg, progress=False)
        held = check_model(result.model, cfg, HELD_OUT)
        rows.append({"start": label, "steps": result.steps, "seconds": result.seconds,
                     "seconds_to_target": seconds_to(result.history, args.target),
                     "first_val_nmse": result.history[0]["val_per_frequency_mse"][0],
                     "nmse": held["nmse"], "absent_power": held["absent_power"],
                     "curve": [(r["step"], r["seconds"], r["val_per_frequency_mse"][0]) for r in result.history]})
        print(f"{label}: held-out NMSE {held['nmse']:.4f}, absent {held['absent_power']:.4f}, "
              f"to target {rows[-1]['seconds_to_target']}", flush=True)
    write_json(args.out, {"rows": rows, "target": args.target, "task": "mix with 1, 3, 5, 7 Hz",
                          "held_out_seeds": HELD_OUT, "machine": f"{platform.machine()}, torch threads 1",
                          "command": f"python benchmarks/bench_transfer.py --steps {args.steps} --growth "
                                     f"{args.growth} --final {args.final} --target {args.target:g}"})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
