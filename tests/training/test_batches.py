"""What a step trains on: the mix batch's weights make the weighted MSE the NMSE; init_from transfers."""

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.models.checkpoint import build_model, save
from freqextract.training.batches import mix_batch, training_batch, validation_batch, weigh_groups
from freqextract.training.loop import fresh_init, train

TINY = ["signal.duration=0.5", "model.hidden_size=8", "train.warmup_horizon=100", "train.warmup_steps=3",
        "train.growth_steps=1", "train.final_steps=1", "train.candidates=1", "train.log_every=1"]


def test_mix_batch_weights_give_nmse_and_absent_power():
    cfg = load("mix", TINY)
    b = mix_batch(cfg, np.random.default_rng(0), 6, 500, "cpu")
    assert b.x.shape == (24, 500, 6) and b.n_groups == 2
    zero = b.group_means(((torch.zeros_like(b.y) - b.y) ** 2).mean(1))
    assert zero[0] == pytest.approx(1.0, abs=0.1)  # answering 0 to a present request: NMSE about 1
    assert zero[1] == 0.0  # and to an absent one: no power


def test_same_seed_same_batch_and_spec_batches_are_per_frequency():
    cfg = load("mix", TINY)
    a = training_batch(cfg, np.random.default_rng(5), 100, "cpu")
    b = training_batch(cfg, np.random.default_rng(5), 100, "cpu")
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    spec = training_batch(load("spec", TINY), np.random.default_rng(5), 100, "cpu")
    assert spec.n_groups == 4 and spec.group_means(torch.arange(4.0)).tolist() == [0, 1, 2, 3]


def test_mix_training_runs_and_records_present_and_absent():
    result = train(load("mix", TINY), progress=False)
    assert len(result.history[-1]["val_per_frequency_mse"]) == 2


def test_init_from_starts_from_the_weights(tmp_path):
    cfg = load("mix", TINY)
    model = build_model(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.01)
    save(tmp_path / "start.pt", model, cfg, step=0)
    started, _ = fresh_init(load("mix", [*TINY, f'train.init_from="{tmp_path / "start.pt"}"']), "cpu", 0)
    assert all(torch.all(p == 0.01) for p in started.parameters())
    with pytest.raises(UserError, match="train.init_from"):
        fresh_init(load("mix", [*TINY, 'train.init_from="nowhere.pt"']), "cpu", 0)
    with pytest.raises(UserError, match="ConditionedLSTM"):
        fresh_init(load("spec", [*TINY, f'train.init_from="{tmp_path / "start.pt"}"']), "cpu", 0)


def test_count_weighting_weighs_a_present_request_by_its_mixture_size():
    base = mix_batch(load("mix", TINY), np.random.default_rng(3), 8, 100, "cpu")
    counted = mix_batch(load("mix", [*TINY, "train.count_weighting=true"]), np.random.default_rng(3), 8, 100, "cpu")
    assert torch.equal(base.x, counted.x) and torch.equal(base.group, counted.group)  # the same draw
    ratio = (counted.weight / base.weight).reshape(8, -1)  # (mixtures, requests)
    present = (base.group == 0).reshape(8, -1)
    assert torch.all(ratio[~present] == 1.0)  # absent requests keep their weight
    # within a mixture every present request gets the same factor K / E[K], K in 1..6 and E[K] = 3.5
    for r in range(8):
        f = ratio[r][present[r]]
        if len(f):
            assert torch.allclose(f, f[0]) and round(float(f[0]) * 3.5, 4) in {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
    assert len({round(float(v), 4) for v in ratio[present]}) > 1  # mixtures of different sizes in the draw


def test_absent_weight_scales_the_absent_group_in_the_loss():
    means = torch.tensor([0.3, 0.5])
    assert torch.equal(weigh_groups(load("mix", TINY), means), means)
    assert weigh_groups(load("mix", [*TINY, "train.absent_weight=0.2"]), means).tolist() == pytest.approx([0.3, 0.1])
    with pytest.raises(UserError, match="train.absent_weight"):
        load("mix", [*TINY, "train.absent_weight=-1"])


def test_multi_output_batches_read_S_once_and_keep_the_selector_targets():
    sel, multi = load("spec", TINY), load("spec", [*TINY, "model.outputs=all"])
    a = training_batch(sel, np.random.default_rng(5), 100, "cpu")
    b = training_batch(multi, np.random.default_rng(5), 100, "cpu")
    R, K = sel.train.realisations, 4
    assert b.x.shape == (R, 100, 1) and a.x.shape == (R * K, 100, 5)
    assert torch.equal(b.x[:, :, 0], a.x[::K, :, 0])  # sequence r's S, read once
    assert torch.equal(b.y, a.y) and b.n_groups == K and b.group is None
    val = validation_batch(multi, "cpu")
    assert val.x.shape == (1, multi.signal.n_samples, 1) and val.y.shape == (K, multi.signal.n_samples)


def test_multi_output_training_records_the_per_frequency_loss():
    result = train(load("spec", [*TINY, "model.outputs=all"]), progress=False)
    assert len(result.history[-1]["val_per_frequency_mse"]) == 4
