"""The polish: L-BFGS on a fixed whole-length batch, kept only when the validation MSE falls."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.training.batches import validation_batch
from freqextract.training.loop import train
from freqextract.training.polish import polish


@pytest.fixture(scope="module")
def trained():
    cfg = load("quick", ["train.warmup_steps=40", "train.growth_steps=10", "train.final_steps=5"])
    return cfg, train(cfg, progress=False).model


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _val(model, val):
    with torch.no_grad():
        y, _ = model(val.x)
    return float(val.group_means((y - val.y).pow(2).mean(dim=1)).mean())


@pytest.mark.parametrize("iters", [4, 15])
def test_the_polished_weights_are_kept_only_when_validation_falls(trained, iters):
    cfg, model = trained
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, polish_iters=iters))
    m = copy.deepcopy(model)
    val = validation_batch(cfg, "cpu")
    before = _state(m)
    info = polish(m, cfg, np.random.default_rng(3), "cpu", val)
    assert info["evaluations"] <= iters * 5 // 4 + 25 and info["val_before"] == pytest.approx(_val(model, val))
    if info["kept"]:
        assert info["val_after"] < info["val_before"] and _val(m, val) == pytest.approx(info["val_after"])
    else:
        assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())  # handed back unchanged


def test_same_seed_same_polish(trained):
    cfg, model = trained
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, polish_iters=10))
    val = validation_batch(cfg, "cpu")
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    ia = polish(a, cfg, np.random.default_rng(7), "cpu", val)
    ib = polish(b, cfg, np.random.default_rng(7), "cpu", val)
    assert ia["loss_after"] == ib["loss_after"] and ia["kept"] == ib["kept"]
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_a_training_with_a_polish_records_it_as_its_last_step():
    cfg = load("quick", ["train.warmup_steps=20", "train.growth_steps=5", "train.final_steps=2",
                         "train.polish_iters=5"])
    res = train(cfg, progress=False)
    last = res.history[-1]
    assert last["phase"] == "polish" and last["step"] == res.steps == 28
    assert set(last["polish"]) >= {"evaluations", "val_before", "val_after", "kept"}
    assert last["val_mse"] == pytest.approx(min(last["polish"]["val_before"], last["polish"]["val_after"]), rel=1e-6)


def test_a_polish_alone_trains_a_planted_clock_and_its_bar_counts_only_the_polish():
    from freqextract.training.progress import planned_work, polish_work

    cfg = load("spec-planted", ["signal.duration=2.0", "train.polish_iters=4", "train.polish_realisations=1"])
    assert planned_work(cfg) == polish_work(cfg) > 0  # no Adam step is planned
    res = train(cfg, progress=False)
    assert res.steps == 1 and [r["phase"] for r in res.history] == ["polish"]
    assert res.history[-1]["val_mse"] < 1e-3  # the planted clock, polished or handed back as it was


def test_no_optimiser_step_and_no_polish_is_refused():
    from freqextract.errors import UserError

    with pytest.raises(UserError, match="train.warmup_steps: .*train.polish_iters"):
        load("spec-planted", ["train.polish_iters=0"])
