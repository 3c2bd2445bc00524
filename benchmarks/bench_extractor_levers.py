"""What moves the bundled extractor: the same few hundred steps spent several ways, from its weights.

Every lever trains on from the bundled model's weights (``train.init_from``) under configs/mix-finetune.toml
(the whole 10 s, the rate from 3e-4 down to 0 on a cosine) with ``--steps`` steps and its own overrides;
every lever draws the same training mixtures (``train.seed``). Then the model's NMSE and absent power on
the held-out mixtures of the bundled model's card (seeds 2..11), so the row "the bundled model" is the
card's number, measured again, and the ratio to the card's tuned band-pass says how far each lever is
from the target (at most 0.5). Training seconds are each lever's own, two levers at once. The levers: more
of the same, bigger batches, truncated backprop, shorter sequences, the loss's weights (absent requests,
mixture sizes) and capacity (a model twice as wide, started computing exactly what the bundled one does).

    python benchmarks/bench_extractor_levers.py [--steps 300] [--workers 2] [--model extractor]
                                                [--out benchmarks/results/extractor_levers.json]
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from freqextract.atomic import write_json

# label -> overrides on configs/mix-finetune.toml (besides the start and the steps)
LEVERS: dict[str, list[str]] = {
    "more of the same: 4 mixtures per step": ["train.realisations=4"],
    "8 mixtures per step (mix-finetune's choice)": ["train.realisations=8"],
    "backprop truncated every 1 s (ten updates per sequence)": ["train.realisations=4", "train.tbptt=1000"],
    "the first 2 s only (five times cheaper steps)": ["train.realisations=4", "signal.duration=2.0"],
    "absent requests weighed 0.2 in the loss (their power is 0.4 %, the limit 5 %)":
        ["train.realisations=4", "train.absent_weight=0.2"],
    "present requests weighed by their mixture's size, as the held-out set counts them":
        ["train.realisations=4", "train.count_weighting=true"],
    "128 units: the bundled 64 and 64 new ones (models/widen.py)": ["train.realisations=4", "model.hidden_size=128"],
}


def held_out(model, model_name: str) -> dict:
    """The model's NMSE and absent power on the card's held-out mixtures, under the card's config."""
    from freqextract.evaluation.mix import check_model
    from freqextract.models.checkpoint import load_model
    from freqextract.serving import bundled

    _, cfg, _ = load_model(bundled.checkpoint_path(model_name))
    seeds = bundled.card(model_name)["held_out"]["test"]["sequences"]
    return check_model(model, cfg, seeds)


def measure(label: str, steps: int, model_name: str) -> dict:
    import torch

    from freqextract.config import load
    from freqextract.serving import bundled
    from freqextract.training.loop import train

    torch.set_num_threads(1)
    start = bundled.checkpoint_path(model_name)
    cfg = load("mix-finetune", [*LEVERS[label], f"train.final_steps={steps}", f'train.init_from="{start}"',
                                f"train.log_every={steps}"])
    result = train(cfg, progress=False)
    h = held_out(result.model, model_name)
    return {"lever": label, "set": LEVERS[label], "steps": result.steps, "seconds": result.seconds,
            "nmse": h["nmse"], "absent_power": h["absent_power"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--workers", type=int, default=2, help="levers trained at once (each on one core)")
    p.add_argument("--model", default="extractor", help="the bundled model to start from")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/extractor_levers.json"))
    a = p.parse_args(argv)
    from freqextract.models.checkpoint import load_model
    from freqextract.serving import bundled

    card = bundled.card(a.model)
    model, _, _ = load_model(bundled.checkpoint_path(a.model))
    start = held_out(model, a.model)
    rows = [{"lever": f"the bundled model ({card['training_steps']} steps)", "set": [], "steps": 0,
             "seconds": 0.0, "nmse": start["nmse"], "absent_power": start["absent_power"]}]
    print(f"{rows[0]['lever']}: held-out NMSE {start['nmse']:.5f}", flush=True)
    with ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(measure, label, a.steps, a.model) for label in LEVERS]
        for f in futures:
            rows.append(f.result())
            print(f"{rows[-1]['lever']}: held-out NMSE {rows[-1]['nmse']:.5f}, absent {rows[-1]['absent_power']:.5f}, "
                  f"{rows[-1]['seconds']:.0f} s", flush=True)
    bandpass = card["held_out"]["test"]["references"]["bandpass-tuned"]["nmse"]
    for r in rows:
        r["ratio_to_bandpass"] = r["nmse"] / bandpass
    write_json(a.out, {"rows": rows, "bandpass_tuned": bandpass, "model": a.model,
                       "held_out_seeds": card["held_out"]["test"]["sequences"], "steps": a.steps,
                       "machine": f"{platform.machine()}, torch threads 1, {a.workers} levers at once",
                       "command": f"python benchmarks/bench_extractor_levers.py --steps {a.steps} "
                                  f"--workers {a.workers}"})
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
