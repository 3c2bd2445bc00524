"""Figures: each one is a real PNG, its panels are not empty and the LSTM's dots are visible over the line.

The checks read the pixels back: the output colour must appear in every panel of graphs 1 and 2 (an empty
panel or invisible dots would fail), and a blank figure fails the variance check.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest

from freqextract.evaluation.metrics import error_vs_time, phase_track
from freqextract.reporting import plots

FS = 1000.0
FREQS = [1.0, 3.0, 5.0, 7.0]


@pytest.fixture(scope="module")
def signal():
    """A 2 s test-like signal: noisy S, unit-sine targets, outputs close to the targets."""
    rng = np.random.default_rng(0)
    t = np.arange(2000) / FS
    targets = np.sin(2 * np.pi * np.array(FREQS)[:, None] * t)
    S = rng.uniform(-0.6, 0.6, t.shape)
    outputs = targets + rng.normal(0, 0.03, targets.shape)
    return t, S, targets, outputs


def _rgb(path):
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 400
    return img[..., :3]


def _colour_fraction(img, hex_colour: str, tol: float = 0.12) -> float:
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return float((np.abs(img - rgb).max(axis=-1) < tol).mean())


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph1_dots_visible_in_every_panel(tmp_path, signal):
    t, S, targets, outputs = signal
    path = plots.graph1(tmp_path / "g1.png", t, S, targets[1], outputs[1], 3.0, 0.0009)
    assert _is_png(path)
    img = _rgb(path)
    h, w = img.shape[:2]
    top, bottom_left, bottom_right = img[: h // 2], img[h // 2:, : w // 2], img[h // 2:, w // 2:]
    for part in (top, bottom_left, bottom_right):
        assert _colour_fraction(part, plots.COLORS["output"]) > 0.001  # orange dots are drawn and visible
        assert _colour_fraction(part, plots.COLORS["target"]) > 0.001  # the blue target line too
    assert img.std() > 0.05


def test_graph1_without_dots_fails_the_dot_check(tmp_path, signal):
    """The pixel check above can fail: with the output hidden behind the target, no orange is found."""
    t, S, targets, _ = signal
    path = plots.graph1(tmp_path / "g1.png", t, S, targets[1], np.full_like(t, np.nan), 3.0, 0.5)
    assert _colour_fraction(_rgb(path), plots.COLORS["output"]) < 0.0002


def test_graph2_has_one_non_empty_panel_per_frequency(tmp_path, signal):
    t, S, targets, outputs = signal
    path = plots.graph2(tmp_path / "g2.png", t, S, targets, outputs, FREQS, [0.001, 0.002, 0.003, 0.004])
    img = _rgb(path)
    h, w = img.shape[:2]
    for r in range(2):
        for c in range(2):
            quad = img[r * h // 2:(r + 1) * h // 2, c * w // 2:(c + 1) * w // 2]
            assert _colour_fraction(quad, plots.COLORS["output"]) > 0.001, (r, c)


def test_graph2_with_three_frequencies_hides_the_spare_panel(tmp_path, signal):
    t, S, targets, outputs = signal
    path = plots.graph2(tmp_path / "g2.png", t, S, targets[:3], outputs[:3], FREQS[:3], [0.1, 0.2, 0.3])
    img = _rgb(path)
    h, w = img.shape[:2]
    spare = img[h // 2: int(h * 0.9), w // 2:]
    assert _colour_fraction(spare, plots.COLORS["output"]) == 0.0  # the fourth panel is switched off


def _history(with_val: bool):
    hist = []
    for i, step in enumerate(range(1, 301, 20)):
        early = step < 200
        rec = {"step": step, "phase": "warm-up" if early else "growth", "horizon": 100 if early else 200,
               "lr": 3e-3 * 0.99 ** i, "loss": 0.5 / (i + 1),
               "per_frequency_loss": [0.5 / (i + 1) * (k + 1) / 4 for k in range(4)], "seconds": 0.1 * i}
        if with_val:
            rec.update(val_mse=0.4 / (i + 1), val_per_frequency_mse=[0.4 / (i + 1)] * 4)
        hist.append(rec)
    return hist


def test_training_curve_with_and_without_validation(tmp_path):
    a = _rgb(plots.training_curve(tmp_path / "a.png", _history(True), FREQS))
    b = _rgb(plots.training_curve(tmp_path / "b.png", _history(False), FREQS))
    assert a.shape[0] > b.shape[0] * 1.2  # the validation panel is there only when there is validation data
    for img in (a, b):
        assert _colour_fraction(img, "#1f77b4") > 0.0005 and _colour_fraction(img, "#d62728") > 0.0005


def test_error_histogram_time_and_psd(tmp_path, signal):
    t, S, targets, outputs = signal
    hist = _rgb(plots.error_histogram(tmp_path / "h.png", outputs - targets, FREQS))
    assert _colour_fraction(hist, "#2ca02c") > 0.0005
    evt = error_vs_time(outputs, targets, FS)
    track = phase_track(outputs, targets, FREQS, FS)
    et = _rgb(plots.error_vs_time(tmp_path / "e.png", evt, track, FREQS))
    assert _colour_fraction(et, "#ff7f0e") > 0.0005
    # an output with no oscillation has no phase (gaps), and the figure still renders
    flat = np.zeros_like(outputs)
    plots.error_vs_time(tmp_path / "e0.png", error_vs_time(flat, targets, FS),
                        phase_track(flat, targets, FREQS, FS), FREQS)
    assert _is_png(tmp_path / "e0.png")
    p = _rgb(plots.psd(tmp_path / "p.png", S, targets, outputs, FS, FREQS))
    assert _colour_fraction(p, plots.COLORS["target"]) > 0.0005
    assert _colour_fraction(p, plots.COLORS["output"]) > 0.0002


def test_importing_plots_leaves_the_backend_alone():
    """A notebook's inline backend survives ``import freqextract.reporting.plots`` (no matplotlib.use inside)."""
    code = ("import matplotlib; matplotlib.use('svg'); import freqextract.reporting.plots; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"


# ---------------------------------------------------------------------------------------------- words
@pytest.fixture
def drawn(monkeypatch):
    """The figures drawn, kept instead of saved, and a function giving every text of one of them."""
    figs = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or path)

    def texts(fig) -> list[str]:
        found = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text()] if fig._suptitle else []
        for ax in fig.axes:
            found += [ax.get_title()] + [t.get_text() for t in ax.texts]
        return found

    return figs, texts


def test_training_curve_labels_the_zero_line_and_explains_an_early_validation_near_one(drawn):
    figs, texts = drawn
    hist = _history(True)
    for rec in hist[:4]:
        rec["val_mse"] = 1.0
    plots.training_curve("t.png", hist, FREQS)
    words = texts(figs[0])
    assert words.count("0.5 = answering 0") == 2  # the training and the validation panel
    assert any(w.startswith("near 1 early on:") and "0.5 + 0.5 = 1" in w for w in words)
    plots.training_curve("t.png", _history(True), FREQS)  # validation below 1 from the start: no note
    assert not any(w.startswith("near 1") for w in texts(figs[1]))


def test_a_polish_alone_is_drawn_with_markers_and_says_no_optimiser_step_was_taken(drawn):
    figs, texts = drawn
    rec = {"step": 1, "phase": "polish", "horizon": 10000, "lr": 0.0, "loss": 4e-5,
           "per_frequency_loss": [1e-4, 2e-5, 1e-5, 1e-5], "val_mse": 4e-5, "val_per_frequency_mse": [1e-4] * 4,
           "polish": {"val_before": 6e-5, "val_after": 4e-5, "kept": True}}
    plots.training_curve("t.png", [rec], FREQS)
    assert any(w.startswith("no optimiser step") and "6e-05 -> 4e-05, kept" in w for w in texts(figs[0]))
    assert all(line.get_marker() == "o" for line in figs[0].axes[0].get_lines() if line.get_label().endswith("Hz"))
    plots.training_curve("t.png", _history(True), FREQS)
    assert not any(w.startswith("no optimiser step") for w in texts(figs[1]))


def test_graphs_say_when_only_every_nth_sample_is_drawn_and_graph2_shares_its_window(drawn, signal):
    figs, texts = drawn
    t, S, targets, outputs = signal
    plots.graph1("g1.png", t, S, targets[1], outputs[1], 3.0, 0.001)
    assert any("dots: every 13th sample" in w for w in texts(figs[0]))
    plots.graph2("g2.png", t, S, targets, outputs, FREQS, [0.001] * 4)
    panels = [ax for ax in figs[1].axes if ax.axison]
    assert len({ax.get_xlim() for ax in panels}) == 1  # one window for every frequency
    assert all(ax.get_title().endswith("; dots: every 10th sample") for ax in panels)
    plots.graph2("g2.png", t[:90], S[:90], targets[:, :90], outputs[:, :90], FREQS, [0.001] * 4)
    assert not any("dots: every" in ax.get_title() for ax in figs[2].axes)  # every sample drawn


def test_psd_has_a_title_a_person_understands(drawn, signal):
    figs, texts = drawn
    t, S, targets, outputs = signal
    plots.psd("p.png", S, targets, outputs, FS, FREQS)
    assert figs[0]._suptitle.get_text().startswith("Which frequencies each signal holds")
    assert figs[0].axes[0].get_title().startswith("the output for the 1 Hz selector")
