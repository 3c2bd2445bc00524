"""Evaluating a frequency-conditioned extractor on ``mix`` data (docs/extractor.md).

A request asks one sequence for one frequency f (Hz). Its target is the component at f, or 0 when f is not
in the mixture (an *absent* request, at least ``eval.absent_separation`` Hz from every component).

    NMSE            sum (y - target)^2 / sum target^2 over the sequence, per present request
    absent power    mean y^2 / the mixture's mean component power, per absent request

Held-out sequences are the seeds ``signal.test_seed ..`` (``eval.mix_sequences`` of them); each is asked
for every one of its frequencies and for ``ABSENT_PER_SEQUENCE`` absent ones. The references get the same
requests on the same sequences, with their parameters tuned on other mixtures (seeds ``eval.tune_seed ..``,
never a test or validation seed) by the same NMSE:

    bandpass-tuned    causal Butterworth band-pass centred (geometrically) on f; order, bandwidth, gain tuned
    rls-single-tuned  known-frequency RLS told f only (what the model is told); forgetting and prior tuned
    rls-oracle-tuned  RLS told all the mixture's true frequencies, output the one at f: an oracle, since
                      the extractor is told only f
    zero              0 everywhere (NMSE 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ..config import RunConfig
from ..signals.data import request_streams
from ..signals.mix import Requests, absent_frequency
from ..signals.scenarios import MixedSignal, generate
from .baselines import bandpass_causal, rls_causal

ABSENT_PER_SEQUENCE = 2
TIME_EDGES_S = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)  # bins of the error by time since the reset (score)
GRIDS = {
    "bandpass-tuned": {"order": [1, 2, 3, 4], "bandwidth": [0.2, 0.3, 0.5, 0.7, 1.0, 1.5]},
    "rls-single-tuned": {"forgetting": [0.998, 0.999, 0.9995, 0.9998, 1.0], "regularization": [1, 10, 100, 1000, 1e4]},
    "rls-oracle-tuned": {"forgetting": [0.998, 0.999, 0.9995, 0.9998, 1.0],
                         "regularization": [0.01, 0.1, 1, 10, 100]},
}
LABELS = {
    "bandpass-tuned": "causal band-pass centred on the request, order/bandwidth/gain tuned on training mixtures",
    "rls-single-tuned": "RLS told the requested frequency only (as the model is), tuned on training mixtures",
    "rls-oracle-tuned": "oracle: RLS told all the mixture's true frequencies, tuned on training mixtures",
    "zero": "answers 0",
}


def requests_for(sig: MixedSignal, separation: float, n_absent: int = ABSENT_PER_SEQUENCE,
                 band: tuple[float, float] | None = None) -> Requests:
    """Every frequency of the sequence, then ``n_absent`` absent ones (a fixed draw from its seed)."""
    seed = int(sig.meta.get("seed", 0))
    rng = np.random.default_rng([seed, 0xAB5E])
    band = band or (float(sig.frequencies.min()), float(sig.frequencies.max()))
    absent = [absent_frequency(band, rng, sig.frequencies, separation) for _ in range(n_absent)]
    absent = [f for f in absent if np.isfinite(f)]
    freqs = np.concatenate([sig.frequencies, absent])
    which = np.concatenate([np.arange(sig.n_freqs), -np.ones(len(absent), dtype=np.int64)])
    return Requests(frequencies=freqs, which=which.astype(np.int64))


def time_edges(sig: MixedSignal, edges_s=TIME_EDGES_S) -> list[float]:
    """The time bins of :func:`score`'s ``nmse_by_time`` in seconds since the reset, the sequence's end last
    (edges past the end are dropped)."""
    end = sig.n_samples / sig.fs
    return [float(e) for e in edges_s if e < end] + [end]


def score(outputs: np.ndarray, sig: MixedSignal, req: Requests) -> dict:
    """outputs (Q, N) -> NMSE of each present request, relative power of each absent one, and each present
    request's NMSE split by time since the reset (``nmse_by_time``: one value per bin of :func:`time_edges`,
    each the bin's squared error over the whole target's energy, so a request's values add up to its NMSE)."""
    power = float((sig.targets ** 2).mean(axis=1).mean())  # the mixture's mean component power
    cuts = np.round(np.asarray(time_edges(sig)) * sig.fs).astype(int)
    nmse, absent, by_time = [], [], []
    for q in range(len(req.frequencies)):
        if req.which[q] >= 0:
            tgt = sig.targets[req.which[q]]
            err = (outputs[q] - tgt) ** 2 / (tgt ** 2).sum()  # (N,)
            nmse.append(float(err.sum()))
            by_time.append([float(err[a:b].sum()) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
        else:
            absent.append(float((outputs[q] ** 2).mean() / power))
    return {"nmse": nmse, "absent_power": absent, "nmse_by_time": by_time}


# ---------------------------------------------------------------------------------------------- references
def _one(sig: MixedSignal, frequencies) -> MixedSignal:
    return MixedSignal(t=sig.t, S=sig.S, targets=np.zeros((len(frequencies), sig.n_samples)),
                       frequencies=np.asarray(frequencies, dtype=np.float64), fs=sig.fs)


def bandpass_ref(sig: MixedSignal, req: Requests, order: int, bandwidth: float, gain: float = 1.0) -> np.ndarray:
    """(Q, N) causal band-pass outputs, unit gain at the requested frequency, times ``gain``."""
    return np.stack([bandpass_causal(_one(sig, [f]), order, bandwidth, "geometric")[0] * gain
                     for f in req.frequencies])


def rls_single_ref(sig: MixedSignal, req: Requests, forgetting: float, regularization: float) -> np.ndarray:
    """(Q, N) RLS told the requested frequency only."""
    return np.stack([rls_causal(_one(sig, [f]), forgetting, regularization)[0] for f in req.frequencies])


def rls_oracle_ref(sig: MixedSignal, req: Requests, forgetting: float, regularization: float) -> np.ndarray:
    """(Q, N) RLS told the true frequencies (and, for an absent request, that one too): the row at f."""
    absent = req.frequencies[req.absent]
    freqs = np.concatenate([sig.frequencies, absent])
    out = rls_causal(_one(sig, freqs), forgetting, regularization) / len(freqs)  # undo the 1/K scaling
    rows = np.where(req.which >= 0, req.which, sig.n_freqs + np.cumsum(req.absent) - 1)
    return out[rows]


REFERENCES: dict[str, Callable[..., np.ndarray]] = {
    "bandpass-tuned": bandpass_ref, "rls-single-tuned": rls_single_ref, "rls-oracle-tuned": rls_oracle_ref,
}


def tuning_signals(cfg: RunConfig) -> list[MixedSignal]:
    """The mixtures the references are tuned on: seeds eval.tune_seed .. (never a test or validation seed)."""
    return [generate(cfg.signal, cfg.eval.tune_seed + i) for i in range(cfg.eval.tune_sequences)]


def tune_references(signals: list[MixedSignal], separation: float) -> dict[str, dict]:
    """Each reference's parameters: the grid point with the lowest mean NMSE of the present requests on
    ``signals`` (the band-pass's gain then fitted in closed form). Returns {name: {params, nmse, grid}}."""
    asked = [(sig, requests_for(sig, separation, n_absent=0)) for sig in signals]
    tuned = {}
    for name, fn in REFERENCES.items():
        grid = GRIDS[name]
        best = None
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values, strict=True))
            outs = [fn(sig, req, **params) for sig, req in asked]
            if name == "bandpass-tuned":  # least-squares gain over every request
                num = sum(float((o * sig.targets[req.which]).sum()) for o, (sig, req) in zip(outs, asked, strict=True))
                den = sum(float((o ** 2).sum()) for o in outs)
                params["gain"] = num / den if den > 0 else 1.0
                outs = [o * params["gain"] for o in outs]
            nmse = float(np.mean([np.mean(score(o, sig, req)["nmse"])
                                  for o, (sig, req) in zip(outs, asked, strict=True)]))
            if best is None or nmse < best[1]:
                best = (params, nmse)
        edge = [k for k, v in best[0].items() if k in grid and len(grid[k]) > 1 and v in (grid[k][0], grid[k][-1])]
        tuned[name] = {"params": best[0], "tuning_nmse": best[1], "grid": grid, "at_grid_edge": edge}
    return tuned


# ---------------------------------------------------------------------------------------------- the model
def model_outputs(model, sig: MixedSignal, req: Requests, cfg: RunConfig, fs: float | None = None) -> np.ndarray:
    """(Q, N) the conditioned model's outputs for every request on ``sig`` (one fused call, from the reset).

    ``fs``: the rate the requests' Hz refer to (the file's); the model works in cycles per sample."""
    import torch

    nu = req.frequencies / (fs or sig.fs)
    x = request_streams(sig.S[None], nu[None], cfg.model.conditioning, cfg.signal.band[1] / cfg.signal.fs)
    p = next(model.parameters())
    with torch.no_grad():
        y, _ = model(torch.as_tensor(x, dtype=p.dtype, device=p.device))  # (Q, N)
    return y.double().cpu().numpy()


def summarize(scores: list[dict]) -> dict:
    nmse = [v for s in scores for v in s["nmse"]]
    absent = [v for s in scores for v in s["absent_power"]]
    by_time = [v for s in scores for v in s["nmse_by_time"]]
    return {"nmse": float(np.mean(nmse)), "nmse_median": float(np.median(nmse)), "requests": len(nmse),
            "nmse_by_time": np.mean(by_time, axis=0).tolist() if by_time else [],
            "absent_power": float(np.mean(absent)) if absent else None,
            "absent_power_max": float(np.max(absent)) if absent else None, "absent_requests": len(absent)}


def held_out_signals(cfg: RunConfig) -> list[MixedSignal]:
    return [generate(cfg.signal, cfg.signal.test_seed + i) for i in range(cfg.eval.mix_sequences)]


def evaluate_mix(model, cfg: RunConfig, signals: list[MixedSignal] | None = None,
                 tuned: dict | None = None) -> dict:
    """The metrics (docs/extractor.md) of the model and the tuned references on the held-out sequences."""
    signals = signals if signals is not None else held_out_signals(cfg)
    sep = cfg.eval.absent_separation
    tuned = tuned if tuned is not None else tune_references(tuning_signals(cfg), sep)
    asked = [(sig, requests_for(sig, sep, band=cfg.signal.band)) for sig in signals]
    model_scores = [score(model_outputs(model, sig, req, cfg), sig, req) for sig, req in asked]
    refs = {}
    for name, fn in REFERENCES.items():
        scores = [score(fn(sig, req, **tuned[name]["params"]), sig, req) for sig, req in asked]
        refs[name] = {**summarize(scores), "params": tuned[name]["params"], "label": LABELS[name],
                      "oracle": name == "rls-oracle-tuned", "tuning": {k: v for k, v in tuned[name].items()
                                                                        if k != "params"}}
    refs["zero"] = {"nmse": 1.0, "absent_power": 0.0, "label": LABELS["zero"], "oracle": False}
    m = summarize(model_scores)
    out = {
        "sequences": [int(s.meta.get("seed", -1)) for s in signals],
        "noise_sigma": cfg.signal.noise_sigma,
        "model": {**m, "per_sequence": model_scores,
                  "per_request": [{"seed": int(sig.meta.get("seed", -1)), "hz": float(f), "present": bool(w >= 0)}
                                  for sig, req in asked for f, w in zip(req.frequencies, req.which, strict=True)]},
        "references": refs,
        "ratios": {name: m["nmse"] / r["nmse"] for name, r in refs.items() if r["nmse"]},
        "tune_seeds": [cfg.eval.tune_seed + i for i in range(cfg.eval.tune_sequences)],
        "time_edges_s": time_edges(signals[0]),
    }
    out["verdict"] = verdict(out)
    return out


def verdict(result: dict) -> dict:
    """The ``mix`` target: NMSE <= 1/2 the tuned band-pass's and <= the tuned single-frequency RLS's, and
    absent requests' output power <= 5 % of the mean component power."""
    m, r = result["model"], result["references"]
    checks = {
        "nmse <= 0.5 x bandpass-tuned": m["nmse"] <= 0.5 * r["bandpass-tuned"]["nmse"],
        "nmse <= rls-single-tuned": m["nmse"] <= r["rls-single-tuned"]["nmse"],
        "absent power <= 0.05": m["absent_power"] is not None and m["absent_power"] <= 0.05,
    }
    return {"met": all(checks.values()), "checks": checks}


def band_sweep(model, cfg: RunConfig, tuned: dict, step_hz: float = 0.5, seeds: int = 2) -> dict:
    """NMSE against the requested frequency across the band: for each f on a grid, ``seeds`` held-out
    mixtures that hold f (seeds from signal.test_seed + 1000), model and references."""
    lo, hi = cfg.signal.band
    grid = np.arange(lo, hi + 1e-9, step_hz)
    rows = {"model": [], "bandpass-tuned": [], "rls-single-tuned": []}
    for f in grid:
        per = {k: [] for k in rows}
        for i in range(seeds):
            sig = mixture_holding(cfg, float(f), cfg.signal.test_seed + 1000 + i)
            req = Requests(frequencies=np.array([f]), which=np.array([0]))
            per["model"].append(score(model_outputs(model, sig, req, cfg), sig, req)["nmse"][0])
            for name in ("bandpass-tuned", "rls-single-tuned"):
                per[name].append(score(REFERENCES[name](sig, req, **tuned[name]["params"]), sig, req)["nmse"][0])
        for k in rows:
            rows[k].append(float(np.mean(per[k])))
    return {"frequencies": grid.tolist(), "nmse": rows, "seeds_per_frequency": seeds}


def mixture_holding(cfg: RunConfig, f: float, seed: int) -> MixedSignal:
    """A ``mix`` sequence whose first component is at ``f`` (the others drawn as usual, kept
    ``signal.min_separation`` away from it)."""
    import dataclasses

    rng = np.random.default_rng([seed, int(round(f * 1000))])
    s = cfg.signal
    k = int(rng.integers(s.components[0], s.components[1] + 1))
    others: list[float] = []
    while len(others) < k - 1:
        g = float(rng.uniform(*s.band))
        if all(abs(g - h) >= s.min_separation for h in [f, *others]):
            others.append(g)
    fixed = dataclasses.replace(s, mix_frequencies=(f, *others), components=(k, k))
    return generate(fixed, seed)


def evaluate_file(model, cfg: RunConfig, sig: MixedSignal, name: str) -> dict:
    """A conditioned model on one ``mix`` file (any writer, any fs): every one of its frequencies and
    ``ABSENT_PER_SEQUENCE`` absent ones are requested, in Hz at the file's fs. Its frequencies must lie in
    the model's band after that conversion."""
    from ..errors import UserError

    lo, hi = (b / cfg.signal.fs * sig.fs for b in cfg.signal.band)  # the band in Hz at the file's rate
    outside = [float(f) for f in sig.frequencies if not lo * (1 - 1e-9) <= f <= hi * (1 + 1e-9)]
    if outside:
        raise UserError(f"{name}: frequencies {outside} Hz are outside the model's band {lo:g} to {hi:g} Hz"
                        f" at the file's fs {sig.fs:g} Hz")
    req = requests_for(sig, cfg.eval.absent_separation * sig.fs / cfg.signal.fs, band=(lo, hi))
    s = score(model_outputs(model, sig, req, cfg), sig, req)
    present = [float(f) for f, w in zip(req.frequencies, req.which, strict=True) if w >= 0]
    absent = [float(f) for f, w in zip(req.frequencies, req.which, strict=True) if w < 0]
    return {"kind": "conditioned", "fs": sig.fs, "n_samples": sig.n_samples, "frequencies": present,
            "nmse": float(np.mean(s["nmse"])), "per_request_nmse": s["nmse"],
            "absent_frequencies": absent, "absent_power": s["absent_power"]}


def format_requests(metrics: dict) -> str:
    """The per-request table ``freqextract evaluate`` prints for a conditioned model."""
    lines = [f"{metrics['data']}: mean NMSE {metrics['nmse']:.5f} over {len(metrics['frequencies'])} requests"]
    lines += [f"  {f:8.3f} Hz  NMSE {v:.5f}" for f, v in zip(metrics["frequencies"], metrics["per_request_nmse"],
                                                           strict=True)]
    lines += [f"  {f:8.3f} Hz  absent: output power {v:.5f} of the mean component's"
              for f, v in zip(metrics["absent_frequencies"], metrics["absent_power"], strict=True)]
    return "\n".join(lines)


def evaluate_mix_run(model, cfg: RunConfig) -> tuple[dict, dict]:
    """What a ``mix`` run's metrics.json holds: the held-out metrics against the tuned references, at
    signal.noise_sigma and (when that is 0) at sigma = 0.1 too, and the band sweep. Also returns the
    outputs on the first test sequence, for the figures: {"test": (Q, N), "request_hz": (Q,), "which": (Q,)}."""
    import dataclasses

    tuned = tune_references(tuning_signals(cfg), cfg.eval.absent_separation)
    main = evaluate_mix(model, cfg, tuned=tuned)
    metrics = {"scenario": "mix", "kind": "conditioned", "conditioning": cfg.model.conditioning,
               "band_hz": list(cfg.signal.band), "fs": cfg.signal.fs, "test": main}
    if cfg.signal.noise_sigma == 0:
        noisy = dataclasses.replace(cfg, signal=dataclasses.replace(cfg.signal, noise_sigma=0.1))
        metrics["test_sigma_0.1"] = evaluate_mix(model, noisy, tuned=tune_references(
            tuning_signals(noisy), cfg.eval.absent_separation))
    metrics["band"] = band_sweep(model, cfg, tuned)
    first = generate(cfg.signal, cfg.signal.test_seed)
    req = requests_for(first, cfg.eval.absent_separation, band=cfg.signal.band)
    outputs = {"test": model_outputs(model, first, req, cfg), "request_hz": req.frequencies, "which": req.which}
    return metrics, outputs


def summary(metrics: dict) -> str:
    """The plain-text table at the end of a ``mix`` run: the model, then the references (one an oracle)."""
    lines = []
    for key, title in (("test", "held-out mixtures"), ("test_sigma_0.1", "held-out mixtures, sigma = 0.1")):
        if key not in metrics:
            continue
        t = metrics[key]
        lines.append(f"{title} (seeds {t['sequences'][0]}..{t['sequences'][-1]}): NMSE per present request, "
                     "output power of absent requests")
        lines.append(f"  {'model':<18} NMSE {t['model']['nmse']:.5f}   absent {t['model']['absent_power']:.5f}")
        lines.append("  references (tuned on training mixtures; the oracle is told every true frequency):")
        for name, r in t["references"].items():
            if name == "zero":
                continue
            tag = " (oracle)" if r["oracle"] else ""
            lines.append(f"  {name + tag:<27} NMSE {r['nmse']:.5f}   absent {r['absent_power']:.5f}   "
                         f"model / it: {t['ratios'][name]:.2f}")
        v = t["verdict"]
        lines.append("  target " + ("met" if v["met"] else "MISSED") + ": "
                     + ", ".join(f"{k} {'yes' if ok else 'no'}" for k, ok in v["checks"].items()))
    return "\n".join(lines)


def check_model(model, cfg: RunConfig, seeds: list[int]) -> dict:
    """The model's own metrics (no references) on freshly generated mixtures of ``seeds``: what a bundled
    model's card records and its test re-measures."""
    signals = [generate(cfg.signal, s) for s in seeds]
    asked = [(sig, requests_for(sig, cfg.eval.absent_separation, band=cfg.signal.band)) for sig in signals]
    return {"seeds": list(seeds),
            **summarize([score(model_outputs(model, sig, req, cfg), sig, req) for sig, req in asked])}


def mix_card(model, cfg: RunConfig, sig: MixedSignal, shuffle_seed: int | None = None) -> tuple[dict, dict]:
    """(card, ablation) of a conditioned model: its NMSE on ``sig``'s frequencies with S as it is and
    shuffled in time (same values, order destroyed); a model that reads S loses it (``models.card``)."""
    from ..models.card import make_card

    req = requests_for(sig, cfg.eval.absent_separation, n_absent=0)
    rng = np.random.default_rng(cfg.eval.shuffle_seed if shuffle_seed is None else shuffle_seed)
    shuffled = MixedSignal(t=sig.t, S=rng.permutation(sig.S), targets=sig.targets, frequencies=sig.frequencies,
                           fs=sig.fs, meta=sig.meta)
    nmse = float(np.mean(score(model_outputs(model, sig, req, cfg), sig, req)["nmse"]))
    with_shuffled = score(model_outputs(model, shuffled, req, cfg), sig, req)["nmse"]
    ablation = {"test_mse_S_shuffled": float(np.mean(with_shuffled)), "test_mse_S_zeroed": 1.0}
    card = make_card("mix", nmse, ablation)
    card.update({"kind": "conditioned", "band_hz": list(cfg.signal.band), "fs": cfg.signal.fs,
                 "measure": "NMSE of the test sequence's frequencies"})
    return card, ablation
