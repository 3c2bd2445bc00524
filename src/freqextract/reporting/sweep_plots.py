"""Figures of a sweep (matplotlib ``Figure``, Agg; no pyplot, no plotly), from plain trial records.

    history        the metric of every trial against its number, the best so far, pruned and failed marked
    intermediate   the validation MSE each trial reported while training, pruned trials in grey
    importance     Optuna's parameter importances as horizontal bars
    parallel       one line per finished trial across the normalised parameters, coloured by its metric

A trial record is a dict as studies.sweep_summary.trial_record builds it: ``number``, ``state`` ("complete",
"pruned", "fail", ...), ``value``, ``params`` {key: value}, ``intermediate`` {"steps", "values"}.
Each function saves one PNG (atomically) and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .plots import _save

STATE_STYLE = {"complete": ("#1f77b4", "o"), "pruned": ("#9a9a9a", "x"), "fail": ("#d62728", "v")}


def _log_scale(values) -> bool:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    return v.size > 1 and bool(np.all(v > 0)) and v.max() / v.min() > 20


def history(path, trials: list[dict], metric: str, direction: str) -> Path:
    """Trial value against trial number; the best complete value so far as a step line."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    done = sorted((t for t in trials if t["state"] == "complete" and t["value"] is not None),
                  key=lambda t: t["number"])
    for state, (color, marker) in STATE_STYLE.items():
        pts = [(t["number"], t["value"]) for t in trials if t["state"] == state and t["value"] is not None]
        if pts:
            x, y = zip(*pts, strict=True)
            ax.plot(x, y, marker, color=color, ms=6, ls="none",
                    label={"pruned": "pruned (last reported validation MSE)"}.get(state, state))
    if done:
        pick = min if direction == "minimize" else max
        best, xs, ys = None, [], []
        for t in done:
            best = t["value"] if best is None else pick(best, t["value"])
            xs.append(t["number"])
            ys.append(best)
        ax.step(xs, ys, where="post", color="#e4572e", lw=1.8, label="best so far")
    failed = [t["number"] for t in trials if t["state"] == "fail"]
    for n in failed:
        ax.axvline(n, color=STATE_STYLE["fail"][0], lw=0.8, ls=":")
    if _log_scale([t["value"] for t in trials]):
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"Optimisation history ({direction} {metric}"
                 + (f"; {len(failed)} failed, dotted" if failed else "") + ")", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return _save(fig, path)


def intermediate(path, trials: list[dict]) -> Path:
    """The validation MSE every trial reported during training, against the training step."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    for t in trials:
        steps, values = t["intermediate"]["steps"], t["intermediate"]["values"]
        if not steps:
            continue
        pruned = t["state"] == "pruned"
        ax.plot(steps, values, color="#9a9a9a" if pruned else "#1f77b4", lw=1.0, alpha=0.8)
        if pruned:
            ax.plot(steps[-1], values[-1], "x", color="#555555", ms=6)
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    if _log_scale([v for t in trials for v in t["intermediate"]["values"]]):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("validation MSE")
    ax.set_title("Validation MSE reported during training (grey: pruned, x where it stopped; dotted: 0.5, "
                 "the zero output)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)


def importance(path, importances: dict[str, float]) -> Path:
    """Horizontal bars, the most important parameter on top."""
    names = list(importances)[::-1]
    fig = Figure(figsize=(8, 1.2 + 0.45 * len(names)), layout="constrained")
    ax = fig.subplots()
    ax.barh(names, [importances[n] for n in names], color="#1f77b4")
    for i, n in enumerate(names):
        ax.text(importances[n], i, f" {importances[n]:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, max(1.0, max(importances.values()) * 1.15))
    ax.set_xlabel("importance (share of the metric's variation, normalised to 1)")
    ax.set_title("Parameter importance", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return _save(fig, path)


def _axis_values(values: list):
    """Positions in [0, 1] for one parameter's values, and tick labels: numbers linearly (log where they
    span decades), anything else by the order of its distinct values."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        v = np.asarray(values, dtype=np.float64)
        lo, hi = v.min(), v.max()
        if lo > 0 and hi / lo > 20:
            v, lo, hi = np.log10(v), np.log10(lo), np.log10(hi)
        pos = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
        return pos, [(0.0, f"{min(values):.3g}"), (1.0, f"{max(values):.3g}")]
    levels = sorted({str(x) for x in values})
    where = {lev: (i / (len(levels) - 1) if len(levels) > 1 else 0.5) for i, lev in enumerate(levels)}
    return np.array([where[str(x)] for x in values]), [(where[lev], lev) for lev in levels]


def parallel(path, trials: list[dict], params: list[str], metric: str) -> Path:
    """Parallel coordinates of the complete trials: each parameter an axis scaled to [0, 1], the last
    axis the metric; lines coloured by the metric."""
    done = [t for t in trials if t["state"] == "complete" and t["value"] is not None
            and all(p in t["params"] for p in params)]
    cols = [_axis_values([t["params"][p] for t in done]) for p in params]
    cols.append(_axis_values([t["value"] for t in done]))
    names = [*params, metric]
    fig = Figure(figsize=(max(7, 2.2 * len(names)), 4.6), layout="constrained")
    ax = fig.subplots()
    values = np.array([t["value"] for t in done], dtype=np.float64)
    span = (values.max() - values.min()) or 1.0
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    x = np.arange(len(names))
    for i in np.argsort(-values):  # the best (lowest) drawn last, on top
        ax.plot(x, [c[0][i] for c in cols], color=cmap((values[i] - values.min()) / span), lw=1.2, alpha=0.85)
    for j, (_, ticks) in enumerate(cols):
        ax.axvline(j, color="0.3", lw=0.8)
        for pos, label in ticks:
            ax.text(j + 0.03, pos, label, fontsize=7, va="center")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(names) - 0.6)
    ax.set_title(f"Parallel coordinates of the complete trials (colour: {metric}, dark = low)", fontsize=10)
    return _save(fig, path)
