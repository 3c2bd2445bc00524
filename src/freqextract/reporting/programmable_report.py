"""The report of a ``programmable`` run (a programmable oscillator): figures and one self-contained page.

    figures/programmable.png   MSE against the requested frequency (log y): the band shaded, the held-out
                               frequencies marked, answering 0 as a line
    figures/outputs.png        the first test seed: each held-out request's target and the model's answer
                               (the first second after the reset and the last second)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..atomic import write_text
from ..errors import UserError
from ..signals.programmable import targets
from .html import esc, num, run_page, table
from .plots import COLORS, _save


def mse_figure(path, t: dict) -> Path:
    """MSE over the whole sequence, first and last second, against the requested frequency (Hz)."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    lo, hi = t["band_hz"]
    ax.axvspan(lo, hi, color="#1f4e9c", alpha=0.07, label="training band")
    g = t["grid"]
    f = [r["hz"] for r in g]
    floor = 1e-8  # a log axis cannot show 0
    for key, style, label in (("mse", "o-", f"MSE over {t['duration_s']:g} s"), ("first_s", ".:", "first second"),
                              ("last_s", ".--", "last second")):
        ax.plot(f, [max(r[key], floor) for r in g], style, lw=1.4 if key == "mse" else 0.9, ms=4, label=label)
    held = t["heldout"]
    if held:
        ax.plot([r["hz"] for r in held], [max(r["mse"], floor) for r in held], "D", color=COLORS["output"], ms=7,
                label="held-out frequencies (never trained on)")
        for r in held:
            ax.axvline(r["hz"], color=COLORS["output"], lw=0.6, alpha=0.5)
    ax.axhline(t["zero_mse"], color="#888", lw=0.8, ls=":")
    ax.text(lo, t["zero_mse"] * 1.15, "answering 0", fontsize=8, color="#666")
    ax.set_yscale("log")
    ax.set_xlabel("requested frequency (Hz)")
    ax.set_ylabel("MSE")
    ax.set_title(f"Programmable oscillator: error across the band ({len(t['seeds'])} test seeds)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def outputs_figure(path, hz: np.ndarray, answers: np.ndarray, fs: float) -> Path:
    """One row per held-out request: target and answer, first second and last second."""
    Q, N = answers.shape
    fig = Figure(figsize=(12, 1.6 * max(Q, 1) + 0.8), layout="constrained")
    axes = fig.subplots(max(Q, 1), 2, squeeze=False, sharey="row", width_ratios=[1, 1])
    t = np.arange(N) / fs
    sec = max(1, min(N, int(round(fs))))
    want = targets(hz, N, fs)  # (Q, N)
    for q in range(Q):
        for ax, sl in zip(axes[q], (slice(0, sec), slice(N - sec, N)), strict=True):
            ax.plot(t[sl], want[q, sl], color=COLORS["target"], lw=1.4, label="sin(2 pi f t)")
            ax.plot(t[sl], answers[q, sl], color=COLORS["output"], lw=1.0, label="answer")
        axes[q, 0].set_title(f"request {hz[q]:g} Hz (held out)", fontsize=9, loc="left")
    axes[0, 1].set_title("last second", fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=2)
    axes[-1, 0].set_xlabel("t (s) since the reset")
    axes[-1, 1].set_xlabel("t (s)")
    return _save(fig, path)


def rows(t: dict) -> list[list[str]]:
    """The table rows: every held-out frequency, then the grid."""
    out = []
    for kind, rs in (("held out", t["heldout"]), (None, t["grid"])):
        for r in rs:
            what = kind or ("seen" if r["seen"] else "held out (margin)")
            out.append([f"{r['hz']:g}", what, num(r["mse"]), num(r["first_s"]), num(r["last_s"])])
    return out


def write_programmable_report(run_dir: Path, metrics: dict) -> Path:
    """Figures and ``report.html`` of a finished ``programmable`` run."""
    ppath = run_dir / "predictions.npz"
    if not ppath.exists():
        raise UserError(f"{ppath}: file not found (the run's model outputs)")
    with np.load(ppath, allow_pickle=False) as p:
        hz, answers = p["hz"], p["test"]
    t = metrics["programmable"]
    fs = float(t["fs"])
    fig_dir = run_dir / "figures"
    figures = [(mse_figure(fig_dir / "programmable.png", t),
                "MSE against the requested frequency: held-out frequencies marked, the training band shaded.")]
    if len(hz):
        figures.append((outputs_figure(fig_dir / "outputs.png", hz, answers, fs),
                        "First test seed: the answer to each held-out frequency beside sin(2 pi f t)."))
    cards = [("mean MSE, held-out frequencies", num(t["mean_heldout_mse"])),
             ("mean MSE, seen grid", num(t["mean_seen_mse"])), ("answering 0", num(t["zero_mse"]))]
    lo, hi = t["band_hz"]
    intro = f"""<p>Scenario <b>programmable</b>: the spec's noisy S as input, a requested frequency f as a number
(conditioning <code>{esc(metrics.get('conditioning'))}</code>), target sin(2 pi f t) from the reset. Trained on
{lo:g} to {hi:g} Hz less {t['heldout_margin_hz']:g} Hz around each held-out frequency; tested on test seeds
{t['seeds'][0]}..{t['seeds'][-1]}.</p>"""
    sections = ("<h2>MSE by requested frequency</h2>"
                + table(["Hz", "", f"MSE {t['duration_s']:g} s", "first s", "last s"], rows(t)))
    page = run_page(run_dir, intro, cards, sections, figures, metrics.get("training", {}))
    path = run_dir / "report.html"
    write_text(path, page)
    return path
