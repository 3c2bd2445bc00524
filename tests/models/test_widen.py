"""Widening: a wider model started from a narrower checkpoint computes what the checkpoint does."""

import pytest
import torch

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.models.checkpoint import build_model, save
from freqextract.models.widen import hidden_size_of, widen
from freqextract.training.loop import fresh_init

TINY = ["signal.duration=0.5", "model.hidden_size=8", "train.warmup_horizon=100", "train.warmup_steps=3",
        "train.growth_steps=1", "train.final_steps=1", "train.candidates=1", "train.log_every=1"]


def test_widen_keeps_the_old_units_and_silences_the_new_ones_for_them():
    torch.manual_seed(1)
    narrow, wide = build_model(load("mix", TINY)), build_model(load("mix", [*TINY, "model.hidden_size=12"]))
    state = widen(narrow.state_dict(), wide)
    assert hidden_size_of(state) == 12
    hh = state["lstm.weight_hh_l0"].reshape(4, 12, 12)  # (gate, unit, unit read)
    assert torch.equal(hh[:, :8, :8], narrow.lstm.weight_hh_l0.reshape(4, 8, 8))
    assert torch.all(hh[:, :8, 8:] == 0) and torch.all(hh[:, 8:, :] != 0)
    assert torch.equal(state["lstm.bias_ih_l0"].reshape(4, 12)[:, :8], narrow.lstm.bias_ih_l0.reshape(4, 8))
    with pytest.raises(ValueError, match="narrower"):
        widen(wide.state_dict(), narrow)


@pytest.mark.parametrize("config, extra", [("mix", []), ("spec", []), ("spec", ["model.outputs=all"])])
def test_init_from_a_narrower_model_widens_it_and_computes_the_same(tmp_path, config, extra):
    narrow_cfg = load(config, [*TINY, *extra])
    torch.manual_seed(0)
    narrow = build_model(narrow_cfg)
    save(tmp_path / "narrow.pt", narrow, narrow_cfg, step=0)
    wide, _ = fresh_init(load(config, [*TINY, *extra, "model.hidden_size=20",
                                       f'train.init_from="{tmp_path / "narrow.pt"}"']), "cpu", 0)
    assert wide.hidden_size == 20
    x = torch.randn(3, 200, narrow.lstm.input_size)
    with torch.no_grad():
        assert torch.allclose(wide(x)[0], narrow(x)[0], atol=1e-6)  # the same outputs at the start
    assert wide.lstm.weight_hh_l0[:, 8:].abs().sum() > 0  # the new units read the old ones and each other
    assert wide.head.weight[:, 8:].abs().sum() == 0  # and are not read out yet


def test_init_from_refuses_to_narrow_or_widen_a_film_model(tmp_path):
    cfg = load("mix", TINY)
    save(tmp_path / "start.pt", build_model(cfg), cfg, step=0)
    with pytest.raises(UserError, match="train.init_from"):
        fresh_init(load("mix", [*TINY, "model.hidden_size=4", f'train.init_from="{tmp_path / "start.pt"}"']),
                   "cpu", 0)
    film = load("mix", [*TINY, "model.conditioning=film"])
    save(tmp_path / "film.pt", build_model(film), film, step=0)
    with pytest.raises(UserError, match="model.hidden_size: 16 units cannot start from .* one-layer model"):
        fresh_init(load("mix", [*TINY, "model.conditioning=film", "model.hidden_size=16",
                                f'train.init_from="{tmp_path / "film.pt"}"']), "cpu", 0)


