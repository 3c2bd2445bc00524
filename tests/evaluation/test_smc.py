"""The particle filter: causal, deterministic given its seed, close to the exact posterior mean on a case
small enough to compute it on a fine grid, and below the tuned RLS on `offsets`."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from conftest import with_new_future

from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.evaluation import smc
from freqextract.evaluation.baselines import rls_causal
from freqextract.evaluation.bayes import grid_posterior_mean
from freqextract.signals.scenarios import generate

OFFSETS = SignalConfig(scenario="offsets", phase_scale=0.1, duration=1.0)


def _mse(out, sig) -> float:
    return float(np.mean((out - sig.targets[:, :out.shape[1]]) ** 2))


def test_docstring_example():
    assert doctest.testmod(smc).failed == 0


def test_causal_and_deterministic():
    sig = generate(OFFSETS, seed=3)
    m = 400
    changed = with_new_future(sig, m)
    a = smc.smc_posterior_mean(sig, 0.1, particles=256, seed=5)
    b = smc.smc_posterior_mean(changed, 0.1, particles=256, seed=5)
    assert a.shape == (4, 1000)
    assert np.array_equal(a[:, :m], b[:, :m])
    assert not np.allclose(a[:, m:], b[:, m:])
    assert np.array_equal(a, smc.smc_posterior_mean(sig, 0.1, particles=256, seed=5))  # same seed
    assert not np.array_equal(a, smc.smc_posterior_mean(sig, 0.1, particles=256, seed=6))


def test_approaches_the_exact_posterior_mean():
    """Two components, the first 0.4 s: the posterior mean on a 160 x 160 grid of phases (the same
    likelihood, so exact but for the grid) against the particle filter; more particles, closer."""
    cfg = SignalConfig(scenario="offsets", phase_scale=0.1, frequencies=(1.0, 3.0), duration=0.4)
    gaps, errs = {}, []
    for seed in (2, 3):
        sig = generate(cfg, seed)
        exact = grid_posterior_mean(sig, 0.1, n_samples=None, grid=160)
        errs.append(_mse(exact, sig))
        for P in (256, 4096):
            gaps.setdefault(P, []).append(float(np.mean((smc.smc_posterior_mean(sig, 0.1, particles=P)
                                                         - exact) ** 2)))
    assert np.mean(gaps[4096]) < np.mean(gaps[256])
    assert np.mean(gaps[4096]) < 0.01 * np.mean(errs)  # a small fraction of the estimate's own error


def test_below_the_tuned_rls_on_offsets():
    sigs = [generate(OFFSETS, seed) for seed in range(2, 6)]
    post = np.mean([_mse(smc.smc_posterior_mean(s, 0.1, particles=2048), s) for s in sigs])
    rls = np.mean([_mse(rls_causal(s, forgetting=1.0, regularization=0.1), s) for s in sigs])
    assert post < 0.9 * rls


@pytest.mark.parametrize("kwargs, field", [({"particles": 1}, "particles"), ({"moves": -1}, "moves")])
def test_bad_parameters_name_the_field(kwargs, field):
    with pytest.raises(UserError, match=f"^{field}: "):
        smc.smc_posterior_mean(generate(OFFSETS, 2), 0.1, **kwargs)
