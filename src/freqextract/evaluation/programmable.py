"""Evaluating a programmable oscillator (scenario ``programmable``, docs/scenarios.md).

On the test noise seeds (signal.test_seed ..), the model is asked for every held-out frequency and for a
grid across the band; each answer is scored against sin(2 pi f t) from the reset by its MSE over the whole
sequence, over the first second (lock-on) and over the last second (drift). Answering 0 scores 0.5.
"""

from __future__ import annotations

import numpy as np

from ..config import TEST_SEEDS, RunConfig, allowed_intervals
from ..signals.data import request_streams
from ..signals.programmable import targets
from ..signals.scenarios import generate

GRID_STEP_HZ = 0.25  # spacing of the grid across the band
ZERO_MSE = 0.5  # the MSE of answering 0 to a unit sine


def grid(cfg: RunConfig) -> np.ndarray:
    """The grid frequencies (Hz): band low to high every GRID_STEP_HZ."""
    lo, hi = cfg.signal.band
    return np.round(np.arange(lo, hi + 1e-9, GRID_STEP_HZ), 9)


def seen(cfg: RunConfig, hz: float) -> bool:
    """Whether training could draw ``hz`` (it lies in the band less the held-out margins)."""
    return any(a <= hz <= b for a, b in allowed_intervals(cfg.signal))


def outputs(model, cfg: RunConfig, S: np.ndarray, hz: np.ndarray) -> np.ndarray:
    """S (R, N) and frequencies (Q,) Hz -> (R, Q, N) the model's answers from the reset."""
    import torch

    R, N = S.shape
    nu = np.broadcast_to(np.asarray(hz, dtype=np.float64) / cfg.signal.fs, (R, len(hz)))
    x = request_streams(S, nu, cfg.model.conditioning, cfg.signal.band[1] / cfg.signal.fs)  # (R*Q, N, n)
    p = next(model.parameters())
    with torch.no_grad():
        y, _ = model(torch.as_tensor(x, dtype=p.dtype, device=p.device))  # (R*Q, N)
    return y.double().cpu().numpy().reshape(R, len(hz), N)


def score(y: np.ndarray, hz: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    """Answers (R, Q, N) -> per-frequency MSE (Q,) over all, the first and the last second, seed-averaged."""
    N = y.shape[-1]
    sq = (y - targets(hz, N, fs)[None]) ** 2  # (R, Q, N)
    sec = max(1, min(N, int(round(fs))))
    return {"mse": sq.mean(axis=(0, 2)), "first_s": sq[..., :sec].mean(axis=(0, 2)),
            "last_s": sq[..., N - sec:].mean(axis=(0, 2))}


def _rows(cfg: RunConfig, hz: np.ndarray, s: dict) -> list[dict]:
    return [{"hz": float(f), "seen": seen(cfg, float(f)), "mse": float(s["mse"][i]),
             "first_s": float(s["first_s"][i]), "last_s": float(s["last_s"][i])} for i, f in enumerate(hz)]


def test_signals(cfg: RunConfig, n_seeds: int = TEST_SEEDS) -> np.ndarray:
    """(R, N) the spec S of the test seeds signal.test_seed .. + n_seeds - 1."""
    return np.stack([generate(cfg.signal, cfg.signal.test_seed + i).S for i in range(n_seeds)])


def evaluate_programmable(model, cfg: RunConfig, n_seeds: int = TEST_SEEDS) -> tuple[dict, dict]:
    """(metrics, outputs): the held-out and grid tables, and the first test seed's answers to the held-out
    frequencies (``hz`` (Q,), ``test`` (Q, N)) for the report."""
    S = test_signals(cfg, n_seeds)
    held = np.asarray(cfg.signal.heldout, dtype=np.float64)
    g = grid(cfg)
    hz = np.concatenate([held, g])
    y = outputs(model, cfg, S, hz)  # (R, Q, N)
    s = score(y, hz, cfg.signal.fs)
    rows = _rows(cfg, hz, s)
    held_rows, grid_rows = rows[:len(held)], rows[len(held):]
    seen_grid = [r["mse"] for r in grid_rows if r["seen"]]
    table = {"heldout": held_rows, "grid": grid_rows, "grid_step_hz": GRID_STEP_HZ,
             "mean_heldout_mse": float(np.mean([r["mse"] for r in held_rows])) if held_rows else None,
             "mean_seen_mse": float(np.mean(seen_grid)) if seen_grid else None,
             "mean_grid_mse": float(np.mean([r["mse"] for r in grid_rows])),
             "zero_mse": ZERO_MSE, "band_hz": list(cfg.signal.band), "heldout_margin_hz": cfg.signal.heldout_margin,
             "seeds": [cfg.signal.test_seed + i for i in range(n_seeds)], "duration_s": cfg.signal.duration,
             "fs": cfg.signal.fs}
    metrics = {"scenario": "programmable", "kind": "programmable", "conditioning": cfg.model.conditioning,
               "programmable": table}
    return metrics, {"hz": held, "test": y[0, :len(held)], "S": S[0]}


def programmable_card(model, cfg: RunConfig, shuffle_seed: int | None = None) -> tuple[dict, dict]:
    """(card, ablation): the mean MSE over the held-out frequencies on the first test seed, with S as it
    is and shuffled in time (a model that reads S loses it; ``models.card``)."""
    from ..models.card import make_card

    S = test_signals(cfg, 1)
    hz = np.asarray(cfg.signal.heldout or grid(cfg)[:1], dtype=np.float64)
    rng = np.random.default_rng(cfg.eval.shuffle_seed if shuffle_seed is None else shuffle_seed)
    mse = float(score(outputs(model, cfg, S, hz), hz, cfg.signal.fs)["mse"].mean())
    shuffled = float(score(outputs(model, cfg, rng.permutation(S, axis=1), hz), hz, cfg.signal.fs)["mse"].mean())
    zeroed = float(score(outputs(model, cfg, np.zeros_like(S), hz), hz, cfg.signal.fs)["mse"].mean())
    ablation = {"test_mse_S_shuffled": shuffled, "test_mse_S_zeroed": zeroed}
    card = make_card("programmable", mse, ablation)
    card.update({"kind": "programmable", "band_hz": list(cfg.signal.band), "fs": cfg.signal.fs,
                 "measure": "MSE at the held-out frequencies, first test seed"})
    return card, ablation


def summary(metrics: dict) -> str:
    """A few lines for the console: MSE at each held-out frequency and over the band."""
    t = metrics["programmable"]
    lines = [f"programmable oscillator: MSE over {t['duration_s']:g} s on {len(t['seeds'])} test seeds "
             f"(answering 0: {t['zero_mse']:g})"]
    for r in t["heldout"]:
        lines.append(f"  held-out {r['hz']:6.2f} Hz  MSE {r['mse']:.5f}  first s {r['first_s']:.5f}  "
                     f"last s {r['last_s']:.5f}")
    seen_mse = t["mean_seen_mse"]
    held = t["mean_heldout_mse"]
    lines.append(f"  mean: held-out {'n/a' if held is None else format(held, '.5f')}, seen grid "
                 f"{'n/a' if seen_mse is None else format(seen_mse, '.5f')}, whole grid {t['mean_grid_mse']:.5f} "
                 f"(every {t['grid_step_hz']:g} Hz over {t['band_hz'][0]:g}..{t['band_hz'][1]:g} Hz)")
    return "\n".join(lines)
