"""Figures (matplotlib, Agg): the assignment's two graphs and the training curve.

Each function takes plain arrays, draws one figure and saves it as PNG (atomically); nothing here trains
or evaluates.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .atomic import atomic_path  # noqa: E402

COLORS = {"noisy": "#b0b0b0", "target": "#1f4e9c", "output": "#e4572e"}


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _zoom_window(fs: float, n: int, freq: float) -> slice:
    """About two periods (at least 0.5 s) at the end of the signal, where drift would show."""
    length = int(min(n, max(0.5, 2.0 / freq) * fs))
    return slice(n - length, n)


def _panel(ax, t, S, target, output, freq: float, title: str, dots_every: int) -> None:
    ax.plot(t, S, color=COLORS["noisy"], lw=0.6, alpha=0.7, label="noisy mixture S", zorder=1)
    ax.plot(t, target, color=COLORS["target"], lw=2.0, label=f"pure target sin(2π·{freq:g}·t)", zorder=2)
    ax.plot(t[::dots_every], output[::dots_every], "o", color=COLORS["output"], ms=3.2, mec="none",
            label="LSTM output", zorder=3)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    ax.set_ylim(-1.6, 1.6)
    ax.grid(alpha=0.3)


def graph1(path, t, S, target, output, freq: float, mse: float) -> Path:
    """Graph 1 of the assignment: one frequency on the test set; full 10 s above, a zoomed window below."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), gridspec_kw={"height_ratios": [1, 1]})
    n = len(t)
    _panel(top, t, S, target, output, freq, f"f = {freq:g} Hz, test set, full signal — MSE {mse:.5f}",
           dots_every=max(1, n // 400))
    z = _zoom_window(1.0 / (t[1] - t[0]), n, freq)
    _panel(bottom, t[z], S[z], target[z], output[z], freq, f"zoom: last {t[z][-1] - t[z][0] + t[1] - t[0]:.2f} s",
           dots_every=max(1, (z.stop - z.start) // 120))
    top.legend(loc="upper right", fontsize=8, ncol=3, framealpha=0.9)
    fig.suptitle("Graph 1 — extraction of one component (test noise seed)", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def graph2(path, t, S, targets, outputs, freqs, per_freq_mse) -> Path:
    """Graph 2 of the assignment: a 2x2 grid, one panel per frequency, each with its MSE (zoomed window)."""
    K = len(freqs)
    cols = 2 if K > 1 else 1
    rows = int(np.ceil(K / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.4 * rows), squeeze=False)
    fs = 1.0 / (t[1] - t[0])
    for k, ax in enumerate(axes.flat):
        if k >= K:
            ax.axis("off")
            continue
        z = slice(0, int(min(len(t), max(1.0, 2.0 / freqs[k]) * fs)))
        _panel(ax, t[z], S[z], targets[k][z], outputs[k][z], freqs[k],
               f"{freqs[k]:g} Hz — MSE {per_freq_mse[k]:.5f} (whole 10 s)", dots_every=max(1, (z.stop - z.start) // 100))
    axes.flat[0].legend(loc="upper right", fontsize=7, framealpha=0.9)
    fig.suptitle("Graph 2 — every component on the test set (first seconds shown)", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


def training_curve(path, history: list[dict], freqs) -> Path:
    """Training loss per frequency and validation MSE against step, the horizon on a second axis."""
    fig, ax = plt.subplots(figsize=(10, 4.2))
    steps = [h["step"] for h in history]
    per = np.array([h["per_frequency_loss"] for h in history]) if history else np.zeros((0, len(freqs)))
    for k, f in enumerate(freqs):
        ax.semilogy(steps, np.maximum(per[:, k], 1e-7), lw=1.3, label=f"{f:g} Hz (train)")
    val = [h.get("val_mse") for h in history]
    if history and all(v is not None for v in val):
        ax.semilogy(steps, np.maximum(val, 1e-7), "k--", lw=1.8, label="validation, whole signal")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("MSE")
    ax.grid(alpha=0.3, which="both")
    ax2 = ax.twinx()
    ax2.step(steps, [h["horizon"] / 1000 for h in history], where="post", color="k", lw=1, alpha=0.5,
             label="horizon")
    ax2.set_ylabel("horizon (thousand samples)")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="lower left", fontsize=8, ncol=3)
    ax.set_title("Training loss per frequency (current horizon) and validation MSE (whole signal, val seed)")
    fig.tight_layout()
    return _save(fig, path)
