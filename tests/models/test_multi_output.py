"""The multi-output model: S in, all K components out, laid out as the selector model's streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqextract.cli import main
from freqextract.config import load
from freqextract.models import checkpoint
from freqextract.models.lstm import MultiOutputLSTM
from freqextract.signals.data import mixture_streams, streams_from

CFG = load("quick", ["model.outputs=all"])


def test_streams_are_in_the_selector_order():
    R, K, T = 3, 4, 5
    rng = np.random.default_rng(0)
    S, targets = rng.normal(size=(R, T)), rng.normal(size=(R, K, T))
    x, y = mixture_streams(S, targets)
    xs, ys = streams_from(S, targets)
    assert x.shape == (R, T, 1) and np.array_equal(x[..., 0], S.astype(np.float32))
    assert np.array_equal(y, ys)  # row r*K + k: component k of sequence r, both ways
    assert np.array_equal(y[1 * K + 2], targets[1, 2].astype(np.float32))


def test_stream_b_k_is_component_k_of_sequence_b():
    """A head set by hand: component k is (k + 1) times the first hidden unit, so stream b*K + k of
    sequence b must be (k + 1) h_0 of that sequence."""
    torch.manual_seed(0)
    model = MultiOutputLSTM(n_outputs=4, hidden_size=8)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.weight[:, 0] = torch.arange(1.0, 5.0)
    x = torch.randn(3, 6, 1)
    y, _ = model(x)
    h, _ = model.lstm(x)  # (B, T, H)
    assert y.shape == (12, 6)
    for b in range(3):
        for k in range(4):
            torch.testing.assert_close(y[b * 4 + k], (k + 1) * h[b, :, 0])


def test_gate_biases_and_state_api_match_the_selector_model():
    model = checkpoint.build_model(CFG)
    H = model.hidden_size
    assert isinstance(model, MultiOutputLSTM) and model.lstm.input_size == 1 and model.head.out_features == 4
    assert torch.all(model.lstm.bias_ih_l0[H:2 * H] == CFG.model.forget_bias)
    h, c = model.init_state(2)
    assert h.shape == c.shape == (1, 2, H)


def test_stepped_equals_fused():
    torch.manual_seed(1)
    model = MultiOutputLSTM(n_outputs=4, hidden_size=16, init="default").eval()
    x = torch.randn(2, 50, 1)
    with torch.no_grad():
        fused, (hf, cf) = model(x)
        state, ys = None, []
        for n in range(x.shape[1]):
            y_n, state = model.step(x[:, n], state)  # (B*K,)
            ys.append(y_n)
    torch.testing.assert_close(torch.stack(ys, dim=1), fused, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(state[0], hf)
    torch.testing.assert_close(state[1], cf)


def test_checkpoint_round_trip_weights_only(tmp_path):
    model = checkpoint.build_model(CFG)
    checkpoint.save(tmp_path / "m.pt", model, CFG, step=3)
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    assert raw["kind"] == "freqextract.MultiOutputLSTM"
    loaded, cfg, _ = checkpoint.load_model(tmp_path / "m.pt")
    assert isinstance(loaded, MultiOutputLSTM) and cfg.model.outputs == "all"
    x = torch.randn(1, 20, 1)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], model.eval()(x)[0])


@pytest.mark.parametrize("overrides, says", [
    (["model.outputs=both"], "model.outputs"),
    (["model.outputs=all", "signal.scenario=mix"], "model.outputs"),
    (["model.outputs=all", "model.seq_len=10"], "model.outputs"),
])
def test_bad_outputs_are_one_line_errors(tmp_path, capsys, overrides, says):
    argv = ["train", "--out", str(tmp_path / "run"), "--quiet"]
    for o in overrides:
        argv += ["--set", o]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err
    assert not (tmp_path / "run").exists()
