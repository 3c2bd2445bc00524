"""The frequency-conditioned LSTM: every conditioning steps like it runs fused, and reads its request."""

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.models.checkpoint import build_model, load_model, save
from freqextract.signals.data import request_streams


def _model_and_requests(conditioning: str, seed: int, n: int, nu: list[float]):
    """A small float64 model of ``conditioning`` and request streams (2, n, inputs) of random S."""
    cfg = load("mix", [f'model.conditioning="{conditioning}"', "model.hidden_size=8"])
    torch.manual_seed(seed)
    model = build_model(cfg).double().eval()
    S = np.random.default_rng(seed).normal(size=(1, n))
    return model, torch.as_tensor(request_streams(S, np.array([nu]), conditioning, 0.02, dtype=np.float64))


@pytest.mark.parametrize("conditioning", ["concat", "film", "demod"])
def test_stepped_equals_fused(conditioning):
    model, x = _model_and_requests(conditioning, 0, 40, [0.002, 0.013])
    with torch.no_grad():
        fused, _ = model(x)
        state, steps = None, []
        for n in range(x.shape[1]):
            y, state = model.step(x[:, n], state)
            steps.append(y)
    assert torch.allclose(torch.stack(steps, 1), fused, atol=1e-12)


@pytest.mark.parametrize("conditioning", ["concat", "film", "demod"])
def test_the_requested_frequency_changes_the_output(conditioning):
    model, x = _model_and_requests(conditioning, 1, 50, [0.002, 0.015])
    with torch.no_grad():
        y, _ = model(x)
    assert not torch.allclose(y[0], y[1])


def test_checkpoint_round_trip(tmp_path):
    cfg = load("mix", ['model.conditioning="film"', "model.hidden_size=8"])
    model = build_model(cfg)
    save(tmp_path / "m.pt", model, cfg, step=3)
    back, cfg2, ckpt = load_model(tmp_path / "m.pt")
    assert ckpt["kind"] == "freqextract.ConditionedLSTM" and cfg2 == cfg
    for a, b in zip(model.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)
