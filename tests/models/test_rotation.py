"""The rotation init plants a clock per selector: exact in the small-signal limit, bent by tanh when large."""

import numpy as np
import pytest
import torch

from freqextract.config import RunConfig, from_dict, to_dict
from freqextract.errors import UserError
from freqextract.models.checkpoint import build_model
from freqextract.models.lstm import StatefulLSTM
from freqextract.models.rotation import _angle_per_sample, _orbit, calibrate, plant_rotations
from freqextract.signals.data import to_streams
from freqextract.signals.scenarios import generate


def _cfg(**model):
    d = to_dict(RunConfig())
    d["model"].update({"init": "rotation", **model})
    return from_dict(d)


def _per_selector_mse(model, cfg, seed=2, zero_s=False):
    x, y = to_streams(generate(cfg.signal, seed))  # (K, T, 5), (K, T)
    x = torch.tensor(x, dtype=next(model.parameters()).dtype)
    if zero_s:
        x[..., 0] = 0.0
    with torch.no_grad():
        out, _ = model(x)
    return ((out - torch.tensor(y)) ** 2).mean(1).numpy()


@pytest.mark.parametrize("amp, worst", [(0.1, 5e-5), (0.2, 5e-4)])
def test_the_planted_model_is_already_the_spec_clock(amp, worst):
    cfg = _cfg(rotation_amplitude=amp)
    torch.manual_seed(0)
    mse = _per_selector_mse(build_model(cfg), cfg)
    assert mse.max() < worst, mse


def test_the_planted_model_reads_no_s_depends_on_no_seed_and_leaves_the_other_units_silent():
    cfg = _cfg(rotation_amplitude=0.2)
    torch.manual_seed(0)
    a = build_model(cfg)
    torch.manual_seed(1)
    b = build_model(cfg)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    x, _ = to_streams(generate(cfg.signal, 3))
    x = torch.tensor(x)
    x0 = x.clone()
    x0[..., 0] = 0.0
    with torch.no_grad():
        (ya, (h, c)), y0 = a(x), a(x0)[0]
    assert torch.equal(ya, y0)
    assert not h[..., 12:].any() and not c[..., 12:].any()  # 3 units per selector, the rest stay 0


@pytest.mark.parametrize("hz", [1.0, 7.0])
@pytest.mark.parametrize("amp", [0.1, 0.2])
def test_the_calibration_puts_the_cycle_on_its_frequency_and_radius(hz, amp):
    theta = 2 * np.pi * hz / 1000.0
    alpha, beta = calibrate(theta, amp)
    orbit = _orbit(alpha, beta, amp, int(5 * 1000 / hz))
    assert abs(_angle_per_sample(orbit) / theta - 1) < 50e-6
    radius = np.hypot(orbit[:, 0], orbit[:, 1])
    assert np.abs(radius / amp - 1).max() < 0.02


def test_the_cycle_is_stable_a_pushed_state_returns_to_its_circle():
    cfg = _cfg(rotation_amplitude=0.2)
    torch.manual_seed(0)
    model = build_model(cfg).double()
    x = torch.tensor(to_streams(generate(cfg.signal, 2))[0]).double()[3:4]  # 7 Hz stream (1, T, 5)
    with torch.no_grad():
        y0, (h, c) = model(x[:, :2036])
        y1, _ = model(x[:, 2036:], (h, c))
        y2, _ = model(x[:, 2036:], (h * 1.3, c * 1.3))  # at a crest, every cell pushed 30 % off
    tail = slice(-1000, None)
    assert (y2[:, :100] - y1[:, :100]).abs().max() > 0.05  # the push is visible
    assert y2[:, :100].abs().max() > 1.1  # and first lifts the amplitude
    # back on its circle: the same amplitude (a push may leave a phase shift: a limit cycle's phase is neutral)
    assert abs(float(y2[:, tail].abs().max() / y1[:, tail].abs().max()) - 1) < 0.01


def test_the_clock_starts_at_the_reset_with_the_targets_phase():
    cfg = _cfg(rotation_amplitude=0.2)
    torch.manual_seed(0)
    model = build_model(cfg).double()
    x, y = to_streams(generate(cfg.signal, 2))
    with torch.no_grad():
        out = model(torch.tensor(x[:, :50]).double())[0].numpy()
    np.testing.assert_allclose(out, y[:, :50], atol=0.015)  # 7 Hz passes its crest in these samples


def test_the_init_refuses_models_it_cannot_plant():
    with pytest.raises(ValueError, match="one-layer selector"):
        plant_rotations(StatefulLSTM(hidden_size=8), [0.001] * 4, 0.1)
    with pytest.raises(UserError, match="model.hidden_size"):
        _cfg(hidden_size=8)
    for bad in (0.0, 0.45):
        with pytest.raises(UserError, match="model.rotation_amplitude"):
            _cfg(rotation_amplitude=bad)
    d = to_dict(RunConfig())
    d["model"]["init"] = "rotation"
    d["model"]["outputs"] = "all"
    with pytest.raises(UserError, match="model.init"):
        from_dict(d)
    d = to_dict(RunConfig())
    d["model"]["init"] = "rotation"
    d["signal"]["scenario"] = "offsets"
    with pytest.raises(UserError, match="offsets scenario draws each sequence's phases.*--config spec"):
        from_dict(d)
