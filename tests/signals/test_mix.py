"""The mix scenario (docs/extractor.md): the draws, their constraints, the requests and their targets."""

import numpy as np
import pytest

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.signals.data import load_npz, request_streams, save_npz
from freqextract.signals.mix import absent_frequency, draw_mix, draw_requests, request_targets
from freqextract.signals.scenarios import generate

MIX = load("mix", signal_only=True).signal


def test_draws_obey_the_spec_table():
    S, mix, comps = draw_mix(MIX, np.random.default_rng(0), 200, 100)
    assert S.shape == (200, 100) and comps.shape[:2] == mix.frequencies.shape
    assert mix.count.min() >= 1 and mix.count.max() <= 6 and set(mix.count) == set(range(1, 7))
    for r in range(200):
        f = mix.frequencies[r, :mix.count[r]]
        assert ((0.5 <= f) & (f <= 20)).all()
        if f.size > 1:
            assert np.diff(np.sort(f)).min() >= 1.0
        assert np.isnan(mix.frequencies[r, mix.count[r]:]).all()
        assert (mix.levels[r, :mix.count[r]] >= 0.25).all() and (mix.levels[r, mix.count[r]:] == 0).all()


def test_mixture_is_the_sum_of_its_components_without_jitter():
    from dataclasses import replace

    clean = replace(MIX, amplitude=(1.0, 1.0), phase_scale=0.0)
    S, _, comps = draw_mix(clean, np.random.default_rng(3), 5, 500)
    assert np.allclose(S, comps.sum(axis=1))  # no 1/K factor


def test_same_seed_same_file_and_meta_round_trip(tmp_path):
    a, b = generate(MIX, 7), generate(MIX, 7)
    assert np.array_equal(a.S, b.S) and np.array_equal(a.targets, b.targets)
    save_npz(a, tmp_path / "m.npz")
    back = load_npz(tmp_path / "m.npz")
    assert back.meta["scenario"] == "mix" and len(back.meta["amplitudes"]) == back.n_freqs
    assert np.allclose(back.targets[0, :1], back.meta["amplitudes"][0] * np.sin(back.meta["phases"][0]))


def test_fixed_frequencies_through_config():
    cfg = load("mix", ["signal.mix_frequencies=[2.5, 6.8]"], signal_only=True).signal
    sig = generate(cfg, 4)
    assert sig.frequencies.tolist() == [2.5, 6.8]
    with pytest.raises(UserError, match="mix_frequencies"):
        load("mix", ["signal.mix_frequencies=[2.5, 3.0]"], signal_only=True)
    with pytest.raises(UserError, match="outside the band"):
        load("mix", ["signal.mix_frequencies=[25.0]"], signal_only=True)


def test_absent_requests_keep_their_distance_and_have_zero_target():
    S, mix, comps = draw_mix(MIX, np.random.default_rng(1), 50, 200)
    req = draw_requests(MIX, np.random.default_rng(2), mix, 6, 0.5, 2.0)
    tgt = request_targets(comps, req)
    assert 0.3 < req.absent.mean() < 0.7
    for r in range(50):
        f = mix.frequencies[r, :mix.count[r]]
        for q in range(6):
            if req.absent[r, q]:
                assert np.abs(f - req.frequencies[r, q]).min() >= 2.0 and not tgt[r, q].any()
            else:
                assert req.frequencies[r, q] == f[req.which[r, q]]
                assert np.array_equal(tgt[r, q], comps[r, req.which[r, q]])
    assert np.isnan(absent_frequency((1.0, 2.0), np.random.default_rng(0), np.array([1.5]), 2.0))


def test_request_features_chunked_equal_whole():
    S = np.random.default_rng(0).normal(size=(2, 300))
    nu = np.array([[0.003, 0.0117], [0.019, 0.0005]])
    whole = request_streams(S, nu, "demod", 0.02)
    parts = [request_streams(S[:, a:b], nu, "demod", 0.02, start=a) for a, b in ((0, 17), (17, 200), (200, 300))]
    assert np.array_equal(np.concatenate(parts, axis=1), whole)
    assert whole.shape == (4, 300, 6) and np.allclose(whole[1, :, 1], 0.0117 / 0.02)
    n = np.arange(300)
    assert np.allclose(whole[0, :, 2], np.cos(2 * np.pi * 0.003 * n), atol=1e-6)
    assert request_streams(S, nu, "concat", 0.02).shape == (4, 300, 2)
