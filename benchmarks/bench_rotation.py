"""The planted clock (model.init = "rotation"): how good before training, and what one optimiser does to it.

Builds the exact-spec selector model with each selector's limit cycle planted (``configs/spec-planted.toml``,
its rotation amplitude and hidden size) and measures the test MSE on noise seed 2 over the whole 10 s, per
frequency: at init, after 1 and 10 Adam steps at each learning rate (steps on fresh training noise at the
warm-up's 1 000-sample horizon, gradient clipped at 1, as the learned recipe's warm-up takes them), and
after the L-BFGS polish that the spec-planted config uses instead (``train.polish_iters`` on a fixed batch
at the whole length). Also the free-running frequency of each planted cycle as calibrated (float64, the
two-dimensional map of its cells), in ppm.

    python benchmarks/bench_rotation.py [--lrs 1e-3 1e-4 1e-5] [--out benchmarks/results/rotation.json]
"""

from __future__ import annotations

import argparse
import copy
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from freqextract.atomic import write_json
from freqextract.config import load
from freqextract.models import rotation
from freqextract.models.checkpoint import build_model
from freqextract.signals.data import to_streams
from freqextract.signals.scenarios import generate
from freqextract.training.batches import training_batch, validation_batch
from freqextract.training.polish import polish


def test_mse(model, x, y) -> list[float]:
    with torch.no_grad():
        out, _ = model(x)  # (K, N)
    return [float(v) for v in ((out - y) ** 2).mean(1)]


def calibrated_ppm(cfg) -> list[float]:
    """Free-running frequency error of each planted cycle on its own 2-d map, float64, over 20 periods."""
    out = []
    for f in cfg.signal.frequencies:
        theta = 2 * math.pi * f / cfg.signal.fs
        alpha, beta = rotation.calibrate(theta, cfg.model.rotation_amplitude)
        orbit = rotation._orbit(alpha, beta, cfg.model.rotation_amplitude, int(20 * cfg.signal.fs / f))
        out.append((rotation._angle_per_sample(orbit) / theta - 1) * 1e6)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 1e-4, 1e-5])
    p.add_argument("--steps", type=int, nargs="+", default=[1, 10])
    p.add_argument("--out", default="benchmarks/results/rotation.json")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = load("spec-planted")
    sig = generate(cfg.signal, cfg.signal.test_seed)
    x, y = (torch.tensor(v) for v in to_streams(sig))  # (K, N, 5), (K, N)
    torch.manual_seed(cfg.train.seed)
    t0 = time.perf_counter()
    planted = build_model(cfg)
    build_s = time.perf_counter() - t0
    rows = [{"what": "planted, no training", "lr": None, "steps": 0, "mse": test_mse(planted, x, y)}]
    print(f"init: {np.round(rows[0]['mse'], 6)} (built in {build_s:.1f} s)", flush=True)
    for lr in a.lrs:
        model = copy.deepcopy(planted)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        rng = np.random.default_rng([cfg.train.seed, 0xF2E9])
        for step in range(1, max(a.steps) + 1):
            batch = training_batch(cfg, rng, cfg.train.warmup_horizon, "cpu")  # x (R*K, h, 5), y (R*K, h)
            out, _ = model(batch.x)
            loss = batch.group_means((out - batch.y).pow(2).mean(1)).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.clip)
            opt.step()
            if step in a.steps:
                rows.append({"what": "Adam", "lr": lr, "steps": step, "mse": test_mse(model, x, y)})
                print(f"Adam lr {lr:g}, {step} step(s): {np.round(rows[-1]['mse'], 4)}", flush=True)
    model = copy.deepcopy(planted)
    info = polish(model, cfg, np.random.default_rng([cfg.train.seed, 0xF2E9]), "cpu", validation_batch(cfg, "cpu"))
    rows.append({"what": f"L-BFGS polish ({cfg.train.polish_iters} iterations, {cfg.train.polish_realisations} "
                         "realisations)", "lr": None, "steps": info["evaluations"], "mse": test_mse(model, x, y),
                 "kept": info["kept"], "seconds": info["seconds"]})
    print(f"polish: {np.round(rows[-1]['mse'], 6)} in {info['seconds']:.0f} s", flush=True)
    result = {"config": "spec-planted", "amplitude": cfg.model.rotation_amplitude,
              "hidden_size": cfg.model.hidden_size, "test_seed": cfg.signal.test_seed,
              "calibrated_ppm": calibrated_ppm(cfg), "build_seconds": build_s, "rows": rows,
              "machine": platform.machine(), "torch_threads": 1}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(a.out, result)  # a reader never sees half a file
    return 0


if __name__ == "__main__":
    sys.exit(main())
