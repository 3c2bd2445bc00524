"""evaluation.explain: the measurements on outputs of known frequency, the Jacobian against finite
differences, and the whole explanation of a trained quick model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.evaluation.explain import (
    cell_step,
    explain,
    explain_with_arrays,
    format_table,
    jacobians,
    measure,
    pca,
)
from freqextract.models import checkpoint
from freqextract.models.lstm import StatefulLSTM

FS = 1000.0
FREQS = [1.0, 3.0, 5.0, 7.0]
KEYS = ("free_running_hz", "ppm_error", "drift_rad_per_s", "amplitude", "amplitude_drift_per_s")


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * FS)) / FS


def test_a_sine_50_ppm_fast_measures_plus_50_ppm():
    t = _t(60)
    out = np.stack([np.sin(2 * np.pi * f * (1 + 50e-6) * t + 0.3) for f in FREQS])
    m = measure(out, FREQS, FS, start_s=1.0)
    for k, f in enumerate(FREQS):
        assert m["ppm_error"][k] == pytest.approx(50.0, abs=1.0)
        assert m["free_running_hz"][k] == pytest.approx(f * (1 + 50e-6), abs=f * 1e-6)
        assert m["drift_rad_per_s"][k] == pytest.approx(2 * np.pi * f * 50e-6, rel=0.02)
        assert m["amplitude"][k] == pytest.approx(1.0, abs=1e-3)


def test_a_phase_ramp_and_a_fading_amplitude_are_measured_with_their_signs():
    t = _t(20)
    drift = [-0.05, 0.02, 0.1, -0.3]  # rad/s
    amp = 0.8 - 0.01 * t  # fades 0.01 per second
    out = np.stack([amp * np.sin(2 * np.pi * f * t + d * t) for f, d in zip(FREQS, drift, strict=True)])
    m = measure(out, FREQS, FS)
    assert m["drift_rad_per_s"] == pytest.approx(drift, abs=1e-3)
    assert m["ppm_error"] == pytest.approx([d / (2 * np.pi * f) * 1e6 for f, d in zip(FREQS, drift, strict=True)],
                                           rel=0.01)
    assert m["amplitude_drift_per_s"] == pytest.approx([-0.01] * 4, abs=1e-3)
    assert m["amplitude"] == pytest.approx([float(amp.mean())] * 4, abs=0.01)


def test_the_trained_horizon_alone_sees_only_its_own_drift():
    """A clock exact for 10 s that then runs 100 ppm fast: 0 ppm over the first 10 s, more over 60."""
    t = _t(60)
    f = 3.0
    phase = 2 * np.pi * f * (t + 100e-6 * np.clip(t - 10, 0, None))
    out = np.sin(phase)[None]
    first = measure(out, [f], FS, start_s=1.0, end_s=10.0)
    whole = measure(out, [f], FS, start_s=1.0)
    assert abs(first["ppm_error"][0]) < 1.0
    assert whole["ppm_error"][0] > 50.0


def test_silence_has_no_phase():
    m = measure(np.zeros((2, 5000)), [1.0, 3.0], FS)
    assert m["ppm_error"] == [None, None] and m["drift_rad_per_s"] == [None, None]
    assert m["amplitude"] == pytest.approx([0.0, 0.0])


def test_pca_of_a_circle_in_a_plane_of_a_larger_space():
    t = _t(2)
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 2)))[0]  # (6, 2) orthonormal
    h = (np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1) @ basis.T)[None]  # (1, T, 6)
    proj, ratio = pca(h, skip=0)
    assert proj.shape == (1, len(t), 2)
    assert ratio[0, :2].sum() == pytest.approx(1.0, abs=1e-9)
    assert np.hypot(proj[0, :, 0], proj[0, :, 1]) == pytest.approx(np.ones(len(t)), abs=1e-6)  # a ring


@pytest.mark.parametrize("layers", [1, 2])
def test_the_cell_step_is_the_lstm_and_its_jacobian_matches_finite_differences(layers):
    torch.manual_seed(0)
    model = StatefulLSTM(n_inputs=3, hidden_size=4, num_layers=layers, init="default").double()
    step = cell_step(model)
    L, H = layers, 4
    z = torch.randn(2 * L * H, dtype=torch.float64) * 0.5
    x = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    h0, c0 = z[:L * H].reshape(L, 1, H), z[L * H:].reshape(L, 1, H)
    with torch.no_grad():
        _, (h1, c1) = model.lstm(x.reshape(1, 1, 3), (h0, c0))
    assert torch.allclose(step(z, x), torch.cat([h1.reshape(-1), c1.reshape(-1)]), atol=1e-12)

    J = jacobians(step, z[None], x)[0].detach().numpy()
    eps = 1e-6
    fd = np.stack([((step(z + eps * e, x) - step(z - eps * e, x)) / (2 * eps)).detach().numpy()
                   for e in torch.eye(2 * L * H, dtype=torch.float64)], axis=1)
    assert np.allclose(J, fd, atol=1e-8)


@pytest.fixture(scope="module")
def quick_model(quick_trained):
    model, cfg, _ = checkpoint.load_model(quick_trained / "checkpoints" / "final.pt")
    return model, cfg


def test_explain_a_trained_quick_model(quick_model):
    model, cfg = quick_model
    data, arrays = explain_with_arrays(model, cfg, seconds=3.0)
    K = len(cfg.signal.frequencies)
    assert data["frequencies"] == [float(f) for f in cfg.signal.frequencies]
    assert data["seconds"] == 3.0 and data["fs"] == cfg.signal.fs
    for part in (data, data["with_noise"], data["first_10s"]):
        for key in KEYS:
            assert len(part[key]) == K, key
            assert all(v is None or math.isfinite(v) for v in part[key]), key
        assert all(math.isfinite(v) for v in part["amplitude"])
    assert data["first_10s"]["seconds"] == cfg.signal.duration
    assert data["with_noise"]["seed"] == cfg.signal.test_seed
    lin = data["linearised"]
    for key in ("pair_hz", "pair_modulus", "floquet_moduli", "target_hz"):
        assert len(lin[key]) == K and np.all(np.isfinite(np.asarray(lin[key], dtype=float)))
    assert all(m == sorted(m, reverse=True) for m in lin["floquet_moduli"])
    assert np.asarray(data["pca"]["explained_variance_ratio"]).shape == (K, 3)
    assert arrays["pca"].shape[0] == K and arrays["pca"].shape[2] == 2 and len(arrays["time"]) == K
    assert len(format_table(data).splitlines()) == 2 + K


def test_a_conditioned_model_is_refused_in_one_line():
    cfg = load("mix")
    model = checkpoint.build_model(cfg)
    with pytest.raises(UserError, match="frequency-conditioned") as e:
        explain(model, cfg)
    assert "\n" not in str(e.value)
