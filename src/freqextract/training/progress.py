"""The training progress bar: work done against work planned, over all candidates of a run.

Steps are a poor measure of progress: a step on the whole 10 s signal costs ten times one on the first
second, and the plan's step count is only an upper bound (the gates may end a phase early or hold it). The
bar counts samples instead, one per stream per sample of the step's horizon:

    work of a step   = streams (train.realisations x K) x horizon
    planned work     = the sum over the steps the curriculum plans when every gate opens on time
                       (curriculum.schedule), plus the polish's most evaluations (train.polish_iters) x
                       its streams x the whole length, summed over the candidates

A candidate whose gates hold its plan back, or that restarts from a fresh init, reports its larger plan
and the total grows; the time a step takes is close to proportional to its work, so the rate, and the
time left, hold from the first minute. The bar stays on screen when training ends, with every
candidate's latest loss beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tqdm.auto import tqdm

from .. import fmt
from ..config import CONDITIONED, RunConfig
from .curriculum import Curriculum


def streams(cfg: RunConfig) -> int:
    """Streams of one optimiser step: one per noise realisation and frequency (mix: per mixture and
    request)."""
    if cfg.signal.scenario in CONDITIONED:
        return cfg.train.realisations * cfg.train.requests
    return cfg.train.realisations * len(cfg.signal.frequencies)


def polish_evals(cfg: RunConfig) -> int:
    """The evaluations the polish plans: torch's L-BFGS stops after 5/4 per iteration (or after the line
    search under way then: at most 25 more)."""
    return cfg.train.polish_iters * 5 // 4


def polish_cfg(cfg: RunConfig) -> RunConfig:
    """The config whose training batch is the polish's: ``train.polish_realisations`` sequences."""
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, realisations=cfg.train.polish_realisations))


def polish_work(cfg: RunConfig) -> int:
    """Samples over all streams the polish plans (every evaluation: one pass over the whole length)."""
    return polish_evals(cfg) * streams(polish_cfg(cfg)) * cfg.signal.n_samples


def planned_work(cfg: RunConfig) -> int:
    """Samples one candidate plans (the curriculum with every gate opening on time, then the polish), over
    all its streams."""
    return streams(cfg) * Curriculum(cfg).remaining_work() + polish_work(cfg)


def plan_text(cfg: RunConfig) -> str:
    """What a training will do, in words: its Adam steps and horizons, then the polish."""
    t, n = cfg.train, cfg.signal.n_samples
    parts = []
    if t.max_steps and (t.warmup_steps or t.growth_steps) and t.warmup_horizon < n:
        parts.append(f"up to {t.max_steps} steps, horizon {t.warmup_horizon} -> {n} samples")
    elif t.max_steps:
        parts.append(f"up to {t.max_steps} steps at {n} samples")
    if t.polish_iters:
        parts.append(f"{'then ' if parts else 'no Adam step, '}up to {t.polish_iters} L-BFGS iterations "
                     f"at {n} samples")
    return ", ".join(parts)


def steps_text(steps: int, cfg: RunConfig) -> str:
    """:func:`freqextract.fmt.length` of a training under ``cfg`` (the polish counts as one step:
    training.loop)."""
    return fmt.length(steps, cfg.train.polish_iters > 0)


class WorkBar:
    """One bar over the candidates' work; ``report(i, done, remaining, loss)`` as candidate i goes on."""

    def __init__(self, planned: Sequence[int], labels: Sequence[str], progress: bool | None,
                 desc: str = "train"):
        self.done = [0] * len(planned)
        self.plans = [int(p) for p in planned]
        self.labels = list(labels)
        self.losses: list[float | None] = [None] * len(planned)
        self.desc, self.progress = desc, progress
        self.bar = None  # drawn at the first report: its clock starts with the work, not with the workers

    @property
    def total(self) -> int:
        """The work planned, in samples: what is done plus what the candidates still plan."""
        return sum(self.plans)

    @property
    def n(self) -> int:
        """The work done, in samples."""
        return sum(self.done)

    def report(self, i: int, done: int, remaining: int, loss: float | None = None) -> None:
        """Candidate ``i`` has done ``done`` samples and plans ``remaining`` more; its latest loss."""
        self.done[i], self.plans[i] = int(done), int(done) + int(remaining)
        if self.bar is None:
            self.bar = tqdm(total=self.total, initial=self.n, desc=self.desc, unit="sample", unit_scale=True,
                            smoothing=0, leave=True,
                            disable=(not self.progress) if self.progress is not None else None)
        if loss is not None:
            self.losses[i] = float(loss)
        if self.bar.total != self.total:
            self.bar.total = self.total
        self.bar.update(self.n - self.bar.n)
        shown = [f"{lab} {v:.4f}" for lab, v in zip(self.labels, self.losses, strict=True) if v is not None]
        if shown:
            self.bar.set_postfix_str("loss " + ", ".join(shown), refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
