"""The Bayes reference on ``offsets``: E[target | S_0..S_n] by a particle filter over the phases.

On ``offsets`` component k is sin(2 pi f_k t + theta_k) with theta_k ~ U(0, 2 pi) constant in the sequence.
The MSE-optimal causal estimate of target k at sample n is the posterior mean E[sin(2 pi f_k t_n + theta_k)
| S_0..S_n]. A particle filter (sequential Monte Carlo) carries P particles theta (K,) from the uniform
prior, weighted by the likelihood of every sample; the likelihood of one sample given theta is Gaussian
with the scenario's exact per-sample mean and variance (the amplitude and phase jitter and sigma; see
:mod:`.bayes` for the moments):

    x_k    = 2 pi f_k t_n + theta_k
    mean   = m / K sum_k sin x_k                                              m  = E[A] E[cos phi]
    var    = 1 / K^2 sum_k (a0 - a1 cos 2 x_k) + sigma^2     a0 = (E[A^2] - m^2) / 2, a1 = (E[A^2] c2 - m^2) / 2

Because theta is static, the weights collapse onto few particles as the posterior narrows: whenever the
effective sample size falls below half of P, the particles are resampled (systematically) and moved by
random-walk Metropolis steps that leave the posterior given S_0..S_n invariant (resample-move), with the
likelihood of the whole past recomputed for every proposal. The posterior narrows like 1/n, so this
happens about every doubling of n and costs a few passes over the sequence in all.

Everything is vectorised over particles and time: sin(w t + theta) = sin(w t) cos(theta) + cos(w t)
sin(theta), so the means (and the variances, with 2w and 2 theta) of a block of B samples for all P
particles are one (B, 2K) @ (2K, P) product. Deterministic given ``seed``. The Gaussian likelihood is an
approximation (the true per-sample noise is a sum of K bounded terms), and P particles give Monte Carlo
error, so this approximates, not computes, the Bayes estimate: tests/evaluation/test_smc.py checks it
against the exact posterior on a fine grid.

Example: two clean components are locked onto within a tenth of a second.

>>> import numpy as np
>>> from freqextract.signals import MixedSignal
>>> fs, f = 1000.0, np.array([1.0, 3.0])
>>> t = np.arange(300) / fs
>>> targets = np.sin(2 * np.pi * f[:, None] * t + np.array([[0.5], [2.0]]))
>>> sig = MixedSignal(t=t, S=targets.mean(axis=0), targets=targets, frequencies=f, fs=fs)
>>> out = smc_posterior_mean(sig, phase_scale=0.0, amplitude=(1.0, 1.0), noise_sigma=0.01, particles=512)
>>> bool(np.abs(out[:, 100:] - targets[:, 100:]).max() < 0.01)
True
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..signals.scenarios import MixedSignal
from .bayes import noise_moments

TWO_PI = 2 * np.pi
_DEBUG = False
RESAMPLE_ESS = 0.25  # resample when the effective sample size falls below this share of the particles
MOVE_BUDGET = 4000  # samples re-weighed per particle at a resampling, at least: many moves while n is small
MAX_MOVES = 40
NARROW = 0.3  # rad: a posterior narrower than this in every phase is moved by independence proposals
WIDEN = 1.5  # the independence proposal's spread over the particles'
CHUNK = 2048  # samples per block when the whole past is re-weighed: bounds memory at CHUNK * P floats


class _Model:
    """The per-sample Gaussian likelihood of S given the phases, for blocks of samples and particles."""

    def __init__(self, sig: MixedSignal, phase_scale: float, amplitude, noise_sigma: float):
        K = sig.n_freqs
        m, mean_a2, c2 = noise_moments(phase_scale, amplitude)
        wt = TWO_PI * sig.frequencies[None, :] * np.asarray(sig.t, dtype=np.float64)[:, None]  # (N, K)
        # (N, 2K): sin x = basis @ [cos theta; sin theta], cos 2x = basis2 @ [cos 2 theta; sin 2 theta]; float32
        # for speed (the log-likelihoods of a block are summed in float64)
        self.basis = np.concatenate([np.sin(wt), np.cos(wt)], axis=1).astype(np.float32)
        self.basis2 = np.concatenate([np.cos(2 * wt), -np.sin(2 * wt)], axis=1).astype(np.float32)
        self.scale = m / K
        self.var0 = (mean_a2 - m * m) / 2 / K + noise_sigma ** 2  # K components' a0 / K^2
        self.var1 = (mean_a2 * c2 - m * m) / 2 / K ** 2
        self.S = np.asarray(sig.S, dtype=np.float32)

    def loglik(self, theta: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """log p(S_i | theta) for samples lo..hi-1 and particles theta (P, K): (hi - lo, P), float32."""
        trig = np.concatenate([np.cos(theta), np.sin(theta)], axis=1).T.astype(np.float32)  # (2K, P)
        trig2 = np.concatenate([np.cos(2 * theta), np.sin(2 * theta)], axis=1).T.astype(np.float32)
        out = self.basis[lo:hi] @ trig  # (B, P): the mean of S over its scale
        var = self.basis2[lo:hi] @ trig2  # (B, P)
        var *= -self.var1
        var += self.var0
        np.maximum(var, 1e-12, out=var)
        out *= -self.scale  # in place from here: -0.5 ((S - mean)^2 / var + log var)
        out += self.S[lo:hi, None]
        np.square(out, out=out)
        out /= var
        out += np.log(var, out=var)
        out *= -0.5
        return out

    def total(self, theta: np.ndarray, n: int) -> np.ndarray:
        """log p(S_0..S_{n-1} | theta): (P,)."""
        out = np.zeros(theta.shape[0])
        for lo in range(0, n, CHUNK):
            out += self.loglik(theta, lo, min(n, lo + CHUNK)).sum(axis=0, dtype=np.float64)
        return out


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a systematic resample of normalised ``weights`` (P,)."""
    P = weights.shape[0]
    edges = np.cumsum(weights)
    edges[-1] = 1.0
    return np.searchsorted(edges, (rng.random() + np.arange(P)) / P)


def _wrapped_moments(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circular means (K,) of the phases and the covariance (K, K) of the differences from them, wrapped
    to -pi..pi."""
    centre = np.angle(np.exp(1j * theta).mean(axis=0))
    d = np.angle(np.exp(1j * (theta - centre)))
    return centre, np.atleast_2d(np.cov(d, rowvar=False)) + 1e-12 * np.eye(theta.shape[1])


def _random_walk_moves(model: _Model, theta, total, n: int, cov, moves: int, step: float, rng):
    """Random-walk Metropolis steps on the torus (a wide or many-peaked posterior); the scale adapts to
    keep the acceptance near a quarter."""
    P, K = theta.shape
    chol = np.linalg.cholesky(cov)
    for _ in range(moves):
        proposal = np.mod(theta + step * rng.standard_normal((P, K)) @ chol.T, TWO_PI)
        new = model.total(proposal, n)
        accept = np.log(rng.random(P)) < new - total
        theta[accept], total[accept] = proposal[accept], new[accept]
        rate = accept.mean()
        step *= 1.3 if rate > 0.35 else 0.7 if rate < 0.15 else 1.0
        if _DEBUG:
            print(n, "rw", round(float(rate), 3))
    return theta, total, step


def _independence_moves(model: _Model, theta, total, n: int, centre, cov, moves: int, rng):
    """Metropolis-Hastings steps proposing from a Gaussian fitted to the particles, widened by
    ``WIDEN`` (a narrow, one-peaked posterior: most proposals are accepted, and each accepted one is a
    fresh draw rather than a neighbour of a duplicate)."""
    P, K = theta.shape
    cov = WIDEN ** 2 * cov
    chol = np.linalg.cholesky(cov)
    prec = np.linalg.inv(cov)

    def log_q(th):  # the proposal's log density, up to a constant
        d = np.angle(np.exp(1j * (th - centre)))
        return -0.5 * np.einsum("pk,kl,pl->p", d, prec, d)

    current_q = log_q(theta)
    for _ in range(moves):
        proposal = np.mod(centre + rng.standard_normal((P, K)) @ chol.T, TWO_PI)
        new, new_q = model.total(proposal, n), log_q(proposal)
        accept = np.log(rng.random(P)) < (new - total) - (new_q - current_q)
        theta[accept], total[accept], current_q[accept] = proposal[accept], new[accept], new_q[accept]
        if _DEBUG:
            print(n, "ind", round(float(accept.mean()), 3))
    return theta, total


def smc_posterior_mean(sig: MixedSignal, phase_scale: float, amplitude: tuple[float, float] = (0.8, 1.2),
                       noise_sigma: float = 0.0, particles: int = 4096, seed: int = 0, moves: int = 2,
                       n_samples: int | None = None) -> np.ndarray:
    """Particle-filter estimate of E[target_k(n) | S_0..S_n] for every k and n: (K, n_samples).

    Causal. ``phase_scale``, ``amplitude`` and ``noise_sigma`` are the scenario's (SignalConfig)
    parameters, known to the estimator as RLS knows the frequencies. ``particles``: P; ``moves``:
    Metropolis steps after each resampling; ``seed``: the filter's own random numbers.
    """
    if particles < 2:
        raise UserError(f"particles: need at least 2, got {particles}")
    if moves < 0:
        raise UserError(f"moves: must be >= 0, got {moves}")
    K = sig.n_freqs
    N = sig.n_samples if n_samples is None else min(int(n_samples), sig.n_samples)
    model = _Model(sig, phase_scale, amplitude, noise_sigma)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, TWO_PI, size=(particles, K))  # (P, K) from the uniform prior
    logw = np.zeros(particles)  # log weights since the last resampling
    total = np.zeros(particles)  # log p(S_0..S_{n-1} | theta): what a move is accepted by
    step = 2.38 / np.sqrt(K)  # random-walk scale in units of the posterior's spread
    out = np.empty((K, N))
    n = 0
    while n < N:
        B = int(min(N - n, max(16, n // 2)))  # resampling comes about every doubling of n
        ll = model.loglik(theta, n, n + B)  # (B, P)
        lw = logw[None, :] + np.cumsum(ll, axis=0, dtype=np.float64)  # (B, P)
        w = np.exp(lw - lw.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        ess = 1.0 / (w * w).sum(axis=1)  # (B,)
        low = np.flatnonzero(ess < RESAMPLE_ESS * particles)
        used = B if low.size == 0 else int(low[0]) + 1  # samples whose weights are final
        trig = np.concatenate([np.cos(theta), np.sin(theta)], axis=1)  # (P, 2K)
        moments = w[:used] @ trig  # (used, 2K): E[cos theta_k], E[sin theta_k] at every sample
        basis = model.basis[n:n + used]
        out[:, n:n + used] = (basis[:, :K] * moments[:, :K] + basis[:, K:] * moments[:, K:]).T
        logw = lw[used - 1]
        total += ll[:used].sum(axis=0, dtype=np.float64)
        n += used
        if low.size == 0 or n >= N:
            continue
        idx = _systematic(w[used - 1], rng)  # resample, then move: the posterior given S_0..S_{n-1}
        theta, total, logw = theta[idx], total[idx], np.zeros(particles)
        centre, cov = _wrapped_moments(theta)
        k = min(MAX_MOVES, max(moves, -(-MOVE_BUDGET // n)))  # early moves are cheap: more of them
        if np.sqrt(np.diag(cov).max()) < NARROW:
            theta, total = _independence_moves(model, theta, total, n, centre, cov, k, rng)
        else:
            theta, total, step = _random_walk_moves(model, theta, total, n, cov, k, step, rng)
    return out
