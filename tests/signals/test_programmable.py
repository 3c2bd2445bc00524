"""The programmable scenario's data: the spec's S, requests outside the held-out margins, exact sine targets."""

from __future__ import annotations

import numpy as np
import pytest

from freqextract.config import SignalConfig, allowed_intervals, load
from freqextract.signals.programmable import draw_requests, targets
from freqextract.signals.scenarios import draw, generate
from freqextract.training.batches import programmable_batch, training_batch, validation_batch

SIG = SignalConfig(scenario="programmable", band=(0.5, 10.0))


def _cfg(*extra):
    return load(None, ['signal.scenario="programmable"', "signal.band=[0.5, 10.0]", 'model.conditioning="concat"',
                       "train.requests=5", "train.realisations=3", *extra])


def test_requests_never_come_within_the_margin_of_a_held_out_frequency():
    hz = draw_requests(SIG, np.random.default_rng(0), 200, 50)  # 10 000 draws
    held = np.asarray(SIG.heldout)
    gap = np.abs(hz[..., None] - held).min(-1)
    assert gap.min() >= SIG.heldout_margin
    assert hz.min() >= 0.5 and hz.max() <= 10.0
    # and they cover the allowed band: every allowed interval gets its share of the draws
    for a, b in allowed_intervals(SIG):
        share = ((hz >= a) & (hz <= b)).mean()
        assert share == pytest.approx((b - a) / sum(y - x for x, y in allowed_intervals(SIG)), abs=0.02)


def test_allowed_intervals_cut_the_margins_out_of_the_band():
    s = SignalConfig(scenario="programmable", band=(1.0, 5.0), heldout=(1.0, 3.0), heldout_margin=0.5)
    assert allowed_intervals(s) == [(1.5, 2.5), (3.5, 5.0)]


def test_targets_are_unit_sines_from_the_reset():
    y = targets(np.array([[2.5, 7.25]]), 1000, 1000.0)
    n = np.arange(1000)
    assert y.shape == (1, 2, 1000)
    np.testing.assert_allclose(y[0, 1], np.sin(2 * np.pi * 7.25 * n / 1000.0), atol=1e-12)


def test_batch_target_is_exactly_the_sine_of_the_drawn_frequency():
    cfg = _cfg()
    b = programmable_batch(cfg, np.random.default_rng(3), 3, 400, "cpu", dtype=np.float64)
    assert b.x.shape == (15, 400, 2) and b.y.shape == (15, 400) and b.n_groups == 1
    hz = b.x[:, 0, 1].numpy() * cfg.signal.band[1]  # the nu input is nu / nu_max; nu_max = band top / fs
    n = np.arange(400)
    np.testing.assert_allclose(b.y.numpy(), np.sin(2 * np.pi * hz[:, None] * n / cfg.signal.fs), atol=1e-9)
    assert len(np.unique(np.round(hz, 9))) == 15


def test_batch_input_is_the_spec_S_shared_by_the_requests_of_a_sequence():
    cfg = _cfg()
    b = programmable_batch(cfg, np.random.default_rng(3), 3, 400, "cpu", dtype=np.float64)
    S, _ = draw(cfg.signal, np.random.default_rng(3), 3, 400)  # the same generator draws S first
    np.testing.assert_array_equal(b.x[:, :, 0].numpy().reshape(3, 5, 400), np.repeat(S[:, None], 5, axis=1))


def test_same_seed_same_batch_and_another_seed_another():
    cfg = _cfg()
    a = training_batch(cfg, np.random.default_rng(7), 300, "cpu")
    b = training_batch(cfg, np.random.default_rng(7), 300, "cpu")
    c = training_batch(cfg, np.random.default_rng(8), 300, "cpu")
    assert np.array_equal(a.x.numpy(), b.x.numpy()) and np.array_equal(a.y.numpy(), b.y.numpy())
    assert not np.array_equal(a.y.numpy(), c.y.numpy())


def test_validation_batch_is_whole_length_and_fixed_by_the_validation_seed():
    cfg = _cfg("signal.duration=1.0")
    a, b = validation_batch(cfg, "cpu"), validation_batch(cfg, "cpu")
    assert a.x.shape[1] == 1000 and np.array_equal(a.y.numpy(), b.y.numpy())
    other = validation_batch(_cfg("signal.duration=1.0", "signal.val_seed=13"), "cpu")
    assert not np.array_equal(a.y.numpy(), other.y.numpy())


def test_the_test_S_is_the_spec_S():
    spec = generate(SignalConfig(), 2)
    prog = generate(SIG, 2)
    assert np.array_equal(spec.S, prog.S)
