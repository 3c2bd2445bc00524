"""Signals: determinism, the noise distributions, what S carries in each scenario, exact targets.

Statistical tests use fixed seeds (so they are deterministic) with thresholds that a correct generator
passes with a wide margin; each is paired with a check that the same test *rejects* a wrong alternative.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from freqextract.config import SignalConfig
from freqextract.signals.scenarios import GENERATOR_VERSION, draw, generate, time_axis

TWO_PI = 2 * np.pi
SCENARIOS = ("spec", "phase-scaled", "offsets")


def short(scenario: str = "spec", **kw) -> SignalConfig:
    """A 1 s signal (1000 samples): one full period of the slowest default frequency."""
    kw.setdefault("duration", 1.0)
    if scenario == "phase-scaled":
        kw.setdefault("phase_scale", 0.1)
    if scenario == "offsets":
        kw.setdefault("phase_scale", 0.1)
    return SignalConfig(scenario=scenario, **kw)


# ---------------------------------------------------------------------------------------------- determinism
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), scenario=st.sampled_from(SCENARIOS), sigma=st.sampled_from([0.0, 0.3]))
def test_same_seed_same_arrays(seed, scenario, sigma):
    cfg = short(scenario, duration=0.25, noise_sigma=sigma if scenario == "offsets" else 0.0)
    a, b = generate(cfg, seed), generate(cfg, seed)
    for key in ("t", "S", "targets", "frequencies"):
        assert np.array_equal(getattr(a, key), getattr(b, key))
    assert a.meta == b.meta
    S1, T1 = draw(cfg, np.random.default_rng(seed), n_seq=3)
    S2, T2 = draw(cfg, np.random.default_rng(seed), n_seq=3)
    assert np.array_equal(S1, S2) and np.array_equal(T1, T2)


@settings(max_examples=15, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**32), min_size=2, max_size=2, unique=True),
       scenario=st.sampled_from(("spec", "phase-scaled")))
def test_different_seeds_same_targets_different_S(seeds, scenario):
    cfg = short(scenario, duration=0.5)
    a, b = (generate(cfg, s) for s in seeds)
    assert np.array_equal(a.targets, b.targets)  # the clean sines do not depend on the noise seed
    assert not np.any(a.S == b.S)  # continuous noise: no sample coincides


def test_spec_train_and_test_seeds(spec_train, spec_test):
    """The assignment: seed 1 / seed 2 have the same frequencies and targets and completely different noise."""
    assert spec_train.S.shape == spec_test.S.shape == (10_000,)
    assert spec_train.targets.shape == (4, 10_000)
    assert np.array_equal(spec_train.targets, spec_test.targets)
    assert np.array_equal(spec_train.t, spec_test.t)
    assert np.array_equal(spec_train.frequencies, [1.0, 3.0, 5.0, 7.0])
    assert not np.any(spec_train.S == spec_test.S)
    r = np.corrcoef(spec_train.S, spec_test.S)[0, 1]
    assert abs(r) < 4 / np.sqrt(10_000)  # uncorrelated noise
    assert spec_train.meta["seed"] == 1 and spec_test.meta["seed"] == 2
    assert spec_train.meta["scenario"] == "spec"
    assert spec_train.meta["generator_version"] == GENERATOR_VERSION


def test_target_is_exactly_the_clean_sine(spec_train):
    cfg = SignalConfig()
    n = np.arange(cfg.n_samples)
    t = n / cfg.fs
    assert np.array_equal(spec_train.t, t)
    assert np.array_equal(time_axis(cfg), t)
    assert spec_train.t[1234] == 1234 / 1000.0
    for k, f in enumerate(cfg.frequencies):
        assert np.array_equal(spec_train.targets[k], np.sin(2 * np.pi * f * t))
    assert spec_train.targets[:, 0].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert round(float((spec_train.targets ** 2).mean()), 3) == 0.5


@settings(max_examples=15, deadline=None)
@given(scenario=st.sampled_from(("spec", "phase-scaled")), seed=st.integers(0, 2**32),
       freqs=st.lists(st.floats(0.1, 49.0), min_size=1, max_size=5, unique=True),
       fs=st.sampled_from([100.0, 250.0, 1000.0]))
def test_target_exact_for_any_frequencies(scenario, seed, freqs, fs):
    cfg = SignalConfig(scenario=scenario, frequencies=tuple(freqs), fs=fs, duration=2.0,
                       phase_scale=0.5 if scenario == "phase-scaled" else 1.0)
    sig = generate(cfg, seed)
    t = np.arange(cfg.n_samples) / fs
    assert sig.targets.shape == (len(freqs), cfg.n_samples)
    for k, f in enumerate(freqs):
        assert np.array_equal(sig.targets[k], np.sin(2 * np.pi * f * t))


# ---------------------------------------------------------------------------------------------- noise laws
def _redraw(cfg: SignalConfig, seed: int, n_seq: int, T: int):
    """Re-draw the noise in the order signals.py documents: theta (offsets), A, phi, AWGN."""
    rng = np.random.default_rng(seed)
    K = len(cfg.frequencies)
    theta = rng.uniform(0, TWO_PI, size=(n_seq, K, 1)) if cfg.scenario == "offsets" else 0.0
    A = rng.uniform(*cfg.amplitude, size=(n_seq, K, T))
    if cfg.scenario == "offsets":
        phi = rng.uniform(-np.pi * cfg.phase_scale, np.pi * cfg.phase_scale, size=(n_seq, K, T))
    else:
        phi = cfg.phase_scale * rng.uniform(0, TWO_PI, size=(n_seq, K, T))
    noise = rng.normal(0, cfg.noise_sigma, size=(n_seq, T)) if cfg.noise_sigma > 0 else 0.0
    return theta, A, phi, noise


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_S_is_the_documented_mixture(scenario):
    """S = 1/K sum_i A_i sin(2 pi f_i t + theta_i + phi_i) (+ AWGN) with the documented draw order."""
    cfg = short(scenario, noise_sigma=0.2 if scenario == "offsets" else 0.0)
    S, targets = draw(cfg, np.random.default_rng(7), n_seq=5)
    theta, A, phi, noise = _redraw(cfg, 7, 5, cfg.n_samples)
    f = np.asarray(cfg.frequencies)[None, :, None]
    t = time_axis(cfg)[None, None, :]
    clean = 2 * np.pi * f * t + theta
    np.testing.assert_allclose(S, (A * np.sin(clean + phi)).mean(axis=1) + noise, rtol=0, atol=1e-12)
    np.testing.assert_allclose(targets, np.broadcast_to(np.sin(clean), targets.shape), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 11])
def test_amplitude_and_phase_noise_laws(seed):
    """The recovered per-sample A and phi of a long draw are U(0.8, 1.2) and U(0, 2 pi) (KS test)."""
    cfg = SignalConfig()
    n_seq = 5
    S, _ = draw(cfg, np.random.default_rng(seed), n_seq=n_seq)
    _, A, phi, _ = _redraw(cfg, seed, n_seq, cfg.n_samples)
    # the recovered noise is the noise in S (so testing its law tests S's noise)
    f = np.asarray(cfg.frequencies)[None, :, None]
    np.testing.assert_allclose(S, (A * np.sin(2 * np.pi * f * time_axis(cfg) + phi)).mean(axis=1),
                               rtol=0, atol=1e-12)
    a, p = A.ravel(), phi.ravel()  # 200 000 draws each
    assert stats.kstest(a, stats.uniform(0.8, 0.4).cdf).pvalue > 1e-3
    assert stats.kstest(p, stats.uniform(0, TWO_PI).cdf).pvalue > 1e-3
    assert a.min() >= 0.8 and a.max() < 1.2 and p.min() >= 0 and p.max() < TWO_PI
    # power: the same test sees a 5 % narrower range or a half-period phase
    assert stats.kstest(a, stats.uniform(0.8, 0.38).cdf).pvalue < 1e-6
    assert stats.kstest(p, stats.uniform(0, np.pi * 1.9).cdf).pvalue < 1e-6
    # independence across components and samples: no correlation between neighbours
    assert abs(np.corrcoef(A[:, 0].ravel(), A[:, 1].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(phi[..., 1:].ravel(), phi[..., :-1].ravel())[0, 1]) < 0.02


def _monte_carlo_spec_S(rng, size: int, K: int = 4, lo: float = 0.8, hi: float = 1.2,
                        phase_range: float = TWO_PI) -> np.ndarray:
    """Spec S at any t has the law of 1/K sum_i A_i sin(U_i): phase uniform over a full period."""
    A = rng.uniform(lo, hi, size=(size, K))
    return (A * np.sin(rng.uniform(0, phase_range, size=(size, K)))).mean(axis=1)


def test_spec_S_law_matches_monte_carlo_reference():
    cfg = SignalConfig()
    S, _ = draw(cfg, np.random.default_rng(3), n_seq=4)
    ref = _monte_carlo_spec_S(np.random.default_rng(1003), 200_000)
    assert stats.ks_2samp(S.ravel(), ref).pvalue > 1e-3
    # Var S = K * E[A^2] * 1/2 / K^2 with E[A^2] = 1 + 0.4^2 / 12
    assert S.var() == pytest.approx((1 + 0.16 / 12) / 8, rel=0.02)
    # power: a shifted amplitude range or a phase short of a full period is detected
    wrong_a = _monte_carlo_spec_S(np.random.default_rng(1004), 200_000, lo=0.9, hi=1.3)
    assert stats.ks_2samp(S.ravel(), wrong_a).pvalue < 1e-6
    wrong_p = _monte_carlo_spec_S(np.random.default_rng(1005), 200_000, phase_range=0.9 * TWO_PI)
    assert stats.ks_2samp(S.ravel(), wrong_p).pvalue < 1e-6


def _bins(cfg: SignalConfig, seed: int, n_seq: int, n_bins: int = 20):
    """S of many sequences grouped into n_bins consecutive time bins: (n_bins, n_seq * T / n_bins)."""
    S, _ = draw(cfg, np.random.default_rng(seed), n_seq=n_seq)
    T = S.shape[1]
    groups = S.reshape(n_seq, n_bins, T // n_bins).transpose(1, 0, 2).reshape(n_bins, -1)
    f = np.asarray(cfg.frequencies)[:, None]
    clean = np.sin(2 * np.pi * f * time_axis(cfg)).mean(axis=0)  # the noise-free mixture
    return groups, clean.reshape(n_bins, -1).mean(axis=1)


def test_spec_S_is_independent_of_t():
    """Spec: the per-bin means and variances of S are flat in time (no information about the clock)."""
    groups, clean_means = _bins(short("spec"), seed=5, n_seq=400)  # 20 bins x 20 000 values
    assert stats.f_oneway(*groups).pvalue > 1e-3  # ANOVA: equal means
    assert stats.levene(*groups).pvalue > 1e-3  # equal variances
    means = groups.mean(axis=1)
    se = np.sqrt(groups.var() / groups.shape[1])
    assert np.abs(means).max() < 5 * se  # mean 0 in every bin
    chi2 = (((means - means.mean()) / se) ** 2).sum()
    assert stats.chi2(df=len(means) - 1).sf(chi2) > 1e-3
    # the bin means do not follow the clean mixture
    assert abs(np.corrcoef(means, clean_means)[0, 1]) < 0.8
    assert np.abs(clean_means).max() > 100 * se  # (while that mixture is far from flat)


def test_phase_scaled_S_follows_the_clean_mixture():
    """phase_scale 0.01: S is the clean mixture plus small noise, so its bin means carry the clock."""
    cfg = short("phase-scaled", phase_scale=0.01)
    groups, clean_means = _bins(cfg, seed=5, n_seq=400)
    assert stats.f_oneway(*groups).pvalue < 1e-12
    means = groups.mean(axis=1)
    assert np.corrcoef(means, clean_means)[0, 1] > 0.99
    # E[A] = 1 and the phase is shifted by at most 0.02 pi: the bin means sit on the clean ones
    np.testing.assert_allclose(means, clean_means, atol=0.05)


@pytest.mark.parametrize("s", [0.01, 0.1, 0.5])
def test_phase_scaled_phase_law(s):
    cfg = short("phase-scaled", phase_scale=s)
    _, _, phi, _ = _redraw(cfg, 9, 50, cfg.n_samples)
    assert stats.kstest(phi.ravel(), stats.uniform(0, TWO_PI * s).cdf).pvalue > 1e-3
    assert phi.max() < TWO_PI * s


def test_phase_scale_controls_how_far_S_is_from_the_clean_mixture():
    errs = []
    for s in (0.01, 0.1, 0.5, 1.0):
        cfg = short("phase-scaled", phase_scale=s)
        S, targets = draw(cfg, np.random.default_rng(9), n_seq=50)
        errs.append(np.mean((S - targets.mean(axis=1)) ** 2))
    assert errs == sorted(errs) and errs[0] < 0.005 < errs[1] and errs[-1] > 0.2


def test_noise_free_limits_give_the_clean_mixture():
    """No amplitude and no phase noise: S is exactly the mean of the targets."""
    for cfg in (short("phase-scaled", phase_scale=0.0, amplitude=(1.0, 1.0)),
                short("offsets", phase_scale=0.0, amplitude=(1.0, 1.0))):
        S, targets = draw(cfg, np.random.default_rng(4), n_seq=3)
        np.testing.assert_allclose(S, targets.mean(axis=1), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------- offsets
def _fit_sine(y: np.ndarray, f: float, t: np.ndarray):
    """Least-squares y ~ a sin(2 pi f t) + b cos(2 pi f t): amplitude, phase, max residual."""
    X = np.column_stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)])
    (a, b), *_ = np.linalg.lstsq(X, y, rcond=None)
    return np.hypot(a, b), np.arctan2(b, a) % TWO_PI, np.abs(X @ [a, b] - y).max()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_offsets_targets_are_phase_shifted_unit_sines(seed):
    cfg = short("offsets", phase_scale=0.1)
    n_seq = 6
    _, targets = draw(cfg, np.random.default_rng(seed), n_seq=n_seq)
    theta, *_ = _redraw(cfg, seed, n_seq, cfg.n_samples)
    t = time_axis(cfg)
    for r in range(n_seq):
        for k, f in enumerate(cfg.frequencies):
            amp, phase, resid = _fit_sine(targets[r, k], f, t)
            assert amp == pytest.approx(1.0, abs=1e-9)
            assert resid < 1e-9
            # the per-sequence phase is the documented first draw theta ~ U(0, 2 pi)
            d = (phase - theta[r, k, 0] + np.pi) % TWO_PI - np.pi
            assert abs(d) < 1e-9
    # each sequence has its own phases: no two sequences share a target row
    flat = targets.reshape(n_seq, -1)
    for i in range(n_seq):
        for j in range(i + 1, n_seq):
            assert not np.allclose(flat[i], flat[j])


def test_offsets_phase_law_and_seed_dependence():
    cfg = short("offsets", phase_scale=0.1)
    theta, _, phi, _ = _redraw(cfg, 21, 2000, 10)
    assert stats.kstest(theta.ravel(), stats.uniform(0, TWO_PI).cdf).pvalue > 1e-3
    assert stats.kstest(phi.ravel(), stats.uniform(-0.1 * np.pi, 0.2 * np.pi).cdf).pvalue > 1e-3
    a, b = generate(cfg, 1), generate(cfg, 2)
    assert not np.allclose(a.targets, b.targets)  # unlike spec, the targets depend on the seed


def test_offsets_S_tracks_its_own_targets():
    """With small jitter S is close to the mean of the *phase-shifted* targets, not of the bare sines."""
    cfg = short("offsets", phase_scale=0.1)
    S, targets = draw(cfg, np.random.default_rng(8), n_seq=20)
    own = np.mean((S - targets.mean(axis=1)) ** 2)
    t = time_axis(cfg)
    bare = np.sin(2 * np.pi * np.asarray(cfg.frequencies)[:, None] * t).mean(axis=0)
    assert own < 0.01
    assert np.mean((S - bare) ** 2) > 10 * own


# ---------------------------------------------------------------------------------------------- AWGN
@settings(max_examples=6, deadline=None)
@given(sigma=st.floats(0.1, 2.0), seed=st.integers(0, 2**32))
def test_awgn_adds_sigma_squared(sigma, seed):
    base = short("offsets", phase_scale=0.1)
    noisy = short("offsets", phase_scale=0.1, noise_sigma=sigma)
    S0, T0 = draw(base, np.random.default_rng(seed), n_seq=100)
    S1, T1 = draw(noisy, np.random.default_rng(seed), n_seq=100)
    assert np.array_equal(T0, T1)  # the noise is drawn last: theta, A, phi are unchanged
    d = (S1 - S0).ravel()
    assert d.mean() == pytest.approx(0.0, abs=5 * sigma / np.sqrt(d.size))
    assert d.var() == pytest.approx(sigma**2, rel=0.05)
    assert (S1.var() - S0.var()) == pytest.approx(sigma**2, rel=0.1)
    assert stats.kstest(d / sigma, "norm").pvalue > 1e-4
