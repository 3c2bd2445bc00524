"""Classical references on the same data as the LSTM (docs/scenarios.md).

Every baseline takes a :class:`~freqextract.signals.MixedSignal` and returns outputs (K, N), one row per
frequency, in the same shape as the LSTM's predictions, so ``metrics.mse(outputs, sig.targets)`` scores
both alike.

    name                 causal  what it computes for frequency f_k
    zero                 yes     0 (MSE = mean square of the targets: 0.5 for unit sines)
    clock-oracle         yes     sin(2 pi f_k t): the spec's target itself, an oracle that never reads S. An
                                 upper bound only where the target is sin(2 pi f t) (spec, phase-scaled); on
                                 offsets it misses theta_k and scores about 1
    bandpass-causal      yes     Butterworth band-pass around f_k (sosfilt), times K / |H(f_k)|
    bandpass-zero-phase  no      the same filter forwards and backwards (sosfiltfilt), times K / |H(f_k)|^2;
                                 zero phase, but every output reads the whole signal: a non-causal reference
    rls-causal           yes     known-frequency recursive least squares: S ~ sum_k a_k sin + b_k cos, fitted
                                 jointly with forgetting factor lambda; output K (a_k sin + b_k cos) at time n
                                 from data up to n only

The defaults are hand-set; :mod:`.references` tunes band-pass and RLS on training-side seeds
(``bandpass-tuned``, ``rls-tuned``), and :mod:`.reference_panel` shows them all, labelled.

The mixture carries each component at amplitude 1/K; the factor K (and the filter's gain) turns a clean
component back into a unit sine.

RLS here is exponentially weighted least squares solved exactly at every sample, which is what the RLS
recursion computes (same initial P = I / regularization, same forgetting;
tests/evaluation/test_baselines.py checks the two agree), but vectorised: the weighted sums are IIR
filters along time (scipy.signal.lfilter) and the (P, P) normal equations of all samples are solved in
one batched call. It is also the Kalman filter for constant amplitudes with forgetting in place of
process noise.

    regressors x_n (P,) = [sin 2 pi f_1 t_n .. sin 2 pi f_K t_n, cos 2 pi f_1 t_n .. cos 2 pi f_K t_n, (1)]
    R_n (P, P) = lambda^(n+1) * regularization * I + sum_{i<=n} lambda^(n-i) x_i x_i^T
    r_n (P,)   =                                  sum_{i<=n} lambda^(n-i) x_i S_i
    w_n        = R_n^-1 r_n  ->  output_k(n) = K * (w_n[k] sin 2 pi f_k t_n + w_n[K+k] cos 2 pi f_k t_n)

Example: a clean mixture of two sines (1 and 3 Hz, any phases) at 1 kHz; after one second RLS has each
one to within 1e-4.

>>> import numpy as np
>>> from freqextract.signals import MixedSignal
>>> fs, f = 1000.0, np.array([1.0, 3.0])
>>> t = np.arange(3000) / fs
>>> targets = np.sin(2 * np.pi * f[:, None] * t + np.array([[0.5], [2.0]]))
>>> sig = MixedSignal(t=t, S=targets.mean(axis=0), targets=targets, frequencies=f, fs=fs)
>>> out = rls_causal(sig)
>>> out.shape
(2, 3000)
>>> float(np.abs(out[:, 1000:] - targets[:, 1000:]).max().round(4))
0.0001
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from ..errors import UserError
from ..signals.scenarios import MixedSignal

# Defaults (docs/scenarios.md): causal band-pass order 2, +-0.8 Hz around f; RLS memory 1/(1-lambda) = 1000
# samples, one period of the slowest spec frequency at 1 kHz.
DEFAULTS = {
    "order": 2, "bandwidth": 0.8, "centre": "arithmetic",
    "forgetting": 0.999, "regularization": 0.1, "constant": False,
}
CENTRES = ("arithmetic", "geometric")
RLS_CHUNK = 8192  # samples per batched solve: bounds memory at chunk * P * P floats


# ---------------------------------------------------------------------------------------------- parameters
def check_params(order: int = 2, bandwidth: float = 0.8, centre: str = "arithmetic",
                 forgetting: float = 0.999, regularization: float = 0.1, constant: bool = False) -> dict:
    """Validate the baseline parameters; raises UserError naming the parameter. Returns them as a dict."""
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= 10:
        raise UserError(f"order: must be an integer from 1 to 10, got {order!r}")
    if not _finite(bandwidth) or bandwidth <= 0:
        raise UserError(f"bandwidth: must be > 0 Hz, got {bandwidth!r}")
    if centre not in CENTRES:
        raise UserError(f"centre: must be {' or '.join(CENTRES)}, got {centre!r}")
    if not _finite(forgetting) or not 0 < forgetting <= 1:
        raise UserError(f"forgetting: must be in (0, 1], got {forgetting!r}")
    if not _finite(regularization) or regularization <= 0:
        raise UserError(f"regularization: must be > 0, got {regularization!r}")
    if not isinstance(constant, bool):
        raise UserError(f"constant: must be true or false, got {constant!r}")
    return {"order": int(order), "bandwidth": float(bandwidth), "centre": centre,
            "forgetting": float(forgetting), "regularization": float(regularization), "constant": constant}


def _finite(x) -> bool:
    number = isinstance(x, int | float | np.floating | np.integer) and not isinstance(x, bool)
    return number and math.isfinite(x)


# ---------------------------------------------------------------------------------------------- trivial
def zero(sig: MixedSignal) -> np.ndarray:
    """Predict 0 everywhere: (K, N)."""
    return np.zeros((sig.n_freqs, sig.n_samples))


def clock_oracle(sig: MixedSignal) -> np.ndarray:
    """sin(2 pi f_k t): (K, N). Never reads S; the target only in the spec and phase-scaled scenarios."""
    return np.sin(2 * np.pi * sig.frequencies[:, None] * sig.t[None, :])


# ---------------------------------------------------------------------------------------------- band-pass
def band_edges(f: float, bandwidth: float, centre: str = "arithmetic",
               fs: float | None = None) -> tuple[float, float]:
    """Pass band around ``f``: [f - bw, f + bw] (arithmetic) or width 2 bw centred on f (geometric).

    A digital Butterworth band-pass has zero phase where tan(pi f / fs)^2 = tan(pi lo / fs) tan(pi hi / fs)
    (the geometric mean of the edges after the bilinear transform's warping), so 'geometric' puts these
    edges around f: a steady sine at f passes with no phase lag. 'arithmetic' (the assignment's reference,
    +-0.8 Hz) lags it, most at low f (0.59 rad at 1 Hz with order 2).
    """
    if centre != "geometric":
        return f - bandwidth, f + bandwidth
    if fs is None:  # no warping: geometric mean in Hz
        lo = math.sqrt(bandwidth ** 2 + f ** 2) - bandwidth
        return lo, lo + 2 * bandwidth
    # tan(a) tan(a + d) = c with a = pi lo / fs, d = 2 pi bw / fs, c = tan(pi f / fs)^2; from
    # tan(a) tan(b) = (cos(a - b) - cos(a + b)) / (cos(a - b) + cos(a + b)):
    # cos(2a + d) = cos(d) (1 - c) / (1 + c), and then 0 < a < a + d < pi / 2 (both edges in (0, fs/2))
    u = math.pi / fs
    d = min(2 * bandwidth * u, math.pi / 2)
    c = math.tan(u * f) ** 2
    a = (math.acos(math.cos(d) * (1 - c) / (1 + c)) - d) / 2
    return a / u, a / u + 2 * bandwidth


def design(f: float, fs: float, order: int = 2, bandwidth: float = 0.8,
           centre: str = "arithmetic") -> np.ndarray:
    """Butterworth SOS for frequency ``f``; a low-pass (high-pass) where the band reaches 0 Hz (Nyquist)."""
    lo, hi = band_edges(f, bandwidth, centre, fs)
    nyq = fs / 2
    if lo <= 0 and hi >= nyq:
        raise UserError(f"bandwidth: the band {lo:g} to {hi:g} Hz around {f:g} Hz covers 0 Hz to Nyquist "
                        f"(fs/2 = {nyq:g} Hz); give a smaller bandwidth")
    if lo <= 0:
        return sps.butter(order, hi, btype="lowpass", output="sos", fs=fs)
    if hi >= nyq:
        return sps.butter(order, lo, btype="highpass", output="sos", fs=fs)
    return sps.butter(order, [lo, hi], btype="bandpass", output="sos", fs=fs)


def response(sos: np.ndarray, f: float, fs: float) -> complex:
    """The filter's complex frequency response H(f)."""
    freqz_sos = getattr(sps, "freqz_sos", None) or sps.sosfreqz  # the new name since scipy 1.15
    _, h = freqz_sos(sos, worN=np.array([f]), fs=fs)
    return complex(h[0])


def _filters(sig: MixedSignal, order: int, bandwidth: float, centre: str):
    check_params(order, bandwidth, centre)
    for f in sig.frequencies:
        sos = design(float(f), sig.fs, order, bandwidth, centre)
        yield sos, abs(response(sos, float(f), sig.fs))


def bandpass_causal(sig: MixedSignal, order: int = 2, bandwidth: float = 0.8,
                    centre: str = "arithmetic") -> np.ndarray:
    """Causal Butterworth band-pass per frequency (sosfilt from rest), scaled by K / |H(f)|: (K, N)."""
    K = sig.n_freqs
    S = np.asarray(sig.S, dtype=np.float64)
    filters = _filters(sig, order, bandwidth, centre)
    return np.stack([sps.sosfilt(sos, S) * (K / gain) for sos, gain in filters])


def bandpass_zero_phase(sig: MixedSignal, order: int = 2, bandwidth: float = 0.8,
                        centre: str = "arithmetic") -> np.ndarray:
    """Zero-phase (forward-backward, NON-causal) band-pass per frequency, scaled by K / |H(f)|^2: (K, N)."""
    K = sig.n_freqs
    S = np.asarray(sig.S, dtype=np.float64)
    rows = []
    for sos, gain in _filters(sig, order, bandwidth, centre):
        # scipy's default edge padding, shortened for signals shorter than it
        n_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
        padlen = min(3 * (2 * len(sos) + 1 - n_zeros), S.shape[0] - 1)
        y = sps.sosfiltfilt(sos, S, padlen=padlen)  # a negative-stride view
        rows.append(np.ascontiguousarray(y) * (K / gain ** 2))
    return np.stack(rows)


# ---------------------------------------------------------------------------------------------- RLS
def rls_causal(sig: MixedSignal, forgetting: float = 0.999, regularization: float = 0.1,
               constant: bool = False) -> np.ndarray:
    """Known-frequency RLS fit of all K sinusoids jointly; output k at n uses S[0..n] only: (K, N).

    ``forgetting`` is lambda (memory about 1 / (1 - lambda) samples; 1 = none forgotten),
    ``regularization`` the initial inverse covariance (P_0 = I / regularization), ``constant`` adds a DC
    regressor.
    """
    check_params(forgetting=forgetting, regularization=regularization, constant=constant)
    lam = float(forgetting)
    f = sig.frequencies
    K, N = sig.n_freqs, sig.n_samples
    P = 2 * K + int(constant)
    S = np.asarray(sig.S, dtype=np.float64)
    t = np.asarray(sig.t, dtype=np.float64)
    out = np.empty((K, N))
    zi_R = np.zeros((1, P * P))  # filter states carried from chunk to chunk
    zi_r = np.zeros((1, P))
    eye = np.eye(P)
    b, a = [1.0], [1.0, -lam]  # y_n = lam * y_{n-1} + x_n: the exponentially weighted running sum
    for start in range(0, N, RLS_CHUNK):
        stop = min(N, start + RLS_CHUNK)
        n = stop - start
        phase = 2 * np.pi * t[start:stop, None] * f[None, :]  # (n, K)
        sin, cos = np.sin(phase), np.cos(phase)
        X = np.concatenate([sin, cos, np.ones((n, 1))] if constant else [sin, cos], axis=1)  # (n, P)
        outer = (X[:, :, None] * X[:, None, :]).reshape(n, P * P)  # (n, P*P)
        R, zi_R = sps.lfilter(b, a, outer, axis=0, zi=zi_R)
        r, zi_r = sps.lfilter(b, a, X * S[start:stop, None], axis=0, zi=zi_r)  # (n, P)
        prior = regularization * np.power(lam, np.arange(start, stop) + 1.0)  # (n,)
        R = R.reshape(n, P, P) + prior[:, None, None] * eye  # (n, P, P)
        try:
            w = np.linalg.solve(R, r[:, :, None])[:, :, 0]  # (n, P)
        except np.linalg.LinAlgError:
            raise UserError(f"forgetting: {lam:g} forgets too fast to fit {P} coefficients (memory "
                            f"{1 / max(1 - lam, 1e-300):.3g} samples); use a value closer to 1") from None
        out[:, start:stop] = K * (w[:, :K] * sin + w[:, K:2 * K] * cos).T
    return out


# ---------------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Baseline:
    name: str
    fn: Callable[..., np.ndarray]
    causal: bool  # output at sample n depends on S[0..n] only
    oracle: bool  # uses knowledge the data does not give (the clock of the target)
    params: tuple[str, ...]  # which keyword parameters it takes
    description: str


BASELINES: dict[str, Baseline] = {b.name: b for b in (
    Baseline("zero", zero, True, False, (), "predicts 0"),
    Baseline("clock-oracle", clock_oracle, True, True, (),
             "sin(2 pi f t), never reads S; an upper bound only for spec and phase-scaled targets "
             "(on offsets it misses the phase theta)"),
    Baseline("bandpass-causal", bandpass_causal, True, False, ("order", "bandwidth", "centre"),
             "Butterworth band-pass per frequency, sosfilt, gain-corrected to unit amplitude"),
    Baseline("bandpass-zero-phase", bandpass_zero_phase, False, False, ("order", "bandwidth", "centre"),
             "the same band-pass forwards and backwards (sosfiltfilt): NOT causal, a reference only"),
    Baseline("rls-causal", rls_causal, True, False, ("forgetting", "regularization", "constant"),
             "known-frequency recursive least squares fitting all sinusoids jointly"),
)}


def run_all(sig: MixedSignal, names=None, **params) -> dict[str, np.ndarray]:
    """Outputs (K, N) of every baseline (or those in ``names``), by name.

    ``params``: order, bandwidth, centre, forgetting, regularization, constant (defaults: DEFAULTS).
    """
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown baseline parameter(s): {', '.join(sorted(unknown))}")
    p = check_params(**{**DEFAULTS, **params})
    names = list(BASELINES) if names is None else list(names)
    for name in names:
        if name not in BASELINES:
            raise UserError(f"baseline {name!r}: unknown (known: {', '.join(BASELINES)})")
    return {name: BASELINES[name].fn(sig, **{k: p[k] for k in BASELINES[name].params}) for name in names}


def compare(sig: MixedSignal, names=None, **params) -> dict:
    """Every baseline's MSE (overall and per frequency, as metrics.mse) with its labels, JSON-ready."""
    from .metrics import mse  # late: metrics imports torch, the baselines themselves do not need it

    p = check_params(**{**DEFAULTS, **params})
    outputs = run_all(sig, names, **params)
    return {
        "frequencies": [float(f) for f in sig.frequencies],
        "scenario": sig.meta.get("scenario"),
        "seed": sig.meta.get("seed"),
        "params": p,
        "baselines": {
            name: {**mse(out, sig.targets), "causal": BASELINES[name].causal,
                   "oracle": BASELINES[name].oracle, "description": BASELINES[name].description}
            for name, out in outputs.items()
        },
    }


# ---------------------------------------------------------------------------------------------- tables
def format_table(result: dict) -> str:
    """The comparison from :func:`compare` as a plain-text table with its labels."""
    freqs = result["frequencies"]
    src = result.get("data", "data")
    scen = result.get("scenario") or "unknown"
    seed = "" if result.get("seed") is None else f", seed {result['seed']}"
    width = max(len("baseline"), *(len(n) for n in result["baselines"])) + 2
    kinded = all("kind" in m for m in result["baselines"].values())  # labelled by reference_panel.compare
    col, w = ("kind", 12) if kinded else ("causal", 8)
    head = f"{'baseline':<{width}}{col:<{w}}{'MSE':>10}" + "".join(f"{f'{f:g} Hz':>10}" for f in freqs)
    lines = [f"{src}: scenario {scen}{seed}", head]
    for name, m in result["baselines"].items():
        label = m["kind"] if kinded else "oracle" if m["oracle"] else "yes" if m["causal"] else "NO"
        lines.append(f"{name:<{width}}{label:<{w}}{m['mse']:>10.6f}"
                     + "".join(f"{v:>10.6f}" for v in m["per_frequency_mse"]))
    p = result["params"]
    lines.append(f"{'untuned ' if kinded else ''}band-pass: order {p['order']}, +-{p['bandwidth']:g} Hz "
                 f"({p['centre']} centre); RLS: forgetting {p['forgetting']:g}, "
                 f"regularization {p['regularization']:g}"
                 + (", constant term" if p["constant"] else ""))
    for name, m in result["baselines"].items():
        if m["oracle"] or not m["causal"]:
            lines.append(f"{name}: {m['description']}")
    return "\n".join(lines)


def to_csv(result: dict) -> str:
    """One row per baseline: name, causal, oracle, mse, mse at each frequency, description."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    kinded = all("kind" in m for m in result["baselines"].values())
    w.writerow(["baseline", "causal", "oracle", "mse", *[f"mse_{f:g}Hz" for f in result["frequencies"]],
                "description", *(["kind"] if kinded else [])])
    for name, m in result["baselines"].items():
        w.writerow([name, str(m["causal"]).lower(), str(m["oracle"]).lower(), repr(m["mse"]),
                    *[repr(v) for v in m["per_frequency_mse"]], m["description"], *([m["kind"]] if kinded else [])])
    return buf.getvalue()
