"""The figures of ``freqextract explain``: the hidden state's rings and the phase drift past the horizon.

    rings   per selector, the hidden state's first two principal components over the trained horizon with
            S = 0, coloured by the target's phase: one closed ring per period is an oscillator
    drift   per selector, the output's phase minus the target's over the whole free run, with S = 0 and
            with the scenario's S; the trained horizon shaded

Both take the arrays of :func:`freqextract.evaluation.explain.explain_with_arrays` and save a PNG
(atomically), returning its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .plots import _fc, _save


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 4)
    return (n + cols - 1) // cols, cols


def rings(path, proj: np.ndarray, t: np.ndarray, freqs, variance: list[list[float]]) -> Path:
    """proj (K, T, 2) projections at times t (T,) s; ``variance``: each selector's explained variance
    ratios (the first two are named in its panel)."""
    K = len(freqs)
    rows, cols = _grid(K)
    fig = Figure(figsize=(3.4 * cols, 3.5 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    mappable = None
    for k, f in enumerate(freqs):
        ax = axes[k]
        phase = np.degrees(np.mod(2 * np.pi * float(f) * t, 2 * np.pi))
        mappable = ax.scatter(proj[k, :, 0], proj[k, :, 1], c=phase, cmap="hsv", vmin=0, vmax=360, s=2,
                              lw=0)
        share = 100 * sum(variance[k][:2])
        ax.set_title(f"{f:g} Hz selected: PC 1 and 2 hold {share:.0f}%\nof the variance", fontsize=9)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    for ax in axes[K:]:
        ax.set_visible(False)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes[:K].tolist(), label="phase of the target sine (degrees)", shrink=0.8)
    fig.suptitle(f"Hidden state of the LSTM per selector, S = 0, t = {t[0]:g} to {t[-1]:.0f} s: an oscillator runs "
                 "round a ring once per period", fontsize=11)
    return _save(fig, path)


def drift(path, time: list, quiet: list, noisy: list, freqs, trained_s: float, seconds: float) -> Path:
    """Phase error (degrees) against time per selector: ``quiet`` with S = 0 and ``noisy`` with the
    scenario's S, lists of K (W_k,) unwrapped radians at window centres ``time``; the first ``trained_s``
    seconds shaded."""
    K = len(freqs)
    fig = Figure(figsize=(11, 1.9 * K + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(K, 1, sharex=True))
    for k, f in enumerate(freqs):
        ax = axes[k]
        ax.axvspan(0, trained_s, color="#e8eef8", zorder=0, label=f"trained horizon (first {trained_s:g} s)")
        ax.plot(time[k], np.degrees(quiet[k]), color=_fc(k), lw=1.6, label="S = 0")
        ax.plot(time[k], np.degrees(noisy[k]), color=_fc(k), lw=1.0, ls="--", alpha=0.8, label="with noise S")
        ax.axhline(0, color="k", lw=0.7)
        if max(np.isfinite(quiet[k]).sum(), np.isfinite(noisy[k]).sum()) < 3:
            ax.text(0.5, 0.5, "the output does not oscillate (amplitude below a tenth): no phase to measure",
                    transform=ax.transAxes, ha="center", color="0.3")
        ax.set_ylabel(f"{f:g} Hz (°)")
        ax.grid(alpha=0.3)
        ax.set_xlim(0, seconds)
    axes[-1].set_xlabel("time since the reset (s)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Phase of the free-running output minus phase of the target, per selector: a straight line "
                 "is a constant frequency error (its slope)", fontsize=11)
    return _save(fig, path)
