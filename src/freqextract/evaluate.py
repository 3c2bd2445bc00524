"""Metrics of a model on a signal: MSE over all K*N rows, per frequency, and the S ablations.

Ablations (SPEC.md section 2): under the spec S carries no information about the targets, so a model
that wins must be a clock started at the reset. Re-running it with S shuffled in time (same values,
order destroyed) or S set to zero shows how much of its output depends on S.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .data import to_streams
from .signals import MixedSignal


@torch.no_grad()
def predict(model: torch.nn.Module, sig: MixedSignal, device: str | torch.device = "cpu") -> np.ndarray:
    """Run the K selector streams from the reset state over the whole signal: outputs (K, N)."""
    x, _ = to_streams(sig)  # (K, N, 1+K)
    xt = torch.as_tensor(x, device=device)
    y, _ = model(xt)  # (K, N)
    return y.double().cpu().numpy()


def mse(outputs: np.ndarray, targets: np.ndarray) -> dict:
    """Overall MSE (every row of the K*N table counts once) and per-frequency MSE."""
    err = (np.asarray(outputs, dtype=np.float64) - np.asarray(targets, dtype=np.float64)) ** 2  # (K, N)
    return {"mse": float(err.mean()), "per_frequency_mse": [float(v) for v in err.mean(axis=1)]}


def with_S(sig: MixedSignal, S: np.ndarray) -> MixedSignal:
    return dataclasses.replace(sig, S=np.asarray(S, dtype=np.float64))


def ablations(model, sig: MixedSignal, shuffle_seed: int, device="cpu") -> dict:
    """Test MSE with S zeroed and with S shuffled in time."""
    perm = np.random.default_rng(shuffle_seed).permutation(sig.n_samples)
    zeroed = mse(predict(model, with_S(sig, np.zeros_like(sig.S)), device), sig.targets)
    shuffled = mse(predict(model, with_S(sig, sig.S[perm]), device), sig.targets)
    return {
        "test_mse_S_zeroed": zeroed["mse"], "test_mse_S_shuffled": shuffled["mse"],
        "per_frequency_mse_S_zeroed": zeroed["per_frequency_mse"],
        "per_frequency_mse_S_shuffled": shuffled["per_frequency_mse"],
    }


def evaluate_signal(model, sig: MixedSignal, device="cpu") -> tuple[dict, np.ndarray]:
    """(metrics, outputs (K, N)) of a model on one signal."""
    out = predict(model, sig, device)
    return mse(out, sig.targets), out
