"""The grid posterior mean: exact on clean on-grid phases, causal, the right noise moments, and a faster
lock-on than least squares on `offsets` (the reason an MSE-trained model can beat RLS there)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from conftest import with_new_future

from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.evaluation import bayes
from freqextract.evaluation.baselines import rls_causal
from freqextract.signals.scenarios import generate

OFFSETS = SignalConfig(scenario="offsets", phase_scale=0.1, duration=1.0)


def test_docstring_example():
    assert doctest.testmod(bayes).failed == 0


@pytest.mark.parametrize("s, amplitude", [(0.1, (0.8, 1.2)), (0.5, (0.5, 1.5)), (0.0, (1.0, 1.0))])
def test_noise_moments_match_monte_carlo(s, amplitude):
    rng = np.random.default_rng(0)
    A = rng.uniform(*amplitude, size=2_000_000)
    phi = rng.uniform(-np.pi * s, np.pi * s, size=A.shape)
    m, mean_a2, c2 = bayes.noise_moments(s, amplitude)
    assert m == pytest.approx(np.mean(A * np.cos(phi)), abs=2e-3)
    assert mean_a2 == pytest.approx(np.mean(A ** 2), abs=2e-3)
    assert c2 == pytest.approx(np.mean(np.cos(2 * phi)), abs=2e-3)


def test_causal():
    sig = generate(OFFSETS, seed=3)
    m = 150
    changed = with_new_future(sig, m)
    a = bayes.grid_posterior_mean(sig, 0.1, n_samples=300, grid=8)
    b = bayes.grid_posterior_mean(changed, 0.1, n_samples=300, grid=8)
    assert a.shape == (4, 300)
    assert np.array_equal(a[:, :m], b[:, :m])
    assert not np.allclose(a[:, m:], b[:, m:])


def test_locks_on_at_least_as_fast_as_least_squares():
    """Over the first 0.5 s after the reset, averaged over seeds, the posterior mean (on a coarse grid) is
    below RLS, the best linear estimator: knowing the amplitude is worth more than the grid costs."""
    post, rls = [], []
    for seed in range(2, 8):
        sig = generate(OFFSETS, seed=seed)
        out = bayes.grid_posterior_mean(sig, 0.1, (0.8, 1.2), 0.0, n_samples=500, grid=16)
        post.append(((out - sig.targets[:, :500]) ** 2).mean())
        rls.append(((rls_causal(sig)[:, :500] - sig.targets[:, :500]) ** 2).mean())
    assert np.mean(post) < 0.95 * np.mean(rls)


def test_too_many_hypotheses_is_refused():
    sig = generate(OFFSETS, seed=2)
    with pytest.raises(UserError, match="grid: 64\\^4"):
        bayes.grid_posterior_mean(sig, 0.1, grid=64)
    with pytest.raises(UserError, match="grid: must be at least 2"):
        bayes.grid_posterior_mean(sig, 0.1, grid=1)
