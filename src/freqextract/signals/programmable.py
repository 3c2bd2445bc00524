"""The ``programmable`` scenario (docs/scenarios.md): the spec's noisy S, and requests for any frequency in a
band, answered by sin(2 pi f t) from the reset.

S is the spec's (the components at ``signal.frequencies`` with per-sample amplitude and phase noise), so it
carries no information about the target: the network has to generate the requested sine itself. Training
requests are drawn uniformly from ``signal.band`` less ``signal.heldout_margin`` Hz around every held-out
frequency (``config.allowed_intervals``), so the held-out ones are never seen.
"""

from __future__ import annotations

import numpy as np

from ..config import SignalConfig, allowed_intervals


def draw_requests(cfg: SignalConfig, rng: np.random.Generator, n_seq: int, n_requests: int) -> np.ndarray:
    """(n_seq, n_requests) frequencies in Hz, uniform over the band less the held-out margins."""
    parts = np.asarray(allowed_intervals(cfg), dtype=np.float64)  # (P, 2)
    widths = parts[:, 1] - parts[:, 0]
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    u = rng.uniform(0.0, edges[-1], size=(n_seq, n_requests))
    k = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(widths) - 1)
    return parts[k, 0] + (u - edges[k])


def targets(frequencies: np.ndarray, n_samples: int, fs: float) -> np.ndarray:
    """Frequencies (...,) in Hz -> (..., T) sin(2 pi f n / fs), n counted from the reset."""
    n = np.arange(n_samples, dtype=np.float64)
    f = np.asarray(frequencies, dtype=np.float64)[..., None]
    return np.sin(2 * np.pi * np.mod(f / fs * n, 1.0))
