"""Metrics of a model (or any estimator) on a signal, the S ablations, multi-seed statistics, drift.

Outputs and targets are (K, N): one row per frequency, the frequency-major order of the K*N-row table, so
an "all rows" number weighs every row of the table once.

    mse, rmse            mean squared error (all rows, and per frequency)
    r2                   1 - SSE / SST (SST around the mean of the targets pooled over the rows it covers)
    pearson_r            correlation of output and target (None where either is constant)
    snr_db               10 log10(sum target^2 / sum error^2) (None for a perfect output: infinite)
    improvement          10 log10(MSE_ref / MSE) dB and MSE_ref - MSE, against the input mixture (S used as
                         the estimate of every component) and against baselines
    error_vs_time        MSE in bins of time since the reset (the model starts from the zero state at t=0)
    phase_drift          phase and amplitude of output and target fitted in sliding one-period windows at
                         the known frequency; the phase difference over time and its slope (frequency error)
    multi_seed           test MSE on noise seeds test_seed .. test_seed+9, mean and t-based 95% CI

Ablations (docs/method.md): under the spec S carries no information about the targets, so a model
that wins must be a clock started at the reset. Re-running it with S shuffled in time (same values,
order destroyed) or S set to zero shows how much of its output depends on S.

Values that are undefined (infinite SNR, correlation with a constant) are ``None``, so every dict here is
valid JSON as it is.

Example: a unit sine answered by zeros scores MSE 1/2 and R^2 0; half its amplitude gives 6 dB SNR.

>>> import numpy as np
>>> t = np.arange(1000) / 1000.0
>>> y = np.sin(2 * np.pi * 3 * t)[None]
>>> m = signal_metrics(np.zeros_like(y), y)
>>> round(m["mse"], 6), round(m["r2"], 6)
(0.5, 0.0)
>>> round(signal_metrics(0.5 * y, y)["snr_db"], 2)
6.02
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import atomic_path
from ..signals.data import streams_for, table_columns, to_table
from ..signals.scenarios import MixedSignal

if TYPE_CHECKING:  # torch is imported where a model runs, so the metrics (and the report) load without it
    import torch


# ---------------------------------------------------------------------------------------------- model runs
def predict(model: torch.nn.Module, sig: MixedSignal, device: str | torch.device = "cpu") -> np.ndarray:
    """Run the K selector streams (a multi-output model: its one stream) from the reset state over the whole
    signal: outputs (K, N)."""
    import torch

    x, _ = streams_for(_outputs(model), sig.S[None], sig.targets[None])  # (K, N, 1+K) or (1, N, 1)
    with torch.no_grad():
        y, _ = model(torch.as_tensor(x, device=device))  # (K, N)
    return y.double().cpu().numpy()


def predict_many(model: torch.nn.Module, sigs: list[MixedSignal], device: str | torch.device = "cpu",
                 max_streams: int = 64) -> np.ndarray:
    """Outputs (R, K, N) of R signals of the same length, in as few forward passes as ``max_streams`` allows.

    Streams are independent sequences, so batching R signals is the same as R calls of :func:`predict`.
    """
    import torch

    if not sigs:
        return np.zeros((0, 0, 0))
    K, N = sigs[0].targets.shape
    per = max(1, max_streams // K)
    out = []
    for i in range(0, len(sigs), per):
        chunk = sigs[i:i + per]
        S = np.stack([s.S for s in chunk])  # (R, N)
        targets = np.stack([s.targets for s in chunk])  # (R, K, N)
        x, _ = streams_for(_outputs(model), S, targets)  # (R*K, N, 1+K) or (R, N, 1)
        with torch.no_grad():
            y, _ = model(torch.as_tensor(x, device=device))  # (R*K, N)
        out.append(y.double().cpu().numpy().reshape(len(chunk), K, N))
    return np.concatenate(out)


def _outputs(model) -> str:
    """The streams ``model`` reads (model.outputs); an estimator without the attribute reads selector streams."""
    return getattr(model, "outputs", "selector")


def with_S(sig: MixedSignal, S: np.ndarray) -> MixedSignal:
    return dataclasses.replace(sig, S=np.asarray(S, dtype=np.float64))


# ---------------------------------------------------------------------------------------------- metrics
def _f(x) -> float | None:
    """A plain float, or None where the value is not finite."""
    x = float(x)
    return x if math.isfinite(x) else None


def _pair(outputs, targets) -> tuple[np.ndarray, np.ndarray]:
    o = np.asarray(outputs, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if o.ndim == 1:
        o = o[None]
    if y.ndim == 1:
        y = y[None]
    if o.shape != y.shape:
        raise ValueError(f"outputs {o.shape} and targets {y.shape} differ in shape")
    return o, y


def mse(outputs: np.ndarray, targets: np.ndarray) -> dict:
    """Overall MSE (every row of the K*N table counts once) and per-frequency MSE."""
    err = (np.asarray(outputs, dtype=np.float64) - np.asarray(targets, dtype=np.float64)) ** 2  # (K, N)
    return {"mse": float(err.mean()), "per_frequency_mse": [float(v) for v in err.mean(axis=1)]}


def r2_score(outputs, targets) -> tuple[float | None, list[float | None]]:
    """(all rows, per frequency) coefficient of determination."""
    o, y = _pair(outputs, targets)
    sse = ((o - y) ** 2).sum(axis=1)
    sst = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    sst_all = ((y - y.mean()) ** 2).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        per = [_f(1 - a / b) if b > 0 else None for a, b in zip(sse, sst, strict=True)]
        return (_f(1 - sse.sum() / sst_all) if sst_all > 0 else None), per


def pearson_r(outputs, targets) -> tuple[float | None, list[float | None]]:
    """(all rows pooled, per frequency) Pearson correlation; None where either side is constant."""
    o, y = _pair(outputs, targets)

    def corr(a, b):
        a = a - a.mean()
        b = b - b.mean()
        den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
        return _f((a * b).sum() / den) if den > 0 else None

    return corr(o.ravel(), y.ravel()), [corr(a, b) for a, b in zip(o, y, strict=True)]


def snr_db(outputs, targets) -> tuple[float | None, list[float | None]]:
    """(all rows, per frequency) 10 log10(target power / error power); None where the error is zero."""
    o, y = _pair(outputs, targets)
    p_sig = (y ** 2).sum(axis=1)
    p_err = ((o - y) ** 2).sum(axis=1)

    def db(s, e):
        return _f(10 * math.log10(s / e)) if e > 0 and s > 0 else None

    return db(p_sig.sum(), p_err.sum()), [db(s, e) for s, e in zip(p_sig, p_err, strict=True)]


def signal_metrics(outputs, targets) -> dict:
    """Every pointwise metric of an estimate (K, N) against its targets, all rows and per frequency."""
    o, y = _pair(outputs, targets)
    m = mse(o, y)
    r2, r2_k = r2_score(o, y)
    r, r_k = pearson_r(o, y)
    snr, snr_k = snr_db(o, y)
    return {**m, "rmse": math.sqrt(m["mse"]), "r2": r2, "per_frequency_r2": r2_k, "pearson_r": r,
            "per_frequency_pearson_r": r_k, "snr_db": snr, "per_frequency_snr_db": snr_k}


def improvement(metrics: dict, reference: dict) -> dict:
    """How much better ``metrics`` is than ``reference`` (both with mse and per_frequency_mse).

    ``db`` = 10 log10(MSE_ref / MSE): the SNR improvement in dB (positive = better than the reference).
    """
    def db(ref, m):
        return _f(10 * math.log10(ref / m)) if ref > 0 and m > 0 else None

    return {
        "db": db(reference["mse"], metrics["mse"]),
        "per_frequency_db": [db(a, b) for a, b in zip(reference["per_frequency_mse"],
                                                     metrics["per_frequency_mse"], strict=True)],
        "mse_delta": reference["mse"] - metrics["mse"],
        "per_frequency_mse_delta": [a - b for a, b in zip(reference["per_frequency_mse"],
                                                           metrics["per_frequency_mse"], strict=True)],
    }


def input_mixture_estimate(sig: MixedSignal) -> np.ndarray:
    """S itself used as the estimate of every component: (K, N)."""
    return np.broadcast_to(sig.S, sig.targets.shape).copy()


# ---------------------------------------------------------------------------------------------- over time
def default_bin_seconds(duration: float) -> float:
    """0.5 s bins for signals of 5 s or more; otherwise a tenth of the signal."""
    return 0.5 if duration >= 5.0 else duration / 10.0


def error_vs_time(outputs, targets, fs: float, bin_seconds: float | None = None,
                  settle_threshold: float = 0.01, settle_seconds: float = 0.1) -> dict:
    """MSE in consecutive bins of time since the reset, and when each frequency settles.

    ``per_frequency_settle_time_s``: the start of the first ``settle_seconds`` block after which every
    block's MSE stays below ``settle_threshold`` (0 = settled from the start; None = never settled).
    """
    o, y = _pair(outputs, targets)
    K, N = y.shape
    sq = (o - y) ** 2
    bin_seconds = default_bin_seconds(N / fs) if bin_seconds is None else bin_seconds
    b = max(1, int(round(bin_seconds * fs)))
    starts = np.arange(0, N, b)
    sizes = np.diff(np.append(starts, N))
    per = np.stack([np.add.reduceat(sq[k], starts) / sizes for k in range(K)])  # (K, bins)
    blk = max(1, int(round(settle_seconds * fs)))
    bstarts = np.arange(0, N, blk)
    blocks = np.stack([np.add.reduceat(sq[k], bstarts) / np.diff(np.append(bstarts, N)) for k in range(K)])
    settle = []
    for k in range(K):
        above = np.flatnonzero(blocks[k] >= settle_threshold)
        if above.size == 0:
            settle.append(0.0)
        elif above[-1] == blocks.shape[1] - 1:
            settle.append(None)
        else:
            settle.append(float(bstarts[above[-1] + 1] / fs))
    return {
        "bin_seconds": b / fs,
        "bin_start_s": [float(s / fs) for s in starts],
        "mse": [float(v) for v in per.mean(axis=0)],
        "per_frequency_mse": [[float(v) for v in row] for row in per],
        "settle_threshold": settle_threshold,
        "settle_block_seconds": blk / fs,
        "per_frequency_settle_time_s": settle,
    }


def _window_fit(x: np.ndarray, t: np.ndarray, freq: float, win: int, starts: np.ndarray):
    """Least-squares fit x ~ a sin(2 pi f t) + b cos(2 pi f t) + c in windows [s, s+win): (amplitude, phase).

    The normal equations of every window come from cumulative sums, so this is O(N) per frequency.
    """
    w = 2 * np.pi * freq * t
    s, c, one = np.sin(w), np.cos(w), np.ones_like(t)
    cols = {"ss": s * s, "cc": c * c, "sc": s * c, "s": s, "c": c, "1": one,
            "xs": x * s, "xc": x * c, "x": x}
    sums = {}
    for key, v in cols.items():
        cs = np.concatenate([[0.0], np.cumsum(v)])
        sums[key] = cs[starts + win] - cs[starts]
    A = np.empty((len(starts), 3, 3))
    A[:, 0] = np.stack([sums["ss"], sums["sc"], sums["s"]], axis=1)
    A[:, 1] = np.stack([sums["sc"], sums["cc"], sums["c"]], axis=1)
    A[:, 2] = np.stack([sums["s"], sums["c"], sums["1"]], axis=1)
    rhs = np.stack([sums["xs"], sums["xc"], sums["x"]], axis=1)
    coef = np.linalg.solve(A + 1e-12 * np.eye(3), rhs[..., None])[..., 0]  # (W, 3)
    a, b = coef[:, 0], coef[:, 1]
    # a sin(w) + b cos(w) = A sin(w + phi) with A cos(phi) = a, A sin(phi) = b
    return np.hypot(a, b), np.arctan2(b, a)


def phase_track(outputs, targets, frequencies, fs: float, window_periods: float = 1.0,
                hop_seconds: float = 0.1, min_amplitude: float = 0.1) -> dict:
    """Phase and amplitude of output vs target over time, per frequency, from sliding-window fits.

    Each frequency f is fitted in windows of ``window_periods`` periods, every ``hop_seconds``. Returns
    arrays: ``time`` list of (W_k,) window centres (s), ``phase_error`` list of (W_k,) output minus target
    phase in radians wrapped to (-pi, pi] (NaN where the output's amplitude is below ``min_amplitude`` times
    the target's: no phase to speak of), ``amplitude_ratio`` list of (W_k,).
    """
    o, y = _pair(outputs, targets)
    K, N = y.shape
    t = np.arange(N) / fs
    hop = max(1, int(round(hop_seconds * fs)))
    res = {"time": [], "phase_error": [], "amplitude_ratio": []}
    for k in range(K):
        win = min(N, max(3, int(round(window_periods * fs / float(frequencies[k])))))
        starts = np.arange(0, N - win + 1, hop)
        amp_o, ph_o = _window_fit(o[k], t, float(frequencies[k]), win, starts)
        amp_y, ph_y = _window_fit(y[k], t, float(frequencies[k]), win, starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(amp_y > 0, amp_o / amp_y, np.nan)
        err = np.angle(np.exp(1j * (ph_o - ph_y)))
        err[~(ratio >= min_amplitude)] = np.nan
        res["time"].append((starts + win / 2) / fs)
        res["phase_error"].append(err)
        res["amplitude_ratio"].append(ratio)
    return res


def phase_drift(outputs, targets, frequencies, fs: float, **kwargs) -> dict:
    """JSON summary of :func:`phase_track` per frequency: phase error (degrees) at the start and end, its
    largest magnitude, the frequency error (slope of the unwrapped phase error, Hz) and amplitude ratios.

    A half-period error (output = -target) reads as 180 degrees; an output at f + d Hz as a frequency
    error of d Hz and a phase error that grows by 360 d degrees per second.
    """
    track = phase_track(outputs, targets, frequencies, fs, **kwargs)
    per = []
    for k, f in enumerate(frequencies):
        tt, err, ratio = track["time"][k], track["phase_error"][k], track["amplitude_ratio"][k]
        ok = np.isfinite(err)
        entry = {"frequency_hz": float(f), "windows": int(len(tt)), "locked_windows": int(ok.sum()),
                 "phase_error_start_deg": None, "phase_error_end_deg": None, "max_abs_phase_error_deg": None,
                 "frequency_error_hz": None, "estimated_frequency_hz": None,
                 "amplitude_ratio_start": _f(ratio[0]) if len(ratio) else None,
                 "amplitude_ratio_end": _f(ratio[-1]) if len(ratio) else None}
        if ok.any():
            deg = np.degrees(err[ok])
            entry.update(phase_error_start_deg=_f(deg[0]), phase_error_end_deg=_f(deg[-1]),
                         max_abs_phase_error_deg=_f(np.abs(deg).max()))
        if ok.sum() >= 3:
            unwrapped = np.unwrap(err[ok])
            slope = np.polyfit(tt[ok], unwrapped, 1)[0]  # rad/s
            entry["frequency_error_hz"] = _f(slope / (2 * np.pi))
            entry["estimated_frequency_hz"] = _f(float(f) + slope / (2 * np.pi))
        per.append(entry)
    window = kwargs.get("window_periods", 1.0)
    return {"window_periods": window, "hop_seconds": kwargs.get("hop_seconds", 0.1), "per_frequency": per}


# ---------------------------------------------------------------------------------------------- seeds
def t_interval(values, confidence: float = 0.95) -> dict:
    """Mean, sample std and the t-distribution confidence interval of the mean (None for fewer than 2)."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    n = v.size
    mean = float(v.mean()) if n else None
    if n < 2:
        return {"n": int(n), "mean": mean, "std": None, "ci95": None, "ci95_halfwidth": None}
    std = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))
    return {"n": int(n), "mean": mean, "std": std, "ci95": [mean - half, mean + half], "ci95_halfwidth": half}


def multi_seed(model, signal_cfg, seeds, device="cpu") -> dict:
    """Test MSE on several noise seeds (one batched forward pass): per seed, mean and 95% CI (t)."""
    from ..signals.scenarios import generate

    seeds = [int(s) for s in seeds]
    sigs = [generate(signal_cfg, s) for s in seeds]
    outs = predict_many(model, sigs, device)  # (R, K, N)
    per_seed = [mse(o, s.targets) for o, s in zip(outs, sigs, strict=True)]
    overall = [m["mse"] for m in per_seed]
    per_freq = np.array([m["per_frequency_mse"] for m in per_seed])  # (R, K)
    return {
        "seeds": seeds,
        "mse": overall,
        "per_frequency_mse": per_freq.tolist(),
        **t_interval(overall),
        "per_frequency": [t_interval(per_freq[:, k]) for k in range(per_freq.shape[1])],
    }


# ---------------------------------------------------------------------------------------------- ablations
def ablations(model, sig: MixedSignal, shuffle_seed: int, device="cpu") -> dict:
    """Test MSE with S zeroed and with S shuffled in time."""
    perm = np.random.default_rng(shuffle_seed).permutation(sig.n_samples)
    zeroed = mse(predict(model, with_S(sig, np.zeros_like(sig.S)), device), sig.targets)
    shuffled = mse(predict(model, with_S(sig, sig.S[perm]), device), sig.targets)
    return {
        "test_mse_S_zeroed": zeroed["mse"], "test_mse_S_shuffled": shuffled["mse"],
        "per_frequency_mse_S_zeroed": zeroed["per_frequency_mse"],
        "per_frequency_mse_S_shuffled": shuffled["per_frequency_mse"],
    }


def evaluate_signal(model, sig: MixedSignal, device="cpu") -> tuple[dict, np.ndarray]:
    """(metrics, outputs (K, N)) of a model on one signal; the metrics are :func:`signal_metrics`."""
    out = predict(model, sig, device)
    return signal_metrics(out, sig.targets), out


# ---------------------------------------------------------------------------------------------- files
def write_rows_csv(path: str | Path, sig: MixedSignal, outputs: np.ndarray) -> Path:
    """The K*N-row table of ``sig`` plus ``output`` and ``error`` (= output - target) columns, as CSV."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape != sig.targets.shape:
        raise ValueError(f"outputs {outputs.shape} do not match the targets {sig.targets.shape}")
    table = to_table(sig)  # (K*N, 3+K), frequency-major like outputs.reshape(-1)
    out = outputs.reshape(-1)
    rows = np.column_stack([table, out, out - table[:, -1]])
    header = ",".join([*table_columns(sig.n_freqs), "output", "error"])
    path = Path(path)
    with atomic_path(path, suffix=".csv") as tmp:
        np.savetxt(tmp, rows, delimiter=",", header=header, comments="", fmt="%.17g")
    return path
