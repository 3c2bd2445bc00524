"""Progress in work: the curriculum's planned samples, and one bar whose total is the work planned."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from freqextract.config import load
from freqextract.training import progress
from freqextract.training.candidates import train_best_of
from freqextract.training.curriculum import Curriculum, schedule


@pytest.mark.parametrize(("name", "overrides"), [
    ("quick", []), ("spec", []), ("offsets", []), ("quick", ["model.seq_len=10"]),
    ("quick", ["train.warmup_steps=0"]), ("quick", ["train.growth_steps=0", "train.final_steps=0"]),
])
def test_remaining_work_is_what_the_schedule_plans(name, overrides):
    cfg = load(name, overrides)
    planned = sum(h for _, h, _ in schedule(cfg))
    cur = Curriculum(cfg)
    assert cur.work == 0 and cur.remaining_work() == planned
    while cur.next() is not None:
        cur.update(np.zeros(len(cfg.signal.frequencies)))
        assert cur.work + cur.remaining_work() == planned  # every gate open: the plan holds
    assert cur.work == planned and cur.remaining_work() == 0


def test_a_gate_that_holds_the_plan_back_makes_it_grow():
    cfg = load("quick", ["train.warmup_gate=0.005", "train.warmup_extra=20", "train.restart_gate=0"])
    planned = Curriculum(cfg).remaining_work()
    cur = Curriculum(cfg)
    totals = []
    while cur.next() is not None:
        cur.update(np.ones(4))  # the loss never falls: the warm-up runs its 20 extra steps
        totals.append(cur.work + cur.remaining_work())
    assert totals[0] == planned and totals[-1] == cur.work == planned + 20 * cfg.train.warmup_horizon


class Recorder:
    """Stands in for tqdm: keeps the totals it was given and the work it was told."""

    made: list[Recorder] = []

    def __init__(self, total, initial=0, **kwargs):
        self.total, self.n, self.first_total, self.closed = total, initial, total, False
        Recorder.made.append(self)

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text, refresh=True):
        self.postfix = text

    def close(self):
        self.closed = True


def test_the_bar_total_equals_the_work_planned_for_every_candidate(monkeypatch):
    monkeypatch.setattr(progress, "tqdm", Recorder)
    Recorder.made.clear()
    cfg = load("quick", ["train.candidates=2", "train.workers=1", "train.warmup_steps=10", "train.growth_steps=5",
                         "train.final_steps=2"])
    one = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, candidates=1))
    planned = progress.planned_work(one)
    assert planned == 4 * sum(h for _, h, _ in schedule(one))  # 4 streams: one per frequency
    train_best_of(cfg, progress=True)
    (bar,) = Recorder.made
    assert bar.first_total == 2 * planned  # the two candidates' plans, at the first step
    assert bar.total == bar.n == 2 * planned and bar.closed  # quick's gates are open: the plan held
    assert bar.postfix.startswith("loss seed 0 ") and ", seed 1 " in bar.postfix  # each candidate's own loss


def test_the_polish_is_planned_work_and_the_bar_ends_on_the_plan(monkeypatch):
    monkeypatch.setattr(progress, "tqdm", Recorder)
    Recorder.made.clear()
    cfg = load("quick", ["train.warmup_steps=10", "train.growth_steps=5", "train.final_steps=2",
                         "train.polish_iters=4", "train.polish_realisations=2"])
    curriculum = 4 * sum(h for _, h, _ in schedule(cfg))
    assert progress.polish_work(cfg) == 5 * 8 * cfg.signal.n_samples  # 5 evaluations of 2 x 4 streams
    assert progress.planned_work(cfg) == curriculum + progress.polish_work(cfg)
    train_best_of(cfg, progress=True)
    (bar,) = Recorder.made
    assert bar.first_total == bar.total == bar.n == progress.planned_work(cfg) and bar.closed


def test_plan_and_length_in_words():
    learned, planted = load("quick"), load("spec-planted")
    assert progress.plan_text(learned) == f"up to {learned.train.max_steps} steps, horizon 100 -> 1000 samples"
    assert progress.plan_text(planted) == "no Adam step, up to 40 L-BFGS iterations at 10000 samples"
    whole = load("mix-polish")  # no warm-up and no growth: every step at the whole length
    assert progress.plan_text(whole) == "up to 1200 steps at 10000 samples"
    both = load("quick", ["train.polish_iters=3"])
    assert progress.plan_text(both).endswith(", then up to 3 L-BFGS iterations at 1000 samples")
    assert progress.steps_text(50, learned) == "50 steps" and progress.steps_text(1, learned) == "1 step"
    assert progress.steps_text(1, planted) == "the polish only"
    assert progress.steps_text(51, both) == "50 steps and the polish"
