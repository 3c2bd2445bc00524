"""The ``mix`` scenario (docs/extractor.md): a mixture of 1..6 components at frequencies drawn from a band,
and requests for frequencies that are, or are not, in it.

For sequence r with K_r components (frequency f_i, level a_i, phase theta_i, constant in the sequence):

    S(t) = sum_i a_i A_i(t) sin(2 pi f_i t + theta_i + phi_i(t)) + sigma n(t)      (no 1/K factor)
    target for a request f:  a_i sin(2 pi f_i t + theta_i) if f = f_i, else 0

with A_i(t) ~ U(amplitude), phi_i(t) ~ U(-pi s, pi s) drawn at every sample. Sequences with fewer than
K_max components are padded: a padded slot has level 0 and frequency NaN, so it adds nothing to S.
The draws come in a fixed order (K, f, a, theta, A, phi, noise) from one generator, so a seed fixes it all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import SignalConfig
from ..errors import UserError

MAX_TRIES = 10_000  # redraws of one sequence's frequencies before the band is declared too crowded


@dataclass(frozen=True)
class Mixture:
    """R sequences' components, padded to K_max slots; ``count[r]`` slots of row r are real."""

    frequencies: np.ndarray  # (R, Kmax) Hz, NaN where padded
    levels: np.ndarray  # (R, Kmax), 0 where padded
    phases: np.ndarray  # (R, Kmax) theta, 0 where padded
    count: np.ndarray  # (R,) components per sequence

    @property
    def present(self) -> np.ndarray:
        """(R, Kmax) bool: which slots are real components."""
        return np.arange(self.frequencies.shape[1])[None, :] < self.count[:, None]


def draw_frequencies(cfg: SignalConfig, rng: np.random.Generator, k: int) -> np.ndarray:
    """k frequencies uniform in ``signal.band``, redrawn until every pair is ``min_separation`` apart."""
    if cfg.mix_frequencies:
        return np.asarray(cfg.mix_frequencies, dtype=np.float64)
    lo, hi = cfg.band
    for _ in range(MAX_TRIES):
        f = np.sort(rng.uniform(lo, hi, size=k))
        if k < 2 or np.diff(f).min() >= cfg.min_separation:
            return rng.permutation(f)
    raise UserError(f"signal.band: could not place {k} frequencies {cfg.min_separation:g} Hz apart in "
                    f"[{lo:g}, {hi:g}] Hz")


def draw_mixture(cfg: SignalConfig, rng: np.random.Generator, n_seq: int) -> Mixture:
    """The components of ``n_seq`` sequences (their count, frequencies, levels and phases)."""
    if cfg.mix_frequencies:
        count = np.full(n_seq, len(cfg.mix_frequencies))
    else:
        count = rng.integers(cfg.components[0], cfg.components[1] + 1, size=n_seq)
    kmax = int(count.max())
    f = np.full((n_seq, kmax), np.nan)
    for r in range(n_seq):
        f[r, :count[r]] = draw_frequencies(cfg, rng, int(count[r]))
    present = np.arange(kmax)[None, :] < count[:, None]
    levels = np.where(present, rng.uniform(cfg.levels[0], cfg.levels[1], size=(n_seq, kmax)), 0.0)
    phases = np.where(present, rng.uniform(0.0, 2 * np.pi, size=(n_seq, kmax)), 0.0)
    return Mixture(frequencies=f, levels=levels, phases=phases, count=count)


def components(cfg: SignalConfig, mix: Mixture, n_samples: int) -> np.ndarray:
    """(R, Kmax, T) the clean components a_i sin(2 pi f_i t + theta_i) (0 where padded)."""
    t = np.arange(n_samples) / cfg.fs
    f = np.nan_to_num(mix.frequencies)
    return mix.levels[..., None] * np.sin(2 * np.pi * f[..., None] * t + mix.phases[..., None])


def draw_mix(cfg: SignalConfig, rng: np.random.Generator, n_seq: int = 1,
             n_samples: int | None = None) -> tuple[np.ndarray, Mixture, np.ndarray]:
    """``n_seq`` sequences of ``n_samples`` samples: S (R, T), the mixture, and its components (R, Kmax, T)."""
    T = cfg.n_samples if n_samples is None else n_samples
    mix = draw_mixture(cfg, rng, n_seq)
    kmax = mix.frequencies.shape[1]
    t = np.arange(T) / cfg.fs
    arg = 2 * np.pi * np.nan_to_num(mix.frequencies)[..., None] * t + mix.phases[..., None]  # (R, Kmax, T)
    A = rng.uniform(cfg.amplitude[0], cfg.amplitude[1], size=(n_seq, kmax, T))
    phi = rng.uniform(-np.pi * cfg.phase_scale, np.pi * cfg.phase_scale, size=(n_seq, kmax, T))
    S = (mix.levels[..., None] * A * np.sin(arg + phi)).sum(axis=1)
    if cfg.noise_sigma > 0:
        S = S + rng.normal(0.0, cfg.noise_sigma, size=S.shape)
    return S, mix, mix.levels[..., None] * np.sin(arg)


def absent_frequency(band: tuple[float, float], rng: np.random.Generator, present: np.ndarray,
                     separation: float) -> float:
    """A frequency in ``band`` (Hz) at least ``separation`` Hz from every frequency of ``present`` (NaN
    ignored); NaN when the band has no such place."""
    lo, hi = band
    present = present[np.isfinite(present)]
    for _ in range(100):
        f = rng.uniform(lo, hi)
        if present.size == 0 or np.abs(present - f).min() >= separation:
            return float(f)
    grid = np.linspace(lo, hi, 2001)  # a crowded band: take any free place, else give up
    free = grid[np.abs(grid[:, None] - present[None, :]).min(axis=1) >= separation] if present.size else grid
    return float(rng.choice(free)) if free.size else float("nan")


@dataclass(frozen=True)
class Requests:
    """Requests: the frequency asked for, and which component answers it (-1: absent); (R, Q) for R
    sequences, or (Q,) for one."""

    frequencies: np.ndarray  # (R, Q) Hz
    which: np.ndarray  # (R, Q) component slot, or -1 for an absent frequency

    @property
    def absent(self) -> np.ndarray:
        return self.which < 0


def draw_requests(cfg: SignalConfig, rng: np.random.Generator, mix: Mixture, n_requests: int,
                  absent_fraction: float, separation: float) -> Requests:
    """``n_requests`` per sequence: each absent with probability ``absent_fraction`` (a frequency
    ``separation`` Hz from every component), else one of the sequence's components, uniformly."""
    R = mix.count.shape[0]
    freq = np.empty((R, n_requests))
    which = np.empty((R, n_requests), dtype=np.int64)
    for r in range(R):
        for q in range(n_requests):
            f = np.nan
            if rng.random() < absent_fraction:
                f = absent_frequency(cfg.band, rng, mix.frequencies[r], separation)
            if np.isfinite(f):
                freq[r, q], which[r, q] = f, -1
            else:
                k = int(rng.integers(mix.count[r]))
                freq[r, q], which[r, q] = mix.frequencies[r, k], k
    return Requests(frequencies=freq, which=which)


def request_targets(comps: np.ndarray, req: Requests) -> np.ndarray:
    """(R, Q, T) the target of every request: its component, or 0 for an absent frequency."""
    idx = np.maximum(req.which, 0)
    picked = np.take_along_axis(comps, idx[..., None], axis=1)  # (R, Q, T)
    return np.where(req.absent[..., None], 0.0, picked)
