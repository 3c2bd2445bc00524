"""The curriculum: which horizon and learning rate each optimiser step trains with, and the loss weighting.

A warm-up on a short horizon, a geometric growth of the horizon to the whole signal, a final phase at
full length (``[train]`` of the config has the knobs). Gates read a moving average of the per-frequency
losses, so the plan waits for a lagging oscillator, and a warm-up that leaves one behind starts over from
a fresh init. Deterministic given the losses; its state is saved with a resumable training state.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from ..config import RunConfig
from . import resume

if TYPE_CHECKING:
    import torch

PHASES = ("warm-up", "growth", "final")


class Curriculum:
    """The horizon and learning-rate plan, one optimiser step at a time (TrainConfig has the phases).

    ``next()`` gives (phase, horizon, lr) for the coming step, or None when training is over; ``update()``
    takes that step's per-frequency losses, which the gates read through a moving average. The learning
    rate never jumps up: a restart to a high rate at a longer horizon knocks a tuned oscillator off its
    frequency, which is what made stage-wise curricula fail. Deterministic given the losses.
    """

    def __init__(self, cfg: RunConfig):
        t = cfg.train
        self.t, self.n, self.seq_len = t, cfg.signal.n_samples, cfg.model.seq_len
        self.floor = t.lr * t.lr_floor
        self.step = 0  # steps taken
        self.phase = "warm-up" if t.warmup_steps else "growth" if t.growth_steps else "final"
        if self.phase == "final" and not t.final_steps:
            self.phase = "done"  # no optimiser step at all: the polish alone (train.polish_iters)
        self.in_phase = 0  # steps taken in the current phase
        self.advances = 0  # growth advances made
        self.restarts = 0  # fresh inits after a failed warm-up
        self.restart_pending = False  # set when the trainer must re-initialise the model before the next step
        self.ema: np.ndarray | None = None
        self.work = 0  # samples per stream of the steps taken (the sum of their horizons)

    # ------------------------------------------------------------------ plan
    def _horizon(self) -> int:
        return self._horizon_of(self.phase, self.advances)

    def _horizon_of(self, phase: str, advances: int) -> int:
        if phase == "growth":
            return _growth_horizon(self.t.warmup_horizon, self.n, self.t.growth_steps, self.seq_len, advances)
        return _fit(self.t.warmup_horizon if phase == "warm-up" else self.n, self.seq_len)

    def remaining_work(self) -> int:
        """Samples per stream that the steps still planned will take (the sum of their horizons), if every
        gate opens on time from here on: what :func:`schedule` plans from this state. ``work`` plus this is
        the whole plan; a gate that holds the plan back, or a restart, makes it grow."""
        t = self.t
        if self.phase == "done":
            return 0
        total, phase, advances = 0, self.phase, self.advances
        if phase == "warm-up":
            total += max(t.warmup_steps - self.in_phase, 1) * self._horizon_of("warm-up", 0)
            phase, advances = ("growth" if t.growth_steps else "final"), 0
        if phase == "growth" and advances < t.growth_steps:
            total += _growth_work(t.warmup_horizon, self.n, t.growth_steps, self.seq_len)[advances]
        final_left = t.final_steps - (self.in_phase if self.phase == "final" else 0)
        return total + max(final_left, 0) * self._horizon_of("final", 0)

    def _lr(self, horizon: int) -> float:
        t = self.t
        if self.phase == "warm-up":
            if self.in_phase >= t.warmup_steps:
                return self.floor
            return self.floor + (t.lr - self.floor) * 0.5 * (1.0 + math.cos(math.pi * self.in_phase / t.warmup_steps))
        if self.phase == "growth":
            return self._after_warmup(horizon)
        end = self._after_warmup(self.n)
        return end * 0.5 * (1.0 + math.cos(math.pi * self.in_phase / t.final_steps))

    def _after_warmup(self, horizon: int) -> float:
        """The floor, scaled down as the horizon outgrows the warm-up's: a parameter change moves the
        phase at sample t by about t times as much, so a longer horizon needs smaller steps."""
        ratio = self.t.warmup_horizon / max(horizon, self.t.warmup_horizon)
        return self.floor * ratio ** self.t.growth_lr_power

    def next(self) -> tuple[str, int, float] | None:
        if self.phase == "done":
            return None
        h = self._horizon()
        return self.phase, h, self._lr(h)

    # ------------------------------------------------------------------ feedback
    def _worst(self) -> float:
        return float(self.ema.max()) if self.ema is not None else math.inf

    def update(self, per_freq_loss) -> None:
        """Record the losses of the step just taken and move the plan on."""
        t = self.t
        loss = np.asarray(per_freq_loss, dtype=np.float64)
        self.work += self._horizon()  # the step just taken
        self.ema = loss if self.ema is None else t.loss_ema * self.ema + (1 - t.loss_ema) * loss
        self.step += 1
        self.in_phase += 1
        if self.phase == "warm-up":
            extra = self.in_phase - t.warmup_steps
            if extra >= 0 and (t.warmup_gate == 0 or self._worst() < t.warmup_gate or extra >= t.warmup_extra):
                if 0 < t.restart_gate <= self._worst() and self.restarts < t.max_restarts:
                    self.restarts += 1  # an oscillator that did not start in the warm-up rarely starts later
                    self.restart_pending = True
                    self.ema = None
                    self._enter("warm-up")
                else:
                    self._enter("growth" if t.growth_steps else "final")
        elif self.phase == "growth":
            cap = math.ceil(t.growth_max_factor * t.growth_steps)
            forced = cap - self.in_phase < t.growth_steps - self.advances  # keep within the cap
            if t.growth_gate == 0 or self._worst() < t.growth_gate or forced:
                self.advances += 1
            if self.advances >= t.growth_steps:
                self._enter("final")
        elif self.phase == "final" and self.in_phase >= t.final_steps:
            self.phase = "done"

    def _enter(self, phase: str) -> None:
        self.phase, self.in_phase = phase, 0
        if phase == "final" and self.t.final_steps == 0:
            self.phase = "done"

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        """Every attribute except the config (whatever attributes the plan grows), weights-only loadable."""
        return {k: resume.to_plain(v) for k, v in vars(self).items() if not dataclasses.is_dataclass(v)}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; the attributes must be exactly those this version keeps (a state saved
        before ``work`` was counted restarts the count from its step)."""
        if "work" not in state and set(state) | {"work"} == set(self.state_dict()):
            state = {**state, "work": 0}
        if set(state) != set(self.state_dict()):
            raise ValueError(f"curriculum state has attributes {sorted(state)}, "
                             f"expected {sorted(self.state_dict())}")
        for k, v in state.items():
            setattr(self, k, resume.from_plain(v))


def _fit(h: int, seq_len: int) -> int:
    return max(seq_len, h // seq_len * seq_len)  # windows must tile the horizon


def _growth_horizon(h0: int, n: int, steps: int, seq_len: int, advances: int) -> int:
    """The horizon after ``advances`` of ``steps`` geometric advances from ``h0`` to ``n``."""
    return _fit(int(round(h0 * (n / h0) ** ((advances + 1) / steps))), seq_len)


@functools.lru_cache(maxsize=8)
def _growth_work(h0: int, n: int, steps: int, seq_len: int) -> tuple[int, ...]:
    """Entry a: the sum of the growth horizons from advance a on (what the growth still takes)."""
    horizons = [_growth_horizon(h0, n, steps, seq_len, a) for a in range(steps)]
    return tuple(int(v) for v in np.cumsum(horizons[::-1])[::-1])


def schedule(cfg: RunConfig, losses=None) -> list[tuple[str, int, float]]:
    """The whole plan for a constant loss sequence (``losses``: per-frequency loss fed after every step;
    default 0, i.e. every gate open)."""
    cur = Curriculum(cfg)
    k = len(cfg.signal.frequencies)
    plan = []
    while (item := cur.next()) is not None:
        plan.append(item)
        cur.update(np.zeros(k) if losses is None else losses)
    return plan


def focus_loss(per_freq: torch.Tensor, focus: float) -> torch.Tensor:
    """Mean of the per-frequency losses weighted by (loss / mean loss) ** focus (weights not differentiated).

    focus = 0 is the plain mean. focus > 0 gives a lagging frequency a larger share of the update, so one
    oscillator that has not started yet is not drowned out by three that already fit.
    """
    if focus == 0:
        return per_freq.mean()
    w = (per_freq.detach() / per_freq.detach().mean().clamp_min(1e-12)) ** focus
    return (w * per_freq).mean()
