"""Noisy mixed signals for the scenarios (docs/method.md and docs/scenarios.md), vectorised numpy.

For K frequencies f_i and n = 0..N-1, t = n / fs:

    spec          S(t) = 1/K sum_i A_i(t) sin(2 pi f_i t + phi_i(t)),  A ~ U(lo, hi), phi ~ U(0, 2 pi)
                  target_i(t) = sin(2 pi f_i t)
    phase-scaled  as spec with phi ~ s * U(0, 2 pi)
    offsets       S(t) = 1/K sum_i A_i(t) sin(2 pi f_i t + theta_i + phi_i(t)) + sigma * N(0, 1)
                  theta_i ~ U(0, 2 pi) once per sequence, phi ~ U(-pi s, pi s) per sample
                  target_i(t) = sin(2 pi f_i t + theta_i)

    mix           a mixture of 1..6 components from a band, with requests (see :mod:`.mix`)

A and phi are drawn anew at every sample, independently per component. Every draw comes from
``numpy.random.default_rng(seed)`` in a fixed order (theta, A, phi, AWGN), so a seed fixes the data.

Example: the clean part of the spec targets is a unit sine, so its mean square is 1/2.

>>> from freqextract.config import SignalConfig
>>> sig = generate(SignalConfig(), seed=2)
>>> sig.S.shape, sig.targets.shape
((10000,), (4, 10000))
>>> round(float((sig.targets ** 2).mean()), 3)
0.5
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..config import SignalConfig

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class MixedSignal:
    """One sequence: time axis, mixed input S, pure targets (one row per frequency)."""

    t: np.ndarray  # (N,)
    S: np.ndarray  # (N,)
    targets: np.ndarray  # (K, N)
    frequencies: np.ndarray  # (K,)
    fs: float
    meta: dict = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        return int(self.S.shape[0])

    @property
    def n_freqs(self) -> int:
        return int(self.frequencies.shape[0])

    def meta_json(self) -> str:
        return json.dumps(self.meta, sort_keys=True)


def time_axis(cfg: SignalConfig) -> np.ndarray:
    return np.arange(cfg.n_samples) / cfg.fs


def draw(cfg: SignalConfig, rng: np.random.Generator, n_seq: int = 1, n_samples: int | None = None):
    """Draw ``n_seq`` independent sequences of the first ``n_samples`` samples (default: all).

    Returns ``S`` (n_seq, T) and ``targets`` (n_seq, K, T), float64.
    """
    T = cfg.n_samples if n_samples is None else n_samples
    f = np.asarray(cfg.frequencies, dtype=np.float64)
    K = f.shape[0]
    t = np.arange(T) / cfg.fs
    clean = 2 * np.pi * f[None, :, None] * t[None, None, :]  # (1, K, T)
    if cfg.scenario == "offsets":
        theta = rng.uniform(0.0, 2 * np.pi, size=(n_seq, K, 1))
        clean = clean + theta  # (n_seq, K, T)
    lo, hi = cfg.amplitude
    A = rng.uniform(lo, hi, size=(n_seq, K, T))
    if cfg.scenario == "offsets":
        phi = rng.uniform(-np.pi * cfg.phase_scale, np.pi * cfg.phase_scale, size=(n_seq, K, T))
    else:
        phi = cfg.phase_scale * rng.uniform(0.0, 2 * np.pi, size=(n_seq, K, T))
    S = (A * np.sin(clean + phi)).mean(axis=1)  # (n_seq, T)
    if cfg.noise_sigma > 0:
        S = S + rng.normal(0.0, cfg.noise_sigma, size=S.shape)
    targets = np.broadcast_to(np.sin(clean), (n_seq, K, T)).copy()
    return S, targets


def generate(cfg: SignalConfig, seed: int) -> MixedSignal:
    """The full-length sequence for one noise seed (seed 1 = train, seed 2 = test in the spec)."""
    if cfg.scenario == "mix":
        return _generate_mix(cfg, seed)
    rng = np.random.default_rng(seed)
    S, targets = draw(cfg, rng, 1)
    meta = {
        "scenario": cfg.scenario,
        "seed": int(seed),
        "generator": "freqextract",
        "generator_version": GENERATOR_VERSION,
        "signal": {
            "frequencies": list(cfg.frequencies), "fs": cfg.fs, "duration": cfg.duration,
            "amplitude": list(cfg.amplitude), "phase_scale": cfg.phase_scale, "noise_sigma": cfg.noise_sigma,
        },
    }
    return MixedSignal(
        t=time_axis(cfg), S=S[0], targets=targets[0],
        frequencies=np.asarray(cfg.frequencies, dtype=np.float64), fs=float(cfg.fs), meta=meta,
    )


def _generate_mix(cfg: SignalConfig, seed: int) -> MixedSignal:
    """One ``mix`` sequence (see :mod:`.mix`): its true frequencies, their components as the targets, and
    in ``meta`` the levels, phases and noise settings (docs/extractor.md)."""
    from .mix import draw_mix

    S, mix, comps = draw_mix(cfg, np.random.default_rng(seed), 1)
    k = int(mix.count[0])
    meta = {
        "scenario": "mix", "seed": int(seed), "generator": "freqextract", "generator_version": GENERATOR_VERSION,
        "amplitudes": [float(a) for a in mix.levels[0, :k]], "phases": [float(p) for p in mix.phases[0, :k]],
        "noise_sigma": cfg.noise_sigma, "phase_scale": cfg.phase_scale,
        "signal": {
            "fs": cfg.fs, "duration": cfg.duration, "amplitude": list(cfg.amplitude),
            "phase_scale": cfg.phase_scale, "noise_sigma": cfg.noise_sigma, "band": list(cfg.band),
            "components": list(cfg.components), "min_separation": cfg.min_separation, "levels": list(cfg.levels),
        },
    }
    return MixedSignal(t=time_axis(cfg), S=S[0], targets=comps[0, :k], frequencies=mix.frequencies[0, :k].copy(),
                       fs=float(cfg.fs), meta=meta)
