"""Scoring a programmable oscillator: MSE against sin(2 pi f t), lock-on and drift windows, seen or held out."""

from __future__ import annotations

import numpy as np
import pytest

from freqextract.config import load
from freqextract.evaluation.programmable import grid, score, seen
from freqextract.signals.programmable import targets

CFG = load(None, ['signal.scenario="programmable"', "signal.band=[0.5, 10.0]", 'model.conditioning="concat"'])


def test_exact_answers_score_zero_and_silence_one_half():
    hz = np.array([1.0, 2.5, 9.75])
    exact = np.repeat(targets(hz, 10_000, 1000.0)[None], 2, axis=0)  # (R, Q, N)
    assert np.allclose(score(exact, hz, 1000.0)["mse"], 0.0)
    assert score(np.zeros_like(exact), hz, 1000.0)["mse"] == pytest.approx([0.5] * 3, abs=1e-3)


def test_first_and_last_second_separate_lock_on_from_drift():
    hz = np.array([3.0])
    y = targets(hz, 5000, 1000.0)[None].copy()
    y[..., :1000] = 0.0  # late lock-on: wrong in the first second only
    s = score(y, hz, 1000.0)
    assert s["first_s"][0] == pytest.approx(0.5, abs=1e-3) and s["last_s"][0] == 0.0
    assert s["mse"][0] == pytest.approx(0.1, abs=1e-3)


def test_held_out_frequencies_and_their_margins_are_not_seen():
    assert not seen(CFG, 2.5) and not seen(CFG, 2.7) and not seen(CFG, 2.8) and seen(CFG, 2.0) and seen(CFG, 4.0)
    g = grid(CFG)
    assert g[0] == 0.5 and g[-1] == 10.0 and len(g) == 39
