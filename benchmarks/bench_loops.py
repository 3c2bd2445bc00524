"""Literal L=1 loop vs fused loop: time per epoch at equal settings.

An epoch is one pass over the 40 000 training rows as 4 streams x 10 000 samples from the reset state,
truncated backprop every ``--window`` samples, one Adam step per window (the trainer's train_sequence).
Both loops compute the same outputs and gradients (tests/models/test_lstm.py); only the time differs.

    python benchmarks/bench_loops.py [--window 1000] [--epochs 2] [--out benchmarks/results/loops.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

from freqextract.config import load
from freqextract.models import StatefulLSTM
from freqextract.runtime import configure_threads
from freqextract.signals import generate, to_streams
from freqextract.training import fused_window, literal_window, train_sequence


def time_epochs(window_fn, x, y, window: int, epochs: int, hidden: int) -> list[float]:
    torch.manual_seed(0)
    model = StatefulLSTM(hidden_size=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        train_sequence(model, opt, x, y, window, clip=1.0, window_fn=window_fn)
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--window", type=int, default=1000, help="truncation window in samples")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    p.add_argument("--out", default="benchmarks/results/loops.json")
    a = p.parse_args(argv)
    configure_threads(a.threads)
    cfg = load(None)
    x, y = to_streams(generate(cfg.signal, cfg.signal.train_seed))  # (4, 10000, 5), (4, 10000)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    fused = time_epochs(fused_window, xt, yt, a.window, a.epochs, a.hidden)
    literal = time_epochs(literal_window, xt, yt, a.window, a.epochs, a.hidden)
    f, l_ = float(np.median(fused)), float(np.median(literal))
    result = {
        "benchmark": "loops", "rows_per_epoch": int(y.size), "window": a.window, "hidden_size": a.hidden,
        "epochs": a.epochs, "literal_s_per_epoch": l_, "fused_s_per_epoch": f, "speedup": l_ / f,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(), "torch": str(torch.__version__),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "python": platform.python_version(),
    }
    print(f"{'loop':<10}{'s/epoch':>10}")
    print(f"{'literal':<10}{l_:>10.3f}")
    print(f"{'fused':<10}{f:>10.3f}")
    print(f"speed-up {l_ / f:.1f}x  (window {a.window}, H {a.hidden}, {int(y.size)} rows per epoch, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB)")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
