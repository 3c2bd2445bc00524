"""The report of a ``mix`` run (a frequency-conditioned extractor): figures and one self-contained page.

    figures/extraction.png   the first test mixture: S, and for each request the target and the output
                             (the first 3 s after the reset, where the lock-on happens, and the last second)
    figures/band.png         NMSE against the requested frequency across the band, model and references
    figures/training.png     validation NMSE of present requests and output power of absent ones
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..atomic import write_text
from ..errors import UserError
from ..signals.data import load_npz
from .html import esc, num, run_page, table
from .plots import COLORS, _fc, _save


def extraction_figure(path, sig, outputs: np.ndarray, request_hz, which) -> Path:
    """One row per request: target (line) and output (orange), start and end of the sequence."""
    Q = len(request_hz)
    fig = Figure(figsize=(12, 1.9 * Q + 0.8), layout="constrained")
    axes = fig.subplots(Q, 2, squeeze=False, sharey="row", width_ratios=[3, 1])
    n = sig.n_samples
    parts = (slice(0, min(n, int(3 * sig.fs))), slice(max(0, n - int(sig.fs)), n))
    for q in range(Q):
        target = sig.targets[which[q]] if which[q] >= 0 else np.zeros(n)
        for ax, sl in zip(axes[q], parts, strict=True):
            ax.plot(sig.t[sl], sig.S[sl], color=COLORS["noisy"], lw=0.5, label="S (input)")
            ax.plot(sig.t[sl], target[sl], color=COLORS["target"], lw=1.4, label="target")
            ax.plot(sig.t[sl], outputs[q][sl], color=COLORS["output"], lw=1.0, label="output")
        what = "in the mixture" if which[q] >= 0 else "absent: target 0"
        axes[q, 0].set_title(f"request {request_hz[q]:.2f} Hz ({what})", fontsize=9, loc="left")
        axes[q, 0].set_ylabel("amplitude")
    axes[0, 1].set_title("last second", fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=3)
    axes[-1, 0].set_xlabel("t (s) since the reset")
    axes[-1, 1].set_xlabel("t (s)")
    fig.suptitle(f"Extraction on held-out mixture (seed {sig.meta.get('seed')}): {sig.n_freqs} components")
    return _save(fig, path)


def band_figure(path, band: dict, duration: float) -> Path:
    """NMSE against the requested frequency (log scale), the model beside the tuned references."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    f = band["frequencies"]
    for k, (name, values) in enumerate(band["nmse"].items()):
        ax.plot(f, values, "o-" if name == "model" else ".--", color=_fc(k), lw=1.6 if name == "model" else 1,
                label=name)
    ax.set_yscale("log")
    ax.set_xlabel("requested frequency (Hz)")
    ax.set_ylabel(f"NMSE over {duration:g} s")
    ax.set_title(f"Error across the band ({band['seeds_per_frequency']} held-out mixtures per frequency)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path)


def training_figure(path, history: list[dict]) -> Path:
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.subplots()
    steps = [r["step"] for r in history]
    val = np.array([r["val_per_frequency_mse"] for r in history])
    ax.plot(steps, val[:, 0], color=_fc(0), label="validation NMSE, present requests")
    ax.plot(steps, val[:, 1], color=_fc(1), label="validation output power, absent requests")
    ax.axhline(1.0, color="#888", lw=0.8, ls=":")
    ax.text(steps[0], 1.05, "answering 0", fontsize=8, color="#666")
    ax.set_yscale("log")
    ax.set_xlabel("optimiser step")
    ax.set_title("Training (validation on its own mixtures, never the test seeds)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def _section(t: dict, title: str) -> str:
    rows = [["model", num(t["model"]["nmse"]), num(t["model"]["absent_power"]), "1.00", ""]]
    for name, r in t["references"].items():
        rows.append([esc(name + (" (oracle)" if r.get("oracle") else "")), num(r["nmse"]),
                     num(r["absent_power"]), num(t["ratios"].get(name), 2), esc(r["label"])])
    v = t["verdict"]
    checks = "; ".join(f"{esc(k)}: {'yes' if ok else 'no'}" for k, ok in v["checks"].items())
    return (f"<h2>{esc(title)}</h2><p><b>Target {'met' if v['met'] else 'missed'}</b> ({checks}). "
            f"Sequences: seeds {t['sequences'][0]}..{t['sequences'][-1]}; references tuned on seeds "
            f"{t['tune_seeds'][0]}..{t['tune_seeds'][-1]}.</p>"
            + table(["", "NMSE (present)", "absent power", "model / it", "what it is"], rows,
                    ["model"] + [""] * (len(rows) - 1)) + _by_time(t))


def _by_time(t: dict) -> str:
    """Where the error is: each method's NMSE split by time since the reset (the bins add up to it)."""
    edges = t.get("time_edges_s")
    if not edges or not t["model"].get("nmse_by_time"):
        return ""
    named = [("model", t["model"])] + [(k, r) for k, r in t["references"].items() if r.get("nmse_by_time")]
    rows = [[esc(k + (" (oracle)" if r.get("oracle") else ""))] + [num(v) for v in r["nmse_by_time"]]
            + [num(r["nmse"])] for k, r in named]
    head = [""] + [f"{a:g}-{b:g} s" for a, b in zip(edges[:-1], edges[1:], strict=True)] + ["whole"]
    return ("<p>Where the error is: the NMSE of present requests by time since the reset (each bin's squared "
            "error over the whole target's energy, so a row adds up to its NMSE).</p>"
            + table(head, rows, ["model"] + [""] * (len(rows) - 1)))


def write_mix_report(run_dir: Path, metrics: dict) -> Path:
    """Figures and ``report.html`` of a finished ``mix`` run."""
    ppath = run_dir / "predictions.npz"
    if not ppath.exists():
        raise UserError(f"{ppath}: file not found (the run's model outputs)")
    sig = load_npz(run_dir / "data" / "test.npz")
    with np.load(ppath, allow_pickle=False) as p:
        outputs, hz, which = p["test"], p["request_hz"], p["which"]
    hpath = run_dir / "history.json"
    history = json.loads(hpath.read_text(encoding="utf-8")) if hpath.exists() else []
    fig_dir = run_dir / "figures"
    figures = [(extraction_figure(fig_dir / "extraction.png", sig, outputs, hz, which),
                "Held-out mixture: each request's target and the model's output from the reset on."),
               (band_figure(fig_dir / "band.png", metrics["band"], sig.n_samples / sig.fs),
                "NMSE against the requested frequency: a hole in the band would show as a peak.")]
    if history:
        figures.append((training_figure(fig_dir / "training.png", history), "Training curve."))
    t = metrics["test"]
    cards = [("NMSE, held-out mixtures", num(t["model"]["nmse"])),
             ("absent requests: output power", num(t["model"]["absent_power"])),
             ("target", "met" if t["verdict"]["met"] else "missed")]
    sections = _section(t, "Held-out mixtures") + (
        _section(metrics["test_sigma_0.1"], "Held-out mixtures with white noise, sigma = 0.1")
        if "test_sigma_0.1" in metrics else "")
    lo, hi = metrics["band_hz"]
    intro = f"""<p>Scenario <b>mix</b>: 1 to 6 components anywhere in {lo:g} to {hi:g} Hz.
The model is a tracker: told the frequency to extract as a number (conditioning
<code>{esc(metrics.get('conditioning'))}</code>), it reads S one sample at a time from the reset and returns that
component, or about 0 when the mixture has none there. NMSE is the squared error over the target's energy per
request; absent power is an absent request's output power over the mixture's mean component power.</p>"""
    page = run_page(run_dir, intro, cards, sections, figures, metrics.get("training", {}))
    path = run_dir / "report.html"
    write_text(path, page)
    return path
