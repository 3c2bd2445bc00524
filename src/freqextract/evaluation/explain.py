"""What a selector model does inside: free running, the hidden state's orbit, and its linearisation.

A selector model (scenarios spec, phase-scaled, offsets) reads x = [S, one-hot k] and carries (h, c) from
the reset. Under the spec it is a clock: it generates sin(2 pi f_k t) and ignores S. This module measures
that clock past the trained horizon:

    free running     outputs (K, N) from the reset for ``seconds``, with S = 0 and with the scenario's S
    measure          per selector, from one-period least-squares fits at the nominal frequency
                     (metrics.phase_track against sin(2 pi f t)): the phase drift (rad/s, the slope of the
                     unwrapped phase), the free-running frequency f + drift / 2 pi, its error in ppm, the
                     amplitude and its drift per second
    hidden orbit     h (K, T, H) over the trained horizon with S = 0; PCA per selector after the first
                     second: a ring in the first two components is a closed orbit, once per period
    linearisation    the Jacobian J (2LH x 2LH) of one step (h, c) -> (h', c') at x = [0, one-hot k], along
                     one period of the orbit (float64). (a) The eigenvalues of J averaged over the period:
                     the complex pair whose angle is nearest 2 pi f / fs, read as a frequency. A nonlinear
                     oscillator has no single eigen-frequency; this is an approximation. (b) The Floquet
                     multipliers: eigenvalues of the product of the Jacobians over round(fs / f) steps (the
                     monodromy matrix). A stable limit cycle has one multiplier near 1 (the phase direction:
                     a shift along the orbit neither grows nor dies) and the rest inside the unit circle
                     (amplitude perturbations die out). Where fs / f is not an integer the product spans the
                     nearest whole number of steps, so the multiplier near 1 is approximate.

:func:`explain` returns all of it as JSON-ready data; :func:`explain_with_arrays` also returns the arrays
its figures need (phase tracks, PCA projections).
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING

import numpy as np

from ..config import CONDITIONED
from ..errors import UserError
from ..signals.data import streams_from
from ..signals.scenarios import generate
from .metrics import phase_track

if TYPE_CHECKING:
    import torch

    from ..config import RunConfig

SETTLE_SECONDS = 1.0  # skipped after the reset before fitting drift and PCA (a tenth of shorter horizons)
CHUNK = 20_000  # samples per forward pass; the state is carried between chunks
JACOBIAN_ENTRIES = 4_000_000  # float64 entries of the Jacobians held at once (32 MB)


# ---------------------------------------------------------------------------------------------- checks
def unexplainable(model, cfg: RunConfig) -> str | None:
    """Why :func:`explain` cannot take ``model`` (one line), or None: it needs a selector model that
    carries its state from sample to sample."""
    from ..models.lstm import ConditionedLSTM, StatefulLSTM

    if cfg.signal.scenario in CONDITIONED or isinstance(model, ConditionedLSTM):
        return ("explain needs a selector model (scenario spec, phase-scaled or offsets); this one is "
                f"frequency-conditioned (scenario {cfg.signal.scenario}) and has no fixed oscillators to show")
    if getattr(model, "outputs", "selector") == "all":
        return ("explain reads one oscillator per selector stream; this multi-output model "
                "(model.outputs = 'all') runs one state for all its components")
    if not isinstance(model, StatefulLSTM) or getattr(model, "window_state", "carry") != "carry":
        return ("explain needs a model that carries its state from sample to sample; this one restarts "
                "every window (model.window_state = 'reset')")
    return None


def check_selector_model(model, cfg: RunConfig) -> None:
    """A one-line UserError where :func:`unexplainable` gives a reason."""
    why = unexplainable(model, cfg)
    if why:
        raise UserError(why)


# ---------------------------------------------------------------------------------------------- running
def run_streams(model: torch.nn.Module, x: np.ndarray, record_h: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Run streams x (B, N, 1+K) from the reset, in chunks with the state carried.

    Returns outputs (B, N) float64 and the top layer's h for the first ``record_h`` samples (B, record_h, H).
    """
    import torch

    w = model.head.weight
    state = model.init_state(x.shape[0])
    ys, hs, done = [], [], 0
    with torch.no_grad():
        for start in range(0, x.shape[1], CHUNK):
            xc = torch.as_tensor(x[:, start:start + CHUNK], dtype=w.dtype, device=w.device)
            h, state = model.lstm(xc, state)  # (B, T, H)
            ys.append(model.head(h).squeeze(-1).double().cpu().numpy())
            if done < record_h:
                take = min(record_h - done, h.shape[1])
                hs.append(h[:, :take].double().cpu().numpy())
                done += take
    H = model.hidden_size
    return np.concatenate(ys, axis=1), (np.concatenate(hs, axis=1) if hs else np.zeros((x.shape[0], 0, H)))


def selector_streams(S: np.ndarray, K: int) -> np.ndarray:
    """x (K, N, 1+K): the same S (N,) under each of the K selectors."""
    return streams_from(np.asarray(S)[None], np.zeros((1, K, len(S))))[0]


# ---------------------------------------------------------------------------------------------- measuring
def measure(outputs: np.ndarray, frequencies, fs: float, start_s: float = 0.0, end_s: float | None = None,
            track: dict | None = None) -> dict:
    """Phase drift, free-running frequency, ppm error and amplitude of outputs (K, N) per selector.

    One-period least-squares fits at each nominal frequency f (every 0.1 s) against sin(2 pi f t); over the
    windows centred in [start_s, end_s]: drift (rad/s) = slope of the unwrapped phase, free-running
    frequency f + drift / 2 pi, ppm = drift / (2 pi f) * 1e6, amplitude = mean fitted amplitude and its
    slope per second (over all windows in the span). ``track``: a :func:`phase_track` of the same outputs,
    when computed already. Lists of K values; the phase numbers are None where fewer than three windows
    oscillate (amplitude below a tenth).
    """
    o = np.asarray(outputs, dtype=np.float64)
    freqs = [float(f) for f in frequencies]
    if track is None:
        track = reference_track(o, freqs, fs)
    res = {k: [] for k in ("free_running_hz", "ppm_error", "drift_rad_per_s", "amplitude",
                           "amplitude_drift_per_s")}
    for k, f in enumerate(freqs):
        t, err, amp = track["time"][k], track["phase_error"][k], track["amplitude_ratio"][k]
        span = (t >= start_s) & (t <= (math.inf if end_s is None else end_s))
        res["amplitude"].append(float(np.mean(amp[span])) if span.any() else None)
        res["amplitude_drift_per_s"].append(float(np.polyfit(t[span], amp[span], 1)[0]) if span.sum() >= 3
                                            else None)
        ok = span & np.isfinite(err)
        drift = float(np.polyfit(t[ok], np.unwrap(err[ok]), 1)[0]) if ok.sum() >= 3 else None
        res["drift_rad_per_s"].append(drift)
        res["free_running_hz"].append(None if drift is None else f + drift / (2 * np.pi))
        res["ppm_error"].append(None if drift is None else drift / (2 * np.pi * f) * 1e6)
    return res


def reference_track(outputs: np.ndarray, frequencies, fs: float) -> dict:
    """:func:`metrics.phase_track` of outputs (K, N) against the unit sines sin(2 pi f_k t)."""
    N = np.asarray(outputs).shape[1]
    t = np.arange(N) / fs
    ref = np.stack([np.sin(2 * np.pi * float(f) * t) for f in frequencies])  # (K, N)
    return phase_track(outputs, ref, frequencies, fs)


def unwrapped_phase_error(track: dict) -> list[np.ndarray]:
    """The phase error of each selector's track unwrapped over its oscillating windows (NaN elsewhere)."""
    out = []
    for err in track["phase_error"]:
        u = np.full_like(err, np.nan)
        ok = np.isfinite(err)
        u[ok] = np.unwrap(err[ok])
        out.append(u)
    return out


# ---------------------------------------------------------------------------------------------- geometry
def pca(h: np.ndarray, skip: int = 0, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """PCA of hidden states h (K, T, H) per selector, after the first ``skip`` samples.

    Returns the projections on the first two components (K, T - skip, 2) and the explained variance ratio
    of the first ``n`` components (K, n).
    """
    proj, ratio = [], []
    for hk in h:
        z = hk[skip:] - hk[skip:].mean(axis=0)
        u, s, _ = np.linalg.svd(z, full_matrices=False)
        var = s ** 2
        total = var.sum()
        r = var / total if total > 0 else np.zeros_like(var)
        ratio.append(np.pad(r[:n], (0, max(0, n - len(r)))))
        proj.append(u[:, :2] * s[:2])
    return np.stack(proj), np.stack(ratio)


# ---------------------------------------------------------------------------------------------- linearising
def cell_step(model: torch.nn.Module):
    """The recurrence of ``model.lstm`` as a function z -> z' on the flat state z = [h_1..h_L, c_1..c_L]
    (2LH,), for one input x (n_inputs,), with a float64 copy of the weights: ``step(z, x)``."""
    import torch

    lstm = model.lstm
    L, H = lstm.num_layers, lstm.hidden_size
    p = {name: t.detach().to("cpu", torch.float64) for name, t in lstm.named_parameters()}

    def step(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        hs, cs = z[:L * H].reshape(L, H), z[L * H:].reshape(L, H)
        inp, new_h, new_c = x, [], []
        for layer in range(L):
            gates = (p[f"weight_ih_l{layer}"] @ inp + p[f"bias_ih_l{layer}"]
                     + p[f"weight_hh_l{layer}"] @ hs[layer] + p[f"bias_hh_l{layer}"])
            i, f, g, o = gates.chunk(4)
            c = torch.sigmoid(f) * cs[layer] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            new_h.append(h)
            new_c.append(c)
            inp = h
        return torch.cat([*new_h, *new_c])

    return step


def jacobians(step, zs, x):
    """Jacobians (P, D, D) of ``step(., x)`` at the states zs (P, D)."""
    from torch.func import jacrev, vmap

    return vmap(jacrev(lambda z: step(z, x)))(zs)


def orbit(step, z0, x, n: int):
    """States (n, D): z0 and the n - 1 states after it under ``step(., x)``."""
    import torch

    zs = [z0]
    with torch.no_grad():
        for _ in range(n - 1):
            zs.append(step(zs[-1], x))
    return torch.stack(zs)


def linearise(model: torch.nn.Module, frequencies, fs: float, settle_s: float) -> dict:
    """Per selector, at x = [0, one-hot k], after ``settle_s`` seconds from the reset with S = 0: the
    averaged Jacobian's pair nearest the target frequency and the Floquet multipliers of one period.

    The monodromy matrix is the product of the round(fs / f) Jacobians of one period, the average their
    mean; they are computed a chunk at a time, so memory stays bounded for any period. Lists of K values:
    ``pair_angle_rad``, ``pair_hz``, ``pair_modulus``, ``target_hz``, ``floquet_moduli`` (the largest five,
    descending), ``steps``.
    """
    import torch

    K = len(frequencies)
    step = cell_step(model)
    L, H = model.lstm.num_layers, model.lstm.hidden_size
    n_settle = int(round(settle_s * fs))
    res = {k: [] for k in ("target_hz", "pair_hz", "pair_angle_rad", "pair_modulus", "floquet_moduli", "steps")}
    for k, f in enumerate(frequencies):
        x = torch.zeros(1 + K, dtype=torch.float64)
        x[1 + k] = 1.0
        z = _settled_state(model, x, n_settle, L, H)
        P = max(2, int(round(fs / float(f))))
        zs = orbit(step, z, x, P)  # (P, D)
        D = zs.shape[1]
        total, mono = np.zeros((D, D)), np.eye(D)
        per = max(1, JACOBIAN_ENTRIES // (D * D))  # Jacobians held at once
        for start in range(0, P, per):
            for Jp in jacobians(step, zs[start:start + per], x).detach().numpy():  # (D, D) each
                total += Jp
                mono = Jp @ mono
        ev = np.linalg.eigvals(total / P)
        want = 2 * np.pi * float(f) / fs
        pair = ev[np.argmin(np.abs(np.abs(np.angle(ev)) - want))]
        mult = np.sort(np.abs(np.linalg.eigvals(mono)))[::-1]
        res["target_hz"].append(float(f))
        res["pair_angle_rad"].append(float(abs(np.angle(pair))))
        res["pair_hz"].append(float(abs(np.angle(pair)) * fs / (2 * np.pi)))
        res["pair_modulus"].append(float(abs(pair)))
        res["floquet_moduli"].append([float(m) for m in mult[:5]])
        res["steps"].append(P)
    return res


def _settled_state(model, x, n: int, L: int, H: int):
    """The flat state (2LH,) float64 after n samples of the constant input x from the reset."""
    import torch

    lstm = model.lstm
    copy = torch.nn.LSTM(lstm.input_size, H, L, batch_first=True).to(torch.float64)
    copy.load_state_dict({k: v.detach().to("cpu", torch.float64) for k, v in lstm.state_dict().items()})
    z = torch.zeros(2 * L * H, dtype=torch.float64)
    if n > 0:
        with torch.no_grad():
            _, (h, c) = copy(x.expand(1, n, -1).contiguous())
        z = torch.cat([h.reshape(-1), c.reshape(-1)])
    return z


# ---------------------------------------------------------------------------------------------- all of it
def explain_with_arrays(model: torch.nn.Module, cfg: RunConfig, seconds: float = 60.0,
                        seed: int | None = None) -> tuple[dict, dict]:
    """(:func:`explain`'s data, the arrays of its figures).

    Arrays: ``time`` list of K (W_k,) window centres (s); ``phase_error`` and ``phase_error_noise`` lists
    of K (W_k,) unwrapped phase errors (rad) with S = 0 and with the scenario's S; ``pca`` (K, T, 2) the
    hidden state's first two components over the trained horizon after settling; ``pca_time`` (T,) s.
    """
    check_selector_model(model, cfg)
    if not (math.isfinite(seconds) and seconds * cfg.signal.fs >= 10):
        raise UserError(f"seconds: must be finite and hold at least 10 samples, got {seconds:g}")
    freqs = [float(f) for f in cfg.signal.frequencies]
    K, fs = len(freqs), float(cfg.signal.fs)
    N = int(round(seconds * fs))
    horizon = float(cfg.signal.duration)
    n_h = min(N, int(round(horizon * fs)))
    settle = min(SETTLE_SECONDS, horizon / 10)
    seed = cfg.signal.test_seed if seed is None else int(seed)

    quiet, h = run_streams(model, selector_streams(np.zeros(N), K), record_h=n_h)
    noise_sig = generate(dataclasses.replace(cfg.signal, duration=N / fs), seed)
    noisy, _ = run_streams(model, selector_streams(noise_sig.S, K))
    track, track_noise = reference_track(quiet, freqs, fs), reference_track(noisy, freqs, fs)

    skip = int(round(settle * fs))
    proj, ratio = pca(h, skip=min(skip, max(0, n_h - 3)))
    data = {
        "frequencies": freqs, "fs": fs, "seconds": N / fs, "trained_seconds": horizon, "settle_seconds": settle,
        **measure(quiet, freqs, fs, start_s=settle, track=track),
        "with_noise": {"scenario": cfg.signal.scenario, "seed": seed,
                       **measure(noisy, freqs, fs, start_s=settle, track=track_noise)},
        "first_10s": {"seconds": min(horizon, N / fs),
                      **measure(quiet, freqs, fs, start_s=settle, end_s=horizon, track=track)},
        "pca": {"explained_variance_ratio": ratio.tolist(),
                "first_two": [float(r[:2].sum()) for r in ratio]},
        "linearised": linearise(model, freqs, fs, settle_s=min(horizon, N / fs)),
    }
    arrays = {"time": track["time"], "phase_error": unwrapped_phase_error(track),
              "phase_error_noise": unwrapped_phase_error(track_noise), "pca": proj,
              "pca_time": (skip + np.arange(proj.shape[1])) / fs}
    return _finite(data), arrays


def explain(model: torch.nn.Module, cfg: RunConfig, seconds: float = 60.0, seed: int | None = None) -> dict:
    """How a selector model keeps time, as JSON-ready data (see the module docstring).

    Keys: ``frequencies``, ``fs``, ``seconds``; per selector with S = 0 over the whole run
    ``free_running_hz``, ``ppm_error``, ``drift_rad_per_s``, ``amplitude``, ``amplitude_drift_per_s``;
    the same under ``with_noise`` (the scenario's S, noise ``seed``, default ``signal.test_seed``) and
    ``first_10s`` (the trained horizon only); ``pca`` (explained variance ratios) and ``linearised``.
    A conditioned (mix) model is a UserError.
    """
    return explain_with_arrays(model, cfg, seconds, seed)[0]


def _finite(obj):
    """obj with every non-finite float replaced by None (valid JSON)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def format_table(data: dict) -> str:
    """The per-selector table of :func:`explain`'s data, for a terminal."""
    head = (f"{'selector':>8} {'target Hz':>10} {'free-running Hz':>16} {'ppm':>10} {'drift rad/s':>12} "
            f"{'amplitude':>10}")
    lines = [f"free running from the reset for {data['seconds']:g} s, S = 0", head]

    def cell(v, fmt):
        width = int(re.search(r"\d+", fmt).group())
        return f"{'-':>{width}}" if v is None else f"{v:{fmt}}"

    for k, f in enumerate(data["frequencies"]):
        lines.append(f"{k + 1:>8} {f:>10g} {cell(data['free_running_hz'][k], '16.6f')} "
                     f"{cell(data['ppm_error'][k], '+10.1f')} {cell(data['drift_rad_per_s'][k], '+12.2e')} "
                     f"{cell(data['amplitude'][k], '10.3f')}")
    return "\n".join(lines)
