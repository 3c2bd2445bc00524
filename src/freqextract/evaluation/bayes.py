"""A near-Bayes reference for the lock-on of the ``offsets`` scenario: the posterior mean on a phase grid.

On ``offsets`` each component is sin(2 pi f_k t + theta_k) with theta_k ~ U(0, 2 pi) unknown but constant,
and its amplitude in S is known on average (1/K times E[A] E[cos phi]). The MSE-optimal causal estimate of
target k at sample n is the posterior mean E[sin(2 pi f_k t_n + theta_k) | S_0..S_n]. Here it is computed
on a grid of G phases per component (G^K hypotheses, uniform prior), with a Gaussian likelihood of each
sample whose mean and variance are the scenario's exact per-sample moments given the phases:

    x_k      = 2 pi f_k t_n + theta_k
    mean     = 1/K sum_k m sin x_k                                  m  = E[A] E[cos phi]
    variance = 1/K^2 sum_k (E[A^2] (1 - c2 cos 2 x_k) / 2 - m^2 sin^2 x_k) + sigma^2,   c2 = E[cos 2 phi]

with phi ~ U(-pi s, pi s). The noise is not exactly Gaussian and the grid is finite, so this is not the
exact Bayes estimator, but it is close to it while the posterior is wide: the lock-on transient, where
known-frequency least squares (the RLS baseline) is the best *linear* estimator and loses to it, because
it does not know that every component has the same, known amplitude. Once the posterior is narrower than
the grid spacing (2 pi / G), the grid's own error (about (2 pi / G)^2 / 24 in MSE) dominates, so it is
meant for the first few hundred milliseconds only; ``n_samples`` bounds it, and the cost is G^K per sample.
:mod:`.smc` approximates the same posterior mean over the whole sequence with a particle filter.

Example: a clean mixture whose phases lie on the grid is locked onto within a tenth of a second.

>>> import numpy as np
>>> from freqextract.signals import MixedSignal
>>> fs, f, G = 1000.0, np.array([1.0, 3.0]), 12
>>> t = np.arange(300) / fs
>>> theta = 2 * np.pi * np.array([[2], [7]]) / G
>>> targets = np.sin(2 * np.pi * f[:, None] * t + theta)
>>> sig = MixedSignal(t=t, S=targets.mean(axis=0), targets=targets, frequencies=f, fs=fs)
>>> out = grid_posterior_mean(sig, phase_scale=0.0, amplitude=(1.0, 1.0), noise_sigma=0.01, grid=G)
>>> bool(np.abs(out[:, 100:] - targets[:, 100:]).max() < 1e-6)
True
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..signals.scenarios import MixedSignal

MAX_HYPOTHESES = 2_000_000  # G^K above this would take seconds per sample


def noise_moments(phase_scale: float, amplitude: tuple[float, float]) -> tuple[float, float, float]:
    """(m, E[A^2], c2) of the offsets noise: E[A] E[cos phi], E[A^2] and E[cos 2 phi], phi ~ U(-pi s, pi s)."""
    lo, hi = amplitude
    mean_a = (lo + hi) / 2
    mean_a2 = (lo * lo + lo * hi + hi * hi) / 3
    # E[cos(k phi)] = sin(k pi s) / (k pi s): numpy's normalised sinc at k s
    return mean_a * float(np.sinc(phase_scale)), mean_a2, float(np.sinc(2 * phase_scale))


def grid_posterior_mean(sig: MixedSignal, phase_scale: float, amplitude: tuple[float, float] = (0.8, 1.2),
                        noise_sigma: float = 0.0, n_samples: int | None = 600, grid: int = 24) -> np.ndarray:
    """Posterior-mean estimate of every target over the first ``n_samples`` samples: (K, n).

    Causal: the estimate at sample n reads S[0..n] only. ``phase_scale``, ``amplitude`` and
    ``noise_sigma`` are the scenario's (SignalConfig) parameters; the estimator knows them, as RLS knows
    the frequencies.
    """
    K = sig.n_freqs
    if grid < 2:
        raise UserError(f"grid: must be at least 2 phases, got {grid}")
    if grid ** K > MAX_HYPOTHESES:
        raise UserError(f"grid: {grid}^{K} = {grid ** K} phase hypotheses is more than {MAX_HYPOTHESES}; "
                        f"use a coarser grid or fewer frequencies")
    n = sig.n_samples if n_samples is None else min(int(n_samples), sig.n_samples)
    m, mean_a2, c2 = noise_moments(phase_scale, amplitude)
    theta = 2 * np.pi * np.arange(grid) / grid  # (G,)
    x = 2 * np.pi * sig.frequencies[:, None, None] * sig.t[None, None, :n] + theta[None, :, None]  # (K, G, n)
    sin = np.sin(x)
    mean_k = m * sin / K  # (K, G, n): each component's share of the mean of S
    var_k = (mean_a2 * (1 - c2 * np.cos(2 * x)) / 2 - (m * sin) ** 2) / K ** 2  # (K, G, n)
    shape = [[grid if j == k else 1 for j in range(K)] for k in range(K)]  # broadcast axis k of G^K
    others = [tuple(j for j in range(K) if j != k) for k in range(K)]
    logp = np.zeros((grid,) * K)
    out = np.empty((K, n))
    S = np.asarray(sig.S, dtype=np.float64)
    for i in range(n):
        mu = sum(mean_k[k, :, i].reshape(shape[k]) for k in range(K))  # (G,)*K
        var = sum(var_k[k, :, i].reshape(shape[k]) for k in range(K)) + noise_sigma ** 2
        var = np.maximum(var, 1e-12)  # noise-free hypotheses (s = 0, fixed A, sigma = 0)
        logp += -0.5 * ((S[i] - mu) ** 2 / var + np.log(var))
        logp -= logp.max()  # keeps exp() in range; the posterior is unchanged
        w = np.exp(logp)
        w /= w.sum()
        for k in range(K):
            marginal = w.sum(axis=others[k]) if others[k] else w  # (G,)
            out[k, i] = marginal @ sin[k, :, i]
    return out
