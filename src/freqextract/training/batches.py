"""What one optimiser step trains on, and what validation measures, for each kind of model.

A :class:`Batch` is B streams of T samples, each with a weight and a group:

    selector models (spec, phase-scaled, offsets)   R fresh sequences x K selectors; stream r*K + k,
                                                    weight 1, group k (the loss is per frequency)
    multi-output models (model.outputs = "all")     R fresh sequences, x (R, T, 1) = S; the model returns
                                                    (R*K, T) in the selector order, so y, weight and
                                                    group are the selector model's
    conditioned models (mix)                        R fresh mixtures x Q requests; stream r*Q + q, weight
                                                    1 / (the request's target power), group 0 (present) or
                                                    1 (absent: a frequency >= eval.absent_separation Hz
                                                    from every component, weighted by the mixture's mean
                                                    component power), so the weighted MSE is the NMSE
    conditioned models (programmable)               R fresh spec sequences x Q requests; stream r*Q + q,
                                                    weight 1, one group (the MSE over the band)

The loss of a step is ``focus_loss`` of the group means of the weighted per-stream MSE (a ``mix`` model's
absent group weighed by ``train.absent_weight``: :func:`weigh_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..config import RunConfig
from ..signals import programmable
from ..signals.data import request_streams, streams_for
from ..signals.mix import draw_mix, draw_requests, request_targets
from ..signals.scenarios import draw, generate

VAL_MIXTURES = 8  # validation mixtures of a conditioned model (seed signal.val_seed), each with train.requests
VAL_SEQUENCES = 4  # validation sequences of a programmable model (seed signal.val_seed), each with train.requests


@dataclass
class Batch:
    x: torch.Tensor  # (B, T, n)
    y: torch.Tensor  # (B, T)
    weight: torch.Tensor  # (B,)
    group: torch.Tensor | None  # (B,) group index; None: stream b is in group b % n_groups
    n_groups: int

    def group_means(self, err: torch.Tensor) -> torch.Tensor:
        """(B,) per-stream errors -> (n_groups,) weighted mean per group."""
        err = err * self.weight
        if self.group is None:
            return err.reshape(-1, self.n_groups).mean(0)
        total = err.new_zeros(self.n_groups).index_add(0, self.group, err)
        count = err.new_zeros(self.n_groups).index_add(0, self.group, torch.ones_like(err))
        return total / count.clamp(min=1)


def group_names(cfg: RunConfig) -> list[str]:
    """What the groups of a batch are: the frequencies (Hz), or present/absent requests."""
    if cfg.signal.scenario == "mix":
        return ["present", "absent"]
    if cfg.signal.scenario == "programmable":
        return ["band"]
    return [f"{f:g} Hz" for f in cfg.signal.frequencies]


def nu_max(cfg: RunConfig) -> float:
    """The top of the trained band in cycles per sample (the scale of a request's nu input)."""
    return cfg.signal.band[1] / cfg.signal.fs


def mean_count(sig) -> float:
    """The expected component count of a ``mix`` sequence (K uniform in ``signal.components``)."""
    if sig.mix_frequencies:
        return float(len(sig.mix_frequencies))
    return (sig.components[0] + sig.components[1]) / 2


def weigh_groups(cfg: RunConfig, means: torch.Tensor) -> torch.Tensor:
    """(n_groups,) group means -> as the loss weighs them: a ``mix`` model's absent requests by
    ``train.absent_weight``, every other group by 1."""
    if cfg.signal.scenario != "mix" or cfg.train.absent_weight == 1.0:
        return means
    return means * means.new_tensor([1.0, cfg.train.absent_weight])


def mix_batch(cfg: RunConfig, rng: np.random.Generator, n_seq: int, horizon: int, device,
              dtype=np.float32) -> Batch:
    """``n_seq`` fresh mixtures of ``horizon`` samples, ``train.requests`` requests each."""
    S, mix, comps = draw_mix(cfg.signal, rng, n_seq, horizon)
    req = draw_requests(cfg.signal, rng, mix, cfg.train.requests, cfg.train.absent_fraction,
                        cfg.eval.absent_separation)
    x = request_streams(S, req.frequencies / cfg.signal.fs, cfg.model.conditioning, nu_max(cfg), dtype=dtype)
    y = request_targets(comps, req).reshape(-1, horizon)  # (R*Q, T)
    power = (mix.levels ** 2).sum(1) / (2 * mix.count)  # (R,) mean component power
    own = np.take_along_axis(mix.levels, np.maximum(req.which, 0), axis=1) ** 2 / 2  # (R, Q)
    ref = np.where(req.absent, power[:, None], own).reshape(-1)
    if cfg.train.count_weighting:  # a K-component mixture weighs K / E[K], as in the held-out evaluation
        ref = ref / np.where(req.absent, 1.0, mix.count[:, None] / mean_count(cfg.signal)).reshape(-1)
    return Batch(x=torch.as_tensor(x, device=device), y=torch.as_tensor(y.astype(dtype), device=device),
                 weight=torch.as_tensor((1.0 / ref).astype(dtype), device=device),
                 group=torch.as_tensor(req.absent.reshape(-1).astype(np.int64), device=device), n_groups=2)


def programmable_batch(cfg: RunConfig, rng: np.random.Generator, n_seq: int, horizon: int, device,
                       dtype=np.float32) -> Batch:
    """``n_seq`` fresh spec sequences of ``horizon`` samples, ``train.requests`` requested frequencies each."""
    S, _ = draw(cfg.signal, rng, n_seq, horizon)  # (R, T)
    hz = programmable.draw_requests(cfg.signal, rng, n_seq, cfg.train.requests)  # (R, Q)
    x = request_streams(S, hz / cfg.signal.fs, cfg.model.conditioning, nu_max(cfg), dtype=dtype)  # (R*Q, T, n)
    y = programmable.targets(hz, horizon, cfg.signal.fs).reshape(-1, horizon)  # (R*Q, T)
    return Batch(x=torch.as_tensor(x, device=device), y=torch.as_tensor(y.astype(dtype), device=device),
                 weight=torch.ones(y.shape[0], device=device), group=None, n_groups=1)


def training_batch(cfg: RunConfig, rng: np.random.Generator, horizon: int, device) -> Batch:
    """The fresh data of one optimiser step (``train.realisations`` sequences of ``horizon`` samples)."""
    R = cfg.train.realisations
    if cfg.signal.scenario == "mix":
        return mix_batch(cfg, rng, R, horizon, device)
    if cfg.signal.scenario == "programmable":
        return programmable_batch(cfg, rng, R, horizon, device)
    S, targets = draw(cfg.signal, rng, R, horizon)
    x, y = streams_for(cfg.model.outputs, S, targets)  # (R*K, h, 1+K) or (R, h, 1); (R*K, h)
    K = len(cfg.signal.frequencies)
    return Batch(x=torch.as_tensor(x, device=device), y=torch.as_tensor(y, device=device),
                 weight=torch.ones(R * K, device=device), group=None, n_groups=K)


def validation_batch(cfg: RunConfig, device) -> Batch:
    """The fixed whole-length data validation measures: signal.val_seed (its own mixtures for ``mix``)."""
    if cfg.signal.scenario == "mix":
        rng = np.random.default_rng([cfg.signal.val_seed, 0x7A1])
        return mix_batch(cfg, rng, VAL_MIXTURES, cfg.signal.n_samples, device)
    if cfg.signal.scenario == "programmable":
        rng = np.random.default_rng([cfg.signal.val_seed, 0x9A0])
        return programmable_batch(cfg, rng, VAL_SEQUENCES, cfg.signal.n_samples, device)
    sig = generate(cfg.signal, cfg.signal.val_seed)
    x, y = streams_for(cfg.model.outputs, sig.S[None], sig.targets[None])  # (K, N, 1+K) or (1, N, 1); (K, N)
    K = y.shape[0]
    return Batch(x=torch.as_tensor(x, device=device), y=torch.as_tensor(y, device=device),
                 weight=torch.ones(K, device=device), group=None, n_groups=K)
