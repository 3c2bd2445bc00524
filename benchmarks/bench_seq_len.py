"""Why sequence length 1 with the state carried: L = 1 against windows of 10 and 50, carried or reset.

Every row trains the same network (one init, no candidates) and evaluates on the test seed over the whole
10 s. The L = 1 and carry rows share one reduced curriculum (``--set`` replaces it); the reset rows train
on the first 1 000 samples only, because an output that sees only the last L samples from the zero state
cannot know the time since the reset, so a longer horizon offers it nothing to learn (and a stride-1
window costs L LSTM steps per output):

    L = 1              one sample per step, state carried, gradient through the whole horizon
    L = 10/50 carry    consecutive windows, state carried between them (so the forward pass equals L = 1),
                       gradient cut at every window edge, as a stateful windowed trainer does
    L = 10/50 reset    each output sees only the last L samples from the zero state (sliding window, stride 1)

    python benchmarks/bench_seq_len.py [--jobs 2] [--set train.growth_steps=600 ...]
                                       [--out benchmarks/results/seq_len.json]
    python benchmarks/bench_seq_len.py --full     # the learned recipe, one init: seq_len_full.json

``--full`` trains the L = 1 and carry rows on the whole learned recipe (configs/spec.toml, its gates
included) with one init and no restart, so L = 1 is one candidate of a learned run; the reset rows keep their budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROWS = [(1, "carry"), (10, "carry"), (50, "carry"), (10, "reset"), (50, "reset")]
# One init per row, never restarted (a restart would hand some rows more inits than others), and the
# growth lr of the budget this table was first measured with (lr falling as 1000/h).
DEFAULT_BUDGET = ["train.warmup_steps=1500", "train.growth_steps=600", "train.final_steps=100",
                  "train.warmup_gate=0", "train.growth_gate=0", "train.candidates=1", "train.restart_gate=0",
                  "train.growth_lr_power=1"]
FULL_BUDGET = ["train.candidates=1", "train.restart_gate=0"]  # the learned recipe, one init, never restarted
RESET_BUDGET = ["train.warmup_steps=400", "train.growth_steps=0", "train.final_steps=0",
                "train.warmup_gate=0", "train.candidates=1", "train.restart_gate=0"]


def run_row(args) -> dict:
    seq_len, state, overrides = args
    from freqextract.config import load
    from freqextract.evaluation.metrics import evaluate_signal
    from freqextract.signals import generate
    from freqextract.training import train

    cfg = load(None, [f"model.seq_len={seq_len}", f'model.window_state="{state}"', *overrides])
    t0 = time.perf_counter()
    result = train(cfg, progress=False)
    seconds = time.perf_counter() - t0
    m, _ = evaluate_signal(result.model, generate(cfg.signal, cfg.signal.test_seed))
    return {"seq_len": seq_len, "window_state": state, "overrides": overrides, "test_mse": m["mse"],
            "test_per_frequency_mse": m["per_frequency_mse"], "train_seconds": seconds, "steps": result.steps}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE",
                   help=f"overrides for every row (default: {' '.join(DEFAULT_BUDGET)})")
    p.add_argument("--full", action="store_true", help=f"the learned recipe: {' '.join(FULL_BUDGET)}")
    p.add_argument("--out", default=None, help="default: benchmarks/results/seq_len.json "
                                               "(seq_len_full.json with --full)")
    a = p.parse_args(argv)
    if a.full and a.set is not None:
        p.error("--full and --set: choose one budget")
    overrides = FULL_BUDGET if a.full else DEFAULT_BUDGET if a.set is None else a.set
    a.out = a.out or f"benchmarks/results/seq_len{'_full' if a.full else ''}.json"
    jobs = [(L, s, overrides if s == "carry" else RESET_BUDGET) for L, s in ROWS]
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        rows = list(pool.map(run_row, jobs))
    print(f"{'L':>3} {'state':>6} {'test MSE':>9} {'per frequency':>36} {'steps':>6} {'train s':>8}")
    for r in rows:
        print(f"{r['seq_len']:>3} {r['window_state']:>6} {r['test_mse']:9.4f} "
              f"{' '.join(f'{v:8.4f}' for v in r['test_per_frequency_mse']):>36} {r['steps']:>6} "
              f"{r['train_seconds']:8.0f}")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": "seq_len_full" if a.full else "seq_len", "budget": "full" if a.full else "reduced",
              "overrides": overrides, "reset_overrides": RESET_BUDGET, "rows": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
