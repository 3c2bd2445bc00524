"""The state API and the equivalences the trainer relies on: stepped == fused, carried == one call."""

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.models.lstm import SequenceLSTM, StatefulLSTM, detach_state
from freqextract.training.loop import fused_window, literal_window, train_sequence


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return StatefulLSTM(hidden_size=12, **kw).double()


def _x(B=3, T=40, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, 5, generator=g, dtype=torch.float64)


def test_init_state_follows_parameters_dtype_and_shape():
    m = _model(num_layers=2)
    h, c = m.init_state(7)
    assert h.shape == c.shape == (2, 7, 12)
    assert h.dtype == torch.float64 and not h.any() and not c.any()
    assert h.data_ptr() != c.data_ptr()


def test_forward_without_state_is_the_reset_state():
    m, x = _model(), _x()
    y0, s0 = m(x)
    y1, s1 = m(x, m.init_state(x.shape[0]))
    assert torch.equal(y0, y1) and all(torch.equal(a, b) for a, b in zip(s0, s1, strict=True))


def test_stepped_equals_fused_outputs_and_gradients():
    x, target = _x(), torch.sin(torch.linspace(0, 6, 40, dtype=torch.float64)).expand(3, 40)
    grads, losses = [], []
    for fn in (fused_window, literal_window):
        m = _model()
        err, state = fn(m, x, target, None)
        err.mean().backward()
        losses.append(err.detach())
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
        grads[-1]["_h"] = state[0].detach()
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-12, atol=1e-12)
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-10, atol=1e-12)


def test_state_carried_across_calls_equals_one_call():
    m, x = _model(), _x(T=60)
    y_full, s_full = m(x)
    state, ys = None, []
    for chunk in torch.split(x, [1, 7, 20, 32], dim=1):
        y, state = m(chunk, state)
        ys.append(y)
    torch.testing.assert_close(torch.cat(ys, 1), y_full, rtol=0, atol=1e-12)
    torch.testing.assert_close(state[1], s_full[1], rtol=0, atol=1e-12)


def test_resetting_between_samples_changes_the_outputs():
    """The state matters: a model reset at every sample cannot produce what the carried model does."""
    m, x = _model(), _x(T=50)
    carried, _ = m(x)
    reset = torch.stack([m.step(x[:, n])[0] for n in range(x.shape[1])], dim=1)
    assert torch.allclose(carried[:, 0], reset[:, 0])  # the first sample starts from the reset either way
    assert (carried[:, 5:] - reset[:, 5:]).abs().max() > 1e-3


def test_constant_input_still_evolves_the_output():
    """With S = 0 and a fixed selector the only thing that changes is the state: a clock is possible."""
    m = _model(forget_bias=5.0)
    x = torch.zeros(1, 30, 5, dtype=torch.float64)
    x[..., 1] = 1.0
    y, _ = m(x)
    assert y.std() > 1e-4


def test_detach_state_keeps_values_and_cuts_graph():
    m, x = _model(), _x()
    _, state = m(x)
    d = detach_state(state)
    assert all(not t.requires_grad for t in d)
    assert all(torch.equal(a, b) for a, b in zip(d, state, strict=True))
    assert detach_state(None) is None


@pytest.mark.parametrize("init", ["forget-bias", "chrono", "default"])
def test_gate_bias_inits(init):
    m = _model(init=init, forget_bias=4.0, chrono_tmax=500.0)
    H = 12
    b = (m.lstm.bias_ih_l0 + m.lstm.bias_hh_l0).detach()
    if init == "forget-bias":
        assert torch.allclose(b[H:2 * H], torch.full((H,), 4.0, dtype=b.dtype))
        assert not b[:H].any() and not b[2 * H:].any()
    elif init == "chrono":
        assert (b[H:2 * H] >= 0).all() and (b[H:2 * H] <= np.log(499) + 1e-9).all()
        torch.testing.assert_close(b[:H], -b[H:2 * H])
    else:
        assert b.abs().max() <= 1 / np.sqrt(H) * 2 + 1e-9


def test_train_sequence_fused_and_literal_take_identical_steps():
    """Two optimiser steps (window 20 of 40 samples) with each loop give the same weights."""
    x, target = _x(T=40), torch.sin(torch.linspace(0, 6, 40, dtype=torch.float64)).expand(3, 40)
    weights = []
    for fn in (fused_window, literal_window):
        m = _model()
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        err = train_sequence(m, opt, x, target, window=20, clip=1.0, window_fn=fn)
        weights.append((err, [p.detach().clone() for p in m.parameters()]))
    torch.testing.assert_close(weights[0][0], weights[1][0], rtol=1e-10, atol=1e-12)
    for a, b in zip(weights[0][1], weights[1][1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_sequence_lstm_carry_equals_stateful_and_reset_sees_only_its_window():
    torch.manual_seed(0)
    base = StatefulLSTM(hidden_size=8).double()
    carry = SequenceLSTM(hidden_size=8, seq_len=10, window_state="carry").double()
    reset = SequenceLSTM(hidden_size=8, seq_len=10, window_state="reset").double()
    carry.load_state_dict(base.state_dict())
    reset.load_state_dict(base.state_dict())
    x = _x(B=2, T=50)
    torch.testing.assert_close(carry(x)[0], base(x)[0], rtol=0, atol=1e-12)
    y_reset = reset(x)[0]
    # output at t uses samples t-9..t only: changing sample 0 leaves outputs from t = 10 on unchanged
    x2 = x.clone()
    x2[:, 0, 0] += 5.0
    y2 = reset(x2)[0]
    assert torch.equal(y_reset[:, 10:], y2[:, 10:]) and not torch.equal(y_reset[:, :10], y2[:, :10])
    # and it equals running the window from the zero state
    torch.testing.assert_close(y_reset[:, 25], base(x[:, 16:26])[0][:, -1], rtol=0, atol=1e-12)


def test_config_builds_the_right_model_kind():
    from freqextract.models.checkpoint import build_model

    assert type(build_model(load(None))) is StatefulLSTM
    m = build_model(load(None, ["model.seq_len=10", 'model.window_state="reset"']))
    assert isinstance(m, SequenceLSTM) and m.seq_len == 10 and m.window_state == "reset"
