"""Figures (matplotlib, rendered with Agg): the assignment's two graphs and the diagnostics.

    graph1           one frequency on the test set: pure target (line), LSTM output (dots), noisy S (grey);
                     the full signal, and zooms on the first and last periods
    graph2           one panel per frequency, each with its MSE, all showing the same window
    training_curve   training loss per frequency, validation MSE per frequency, horizon and learning rate;
                     the 0.5 line (the score of answering 0) labelled
    error_histogram  distribution of output - target per frequency
    error_vs_time    MSE in bins of time since the reset, and the phase error of the output over time
    psd              which frequencies each signal holds: Welch PSD of S, target and output per selector

Where the output's dots show only every n-th sample, the panel's title says so.

Each function takes plain arrays, draws one figure and saves it as PNG (atomically), returning the path;
nothing here trains or evaluates. Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so
importing this module never changes the backend of an interactive session or a notebook.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import fmt
from ..atomic import atomic_path

COLORS = {"noisy": "#a8a8a8", "target": "#1f4e9c", "output": "#e4572e"}
FREQ_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
DPI = 110


def _fc(k: int) -> str:
    return FREQ_COLORS[k % len(FREQ_COLORS)]


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return path


def _zoom(n: int, fs: float, freq: float, where: str) -> slice:
    """About two periods (at least 0.5 s, at most the signal) at the start or the end of the signal."""
    length = int(min(n, max(0.5, 2.0 / freq) * fs))
    return slice(0, length) if where == "start" else slice(n - length, n)


def _dots_every(n: int, per_panel: int) -> int:
    return max(1, int(round(n / per_panel)))


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _thinned(every: int) -> str:
    """What a title adds when the dots show only every n-th output sample (nothing when all are drawn)."""
    return f"; dots: every {_ordinal(every)} sample" if every > 1 else ""


def _panel(ax, t, S, target, output, freq: float, title: str, n_dots: int, ms: float = 3.4,
           s_alpha: float = 0.8) -> None:
    """Noisy S as a grey background, the pure target as a line, the output as dots on top (every n-th
    sample when there are more than ``n_dots``; the title says so)."""
    every = _dots_every(len(t), n_dots)
    title += _thinned(every)
    ax.plot(t, S, color=COLORS["noisy"], lw=0.5, alpha=s_alpha, label="noisy mixture S (input)", zorder=1)
    ax.plot(t, target, color=COLORS["target"], lw=1.8, label=f"pure target sin(2π·{freq:g}·t)", zorder=2)
    ax.plot(t[::every], output[::every], "o", color=COLORS["output"], ms=ms, mec="white", mew=0.4,
            label="LSTM output", zorder=3)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    lim = max(1.3, float(np.nanmax(np.abs(S))) * 1.05 if len(S) else 1.3)
    ax.set_ylim(-min(lim, 2.5), min(lim, 2.5))
    ax.set_xlim(t[0], t[-1])
    ax.grid(alpha=0.3)


def graph1(path, t, S, target, output, freq: float, mse: float) -> Path:
    """Graph 1 of the assignment: one frequency on the test set.

    Top: the full signal. Bottom: the first and the last two periods (at least 0.5 s each), where the
    reset transient and any accumulated drift would show.
    """
    t, S, target, output = (np.asarray(a, dtype=np.float64) for a in (t, S, target, output))
    n = len(t)
    fs = 1.0 / (t[1] - t[0])
    fig = Figure(figsize=(11, 7.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[1.15, 1])
    top = fig.add_subplot(grid[0, :])
    duration = n / fs
    _panel(top, t, S, target, output, freq, f"full signal ({duration:g} s): MSE over every sample {fmt.mse(mse)}",
           n_dots=min(n, max(150, int(40 * duration * max(1.0, freq / 3)))), ms=3.4, s_alpha=0.5)
    for col, where in enumerate(("start", "end")):
        z = _zoom(n, fs, freq, where)
        overlap = 2 * (z.stop - z.start) > n  # on a short signal the zooms cover it all: no shading
        ax = fig.add_subplot(grid[1, col])
        zmse = float(np.mean((output[z] - target[z]) ** 2))
        label = "first" if where == "start" else "last"
        _panel(ax, t[z], S[z], target[z], output[z], freq,
               f"zoom: {label} {(z.stop - z.start) / fs:.2g} s (MSE here {fmt.mse(zmse)})", n_dots=110)
        if not overlap:
            top.axvspan(t[z][0], t[z][-1], color="#ffd166", alpha=0.25, zorder=0, lw=0)
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False,
               markerscale=1.6)
    fig.suptitle(f"Graph 1: extracting the {freq:g} Hz component on the test set (noise seed unseen in "
                 "training)", fontsize=12)
    return _save(fig, path)


def graph2(path, t, S, targets, outputs, freqs, per_freq_mse) -> Path:
    """Graph 2 of the assignment: one panel per frequency (2 columns), each with its MSE.

    Every panel shows the same window, the end of the signal: two periods of the lowest frequency (at least
    1 s), with the same dot spacing; the MSE is over the whole signal.
    """
    t, S = np.asarray(t, dtype=np.float64), np.asarray(S, dtype=np.float64)
    K = len(freqs)
    cols = 2 if K > 1 else 1
    rows = int(np.ceil(K / cols))
    fig = Figure(figsize=(11, 3.3 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    fs = 1.0 / (t[1] - t[0])
    n = len(t)
    length = int(min(n, max(1.0, 2.0 / min(freqs)) * fs))  # one window for every panel
    z = slice(n - length, n)
    shown = [length / fs]
    for k, ax in enumerate(axes.flat):
        if k >= K:
            ax.set_axis_off()
            continue
        _panel(ax, t[z], S[z], np.asarray(targets[k])[z], np.asarray(outputs[k])[z], freqs[k],
               f"{freqs[k]:g} Hz: MSE {fmt.mse(per_freq_mse[k])} (whole signal)",
               n_dots=max(100, int(100 * length / fs)))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    labels[1] = "pure target sin(2π·f·t)"
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False,
               markerscale=1.6)
    where = "the whole signal shown" if all(s >= n / fs for s in shown) else \
        f"the last {shown[0]:g} s of the signal shown in every panel"
    fig.suptitle(f"Graph 2: every component on the test set ({where})", fontsize=12)
    return _save(fig, path)


def _zero_line(ax) -> None:
    """The 0.5 line, labelled: the MSE of answering 0 (the variance of a unit sine)."""
    ax.axhline(0.5, color="0.35", lw=1.0, ls=":")
    ax.set_ylim(top=max(ax.get_ylim()[1], 0.9))  # room for the label above the line
    ax.annotate("0.5 = answering 0", (0.0, 0.5), xycoords=("axes fraction", "data"), xytext=(4, 3),
                textcoords="offset points", ha="left", va="bottom", fontsize=8, color="0.3")


def training_curve(path, history: list[dict], freqs) -> Path:
    """Training loss and validation MSE per frequency against step; horizon and learning rate below.

    The validation panel is left out for a history without validation records.
    """
    from matplotlib.transforms import blended_transform_factory

    K = len(freqs)
    steps = np.array([h["step"] for h in history])
    has_val = bool(history) and all(h.get("val_mse") is not None for h in history)
    fig = Figure(figsize=(11, 8.2 if has_val else 6.0), layout="constrained")
    if has_val:
        ax_tr, ax_val, ax_h = fig.subplots(3, 1, sharex=True, height_ratios=[1, 1, 0.7])
    else:
        (ax_tr, ax_h), ax_val = fig.subplots(2, 1, sharex=True, height_ratios=[1, 0.7]), None
    per = np.array([h["per_frequency_loss"] for h in history]) if history else np.zeros((0, K))
    mk = "o" if len(history) < 3 else None  # a line of one or two records is not seen without markers
    for k, f in enumerate(freqs):
        ax_tr.semilogy(steps, np.maximum(per[:, k], 1e-7), color=_fc(k), lw=1.3, marker=mk, label=f"{f:g} Hz")
    if [h.get("phase") for h in history] == ["polish"]:
        pol = history[0].get("polish", {})
        ax_tr.text(0.01, 0.80, "no optimiser step: the model went straight to the L-BFGS polish (validation MSE "
                   f"{pol.get('val_before', float('nan')):.2g} -> {pol.get('val_after', float('nan')):.2g}, "
                   + ("kept)" if pol.get("kept") else "not kept)"), transform=ax_tr.transAxes, fontsize=8,
                   color="0.3", va="bottom")
    ax_tr.set_ylabel("MSE")
    _zero_line(ax_tr)
    ax_tr.set_title("training loss per frequency (fresh noise each step, over the current horizon)",
                    fontsize=10)
    ax_tr.legend(loc="upper right", fontsize=8, ncol=K)
    if ax_val is not None:
        val_k = [h.get("val_per_frequency_mse") for h in history]
        if all(v is not None and len(v) == K for v in val_k):
            vk = np.array(val_k)
            for k, f in enumerate(freqs):
                ax_val.semilogy(steps, np.maximum(vk[:, k], 1e-7), color=_fc(k), lw=1.3, marker=mk,
                                label=f"{f:g} Hz")
        ax_val.semilogy(steps, np.maximum([h["val_mse"] for h in history], 1e-7), "k--", lw=1.8, marker=mk,
                        label="all frequencies")
        ax_val.set_title("validation MSE over the whole signal (validation noise seed)", fontsize=10)
        _zero_line(ax_val)
        if max(h["val_mse"] for h in history[:max(1, len(history) // 5)]) > 0.7:
            ax_val.text(0.01, 0.04, "near 1 early on: training sees only the first samples after the reset, "
                        "validation the whole signal;\nbeyond the trained horizon the output is a sine of drifting "
                        "phase, and two unrelated unit sines differ by MSE 0.5 + 0.5 = 1",
                        transform=ax_val.transAxes, fontsize=8, color="0.3", va="bottom")
        ax_val.set_ylabel("MSE")
        ax_val.legend(loc="upper right", fontsize=8, ncol=K + 1)
    for ax in (ax_tr, ax_val):
        if ax is not None:
            ax.grid(alpha=0.3, which="both")
    if history:
        ax_h.step(steps, [h["horizon"] for h in history], where="post", color="k", lw=1.4, marker=mk,
                  label="horizon")
        ax_h.set_ylim(0, max(h["horizon"] for h in history) * 1.15)
        lr = [h.get("lr") for h in history]
        ax_lr = ax_h.twinx()
        if all(v is not None and v > 0 for v in lr):
            ax_lr.semilogy(steps, lr, color="#8e44ad", lw=1.2, label="learning rate")
        ax_lr.set_ylabel("learning rate", color="#8e44ad")
        ax_lr.tick_params(axis="y", colors="#8e44ad")
        # where each phase of the curriculum starts, labelled once
        mid = blended_transform_factory(ax_h.transData, ax_h.transAxes)
        phases = [h.get("phase", "") for h in history]
        for i, ph in enumerate(phases):
            if i == 0 or ph != phases[i - 1]:
                for ax in (ax_tr, ax_val, ax_h):
                    if ax is not None:
                        ax.axvline(steps[i], color="0.6", lw=0.8, ls="--")
                ax_h.text(steps[i], 0.45, f" {ph}", transform=mid, va="center", fontsize=8, color="0.3")
    ax_h.set_ylabel("horizon (samples)")
    ax_h.set_xlabel("optimiser step")
    ax_h.set_title("curriculum: backprop horizon and learning rate", fontsize=10)
    ax_h.grid(alpha=0.3)
    secs = history[-1].get("seconds") if history else None
    if secs is not None:  # the polish, when there was one, is the last record's step
        length = fmt.length(int(steps[-1]), history[-1].get("phase") == "polish")
    fig.suptitle("Training" + (f" ({length}, {secs:.0f} s)" if secs is not None else ""), fontsize=12)
    return _save(fig, path)


def error_histogram(path, errors, freqs) -> Path:
    """Histogram of output - target for every frequency (log count), with each frequency's RMSE."""
    errors = np.asarray(errors, dtype=np.float64)
    fig = Figure(figsize=(10, 4.4), layout="constrained")
    ax = fig.subplots()
    lim = float(np.quantile(np.abs(errors), 0.9995)) * 1.1 if errors.size else 1.0
    lim = max(lim, 1e-3)
    bins = np.linspace(-lim, lim, 121)
    for k, f in enumerate(freqs):
        e = errors[k]
        ax.hist(np.clip(e, -lim, lim), bins=bins, histtype="step", lw=1.5, color=_fc(k),
                label=f"{f:g} Hz: RMSE {np.sqrt(np.mean(e ** 2)):.4f}, mean {np.mean(e):+.4f}")
    ax.set_yscale("log")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("error = output − target (values beyond the axis are counted in the edge bins)")
    ax.set_ylabel("samples per bin")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"Error distribution on the test set ({errors.shape[-1]} samples per frequency)",
                 fontsize=11)
    return _save(fig, path)


def error_vs_time(path, evt: dict, track: dict, freqs) -> Path:
    """Top: MSE in bins of time since the reset. Bottom: phase error of the output vs the target.

    ``evt`` is :func:`freqextract.evaluation.metrics.error_vs_time`'s dict, ``track``
    :func:`~freqextract.evaluation.metrics.phase_track`'s.
    """
    fig = Figure(figsize=(11, 7), layout="constrained")
    ax_m, ax_p = fig.subplots(2, 1, sharex=True)
    start = np.asarray(evt["bin_start_s"])
    width = evt["bin_seconds"]
    centres = start + width / 2
    for k, f in enumerate(freqs):
        ax_m.semilogy(centres, np.maximum(evt["per_frequency_mse"][k], 1e-8), "o-", color=_fc(k), ms=3.5,
                      lw=1.2, label=f"{f:g} Hz")
    ax_m.semilogy(centres, np.maximum(evt["mse"], 1e-8), "k--", lw=1.8, label="all frequencies")
    ax_m.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax_m.text(centres[0], 0.5, " 0.5 = answering 0", va="bottom", fontsize=8, color="0.4")
    ax_m.set_ylim(top=max(1.0, ax_m.get_ylim()[1]))
    ax_m.set_ylabel(f"MSE per {width:g} s bin")
    ax_m.set_title("Error against time since the reset (the state starts at zero at t = 0)", fontsize=10)
    ax_m.grid(alpha=0.3, which="both")
    worst = 0.0
    for k, f in enumerate(freqs):
        deg = np.degrees(np.asarray(track["phase_error"][k], dtype=np.float64))
        if np.isfinite(deg).any():
            worst = max(worst, float(np.nanmax(np.abs(deg))))
        ax_p.plot(track["time"][k], deg, "o-", color=_fc(k), ms=2.5, lw=1.2, label=f"{f:g} Hz")
    ax_p.axhline(0, color="k", lw=0.8)
    finite = [np.isfinite(np.asarray(e, dtype=np.float64)) for e in track["phase_error"]]
    if not any(f.any() for f in finite):
        ax_p.text(0.5, 0.75, "no oscillation in the output at any frequency: no phase to estimate",
                  transform=ax_p.transAxes, ha="center", color="0.3")
    elif not all(f.all() for f in finite):
        ax_p.text(0.01, 0.03, "gaps: windows where the output's amplitude is below a tenth of the target's",
                  transform=ax_p.transAxes, fontsize=8, color="0.3")
    span = min(190.0, max(10.0, worst * 1.2))
    ax_p.set_ylim(-span, span)
    if span >= 180:
        ax_p.set_yticks([-180, -90, 0, 90, 180])
    ax_p.set_ylabel("phase error (degrees)")
    ax_p.set_xlabel("time since reset (s)")
    ax_p.set_title("Phase of the output minus phase of the target (sinusoid at the known frequency fitted in "
                   "one-period windows)", fontsize=10)
    ax_p.grid(alpha=0.3)
    handles, labels = ax_m.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(freqs) + 1, fontsize=9, frameon=False)
    fig.suptitle("Test set over time: warm-up after the reset and drift over the signal", fontsize=12)
    return _save(fig, path)


def psd(path, S, targets, outputs, fs: float, freqs) -> Path:
    """Welch PSD of the input S, each target and each output, one panel per frequency."""
    from scipy.signal import welch

    S = np.asarray(S, dtype=np.float64)
    targets, outputs = np.asarray(targets, dtype=np.float64), np.asarray(outputs, dtype=np.float64)
    n = S.shape[-1]
    nperseg = min(n, 4096)
    fS, pS = welch(S, fs=fs, nperseg=nperseg)
    fT, pT = welch(targets, fs=fs, nperseg=nperseg, axis=-1)
    fO, pO = welch(outputs, fs=fs, nperseg=nperseg, axis=-1)
    K = len(freqs)
    cols = 2 if K > 1 else 1
    rows = int(np.ceil(K / cols))
    fig = Figure(figsize=(11, 3.2 * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    fmax = min(fs / 2, 2 * max(freqs) + 3)
    band = fS <= fmax
    for k, ax in enumerate(axes.flat):
        if k >= K:
            ax.set_axis_off()
            continue
        peak = float(max(pT[k].max(), pO[k].max()))
        floor = peak * 1e-7
        ax.semilogy(fS[band], np.maximum(pS[band], floor), color=COLORS["noisy"], lw=1.4, label="input S")
        ax.semilogy(fT[band], np.maximum(pT[k][band], floor), color=COLORS["target"], lw=2.0, label="target")
        ax.semilogy(fO[band], np.maximum(pO[k][band], floor), color=COLORS["output"], lw=1.4, ls="--",
                    label="LSTM output")
        ax.axvline(freqs[k], color="0.4", lw=0.8, ls=":")
        ax.set_ylim(floor, peak * 10)
        ax.set_xlim(0, fmax)
        ax.set_title(f"the output for the {freqs[k]:g} Hz selector (dotted line: {freqs[k]:g} Hz)", fontsize=10)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("PSD (1/Hz)")
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Which frequencies each signal holds: the power of the input S, the target and the LSTM "
                 f"output at each frequency, test set\n(Welch power spectral density, {fS[1] - fS[0]:.2g} Hz "
                 f"resolution, 0 to {fmax:g} Hz of {fs / 2:g})", fontsize=11)
    return _save(fig, path)
