"""Evaluating a trained model: the metrics of a run, their terminal summary, a checkpoint on any data file.

:func:`evaluate_all` is what a run directory's ``metrics.json`` holds (train and test metrics, the
generalization gap, the input mixture and baselines for reference, error over time, phase drift, the
multi-seed test and the S ablations); :func:`summary` is its plain-text table; :func:`evaluate_checkpoint`
measures a saved model on any exchange-format file (``freqextract evaluate``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..config import TEST_SEEDS, RunConfig
from ..errors import UserError
from ..fmt import mse as fmt_mse
from ..models import checkpoint
from ..models.card import card_of, make_card, scenario_warning
from ..runtime import configure_threads, select_device
from ..signals.data import load_signal
from .metrics import (
    ablations,
    error_vs_time,
    evaluate_signal,
    improvement,
    input_mixture_estimate,
    mse,
    multi_seed,
    phase_drift,
    predict,
    signal_metrics,
)


def time_to_target(history: list[dict], overall: float = 0.005, each: float = 0.01) -> float | None:
    """Training seconds from which the validation MSE met the targets (overall and every frequency) at
    every later record; None if the last record misses them."""
    since = None
    for rec in history:
        ok = rec.get("val_mse", 1.0) <= overall and max(rec.get("val_per_frequency_mse", [1.0])) <= each
        since = (rec["seconds"] if since is None else since) if ok else None
    return since


def model_card(model, cfg: RunConfig, test_sig, device) -> tuple[dict, dict]:
    """(card, ablation): what the model is (``models.card``), from its own S ablation on ``test_sig``."""
    configure_threads(cfg.train.threads)
    if cfg.signal.scenario == "mix":
        from .mix import mix_card

        return mix_card(model, cfg, test_sig)
    if cfg.signal.scenario == "programmable":
        from .programmable import programmable_card

        return programmable_card(model, cfg)
    ablation = ablations(model, test_sig, cfg.eval.shuffle_seed, device)
    test_mse = mse(predict(model, test_sig, device), test_sig.targets)["mse"]
    return make_card(cfg.signal.scenario, test_mse, ablation, cfg.model.init), ablation


def evaluate_all(model, cfg: RunConfig, train_sig, test_sig, device,
                 baselines: dict[str, np.ndarray] | None = None, seeds=None,
                 ablation: dict | None = None) -> tuple[dict, dict]:
    """metrics.json content and the (K, N) outputs on train and test.

    ``baselines``: optional extra estimators on the test signal, ``{name: outputs (K, N)}`` (e.g. from
    ``freqextract.evaluation.baselines.run_all(test_sig)``); each gets the same metrics as the model, and the model's
    improvement over each is reported. ``seeds``: the noise seeds of the multi-seed evaluation (default:
    ten seeds from ``signal.test_seed``, i.e. 2..11). ``ablation``: the S ablation on ``test_sig`` when it
    was measured already (:func:`model_card`).
    """
    configure_threads(cfg.train.threads)  # as in training; a parent of training workers has not set it yet
    train_m, train_out = evaluate_signal(model, train_sig, device)
    test_m, test_out = evaluate_signal(model, test_sig, device)
    gap_k = [b - a for a, b in zip(train_m["per_frequency_mse"], test_m["per_frequency_mse"], strict=True)]
    mixture = signal_metrics(input_mixture_estimate(test_sig), test_sig.targets)
    metrics = {
        "scenario": cfg.signal.scenario,
        "frequencies": [float(f) for f in test_sig.frequencies],
        "data_seeds": {"train": train_sig.meta.get("seed"), "test": test_sig.meta.get("seed")},
        "train": train_m, "test": test_m,
        "generalization_gap": test_m["mse"] - train_m["mse"],
        "generalization_gap_relative": ((test_m["mse"] - train_m["mse"]) / train_m["mse"]
                                        if train_m["mse"] > 0 else None),
        "per_frequency_generalization_gap": gap_k,
        "baseline_zero_output": mse(np.zeros_like(test_sig.targets), test_sig.targets),
        "input_mixture": mixture,
        "improvement": {"over_input_mixture": improvement(test_m, mixture)},
        "error_vs_time": error_vs_time(test_out, test_sig.targets, test_sig.fs),
        "phase_drift": phase_drift(test_out, test_sig.targets, test_sig.frequencies, test_sig.fs),
    }
    if baselines:
        metrics["baselines"] = {}
        metrics["improvement"]["over_baselines"] = {}
        for name, out in baselines.items():
            out = np.asarray(out, dtype=np.float64)
            if out.shape != test_sig.targets.shape:
                raise ValueError(f"baseline {name!r}: outputs {out.shape}, expected {test_sig.targets.shape}")
            metrics["baselines"][name] = signal_metrics(out, test_sig.targets)
            metrics["improvement"]["over_baselines"][name] = improvement(test_m, metrics["baselines"][name])
    t0 = time.perf_counter()
    seeds = range(cfg.signal.test_seed, cfg.signal.test_seed + TEST_SEEDS) if seeds is None else seeds
    metrics["multi_seed"] = multi_seed(model, cfg.signal, seeds, device)
    metrics["multi_seed"]["seconds"] = time.perf_counter() - t0
    if cfg.eval.ablations:
        metrics["ablation"] = ablation or ablations(model, test_sig, cfg.eval.shuffle_seed, device)
    return metrics, {"train": train_out, "test": test_out}


def reference_kind(name: str) -> str:
    """What a reference is: an oracle (knows what the data does not give), not causal, or causal."""
    from .baselines import BASELINES

    base = BASELINES.get(name) or BASELINES.get(name.removesuffix("-tuned"))
    if base is None:
        return "reference"
    return "ORACLE: knows the target's clock, never reads S" if base.oracle else \
        "NOT causal: sees the future" if not base.causal else "causal"


def summary(metrics: dict) -> str:
    """Plain text for the terminal: the model's MSE (all rows and per frequency), then the references apart
    under a header that says which is an oracle, then what the model is and the verdict on its target."""
    from ..models.card import describe
    from .verdict import verdict

    rows: list[tuple[str, float, list]] = [(name, metrics[name]["mse"], metrics[name]["per_frequency_mse"])
                                          for name in ("train", "test")]
    ms = metrics.get("multi_seed")
    if ms and ms.get("n", 0) >= 2:
        rows.append((f"{ms['n']} seeds mean", ms["mean"], [p["mean"] for p in ms["per_frequency"]]))
    if "ablation" in metrics:
        a = metrics["ablation"]
        rows.append(("S zeroed", a["test_mse_S_zeroed"], a["per_frequency_mse_S_zeroed"]))
        rows.append(("S shuffled", a["test_mse_S_shuffled"], a["per_frequency_mse_S_shuffled"]))
    refs = [(name, m["mse"], m["per_frequency_mse"]) for name, m in metrics.get("baselines", {}).items()]
    width = max(len(r[0]) for r in rows + refs)

    def cell(v) -> str:
        return f"{fmt_mse(v):>9}" if isinstance(v, float) else f"{'-':>9}"

    def line(label, total, per, note="") -> str:
        return f"{label:>{width}} {cell(total)} " + " ".join(map(cell, per)) + (f"  ({note})" if note else "")

    head = " ".join(f"{f'{x:g} Hz':>9}" for x in metrics["frequencies"])
    lines = [f"{'this model, MSE':>{width}} {'all rows':>9} {head}"]
    lines += [line(*r) for r in rows]
    if refs:
        lines.append("references (not this model) on the same test signal:")
        lines += [line(*r, reference_kind(r[0])) for r in refs]
    if ms and ms.get("ci95"):
        lo, hi = ms["ci95"]
        lines.append(f"test MSE over seeds {ms['seeds'][0]}..{ms['seeds'][-1]}: {fmt_mse(ms['mean'])} "
                     f"(95% CI {fmt_mse(lo)} to {fmt_mse(hi)})")
    if "generalization_gap" in metrics:
        rel = metrics.get("generalization_gap_relative")
        lines.append(f"generalization gap (test - train): {fmt_mse(metrics['generalization_gap'], signed=True)}"
                     + (f" ({100 * rel:+.1f} %)" if rel is not None else ""))
    test = metrics["test"]
    if test.get("snr_db") is not None:
        imp = metrics.get("improvement", {}).get("over_input_mixture", {}).get("db")
        lines.append(f"test SNR {test['snr_db']:.1f} dB, R^2 {test['r2']:.4f}"
                     + (f", {imp:+.1f} dB over the input mixture S" if imp is not None else ""))
    if metrics.get("model_card"):
        lines.append(describe(metrics["model_card"]))
    lines.append((metrics.get("verdict") or verdict(metrics))["text"])
    return "\n".join(lines)


def evaluate_checkpoint(ckpt_path: str | Path, data_path: str | Path, device: str = "cpu",
                        with_ablations: bool = True) -> dict:
    """Metrics of a saved model on any exchange-format file; the file's frequencies must match the model's.

    The metrics hold the model's card (``model_card``: what it is, ``models.card``) and ``warnings``: the
    data's scenario, when it is not the model's.
    """
    dev = select_device(device, option="--device")
    model, cfg, ckpt = checkpoint.load_model(ckpt_path, dev)
    configure_threads(cfg.train.threads)
    sig = load_signal(data_path)
    card = card_of(ckpt, cfg.signal.scenario)
    warning = scenario_warning(card, sig.meta.get("scenario"), str(data_path))
    about = {"data": str(data_path), "checkpoint": str(ckpt_path), "freqextract": __version__,
             "data_scenario": sig.meta.get("scenario"), "model_card": card, "warnings": [warning] if warning else []}
    if cfg.signal.scenario == "mix":
        from .mix import evaluate_file

        return {**about, **evaluate_file(model, cfg, sig, str(data_path))}
    if cfg.signal.scenario == "programmable":
        raise UserError(f"{ckpt_path}: a programmable oscillator answers sin(2 pi f t) whatever the file holds; "
                        "`freqextract run` measures it (metrics.json 'programmable'), `freqextract stream` "
                        "runs it on a file")
    want = np.asarray(cfg.signal.frequencies, dtype=np.float64)
    if sig.frequencies.shape != want.shape or not np.allclose(sig.frequencies, want):
        raise UserError(f"{data_path}: frequencies {sig.frequencies.tolist()} do not match the model's "
                        f"{want.tolist()}")
    if not np.isclose(sig.fs, cfg.signal.fs):
        raise UserError(f"{data_path}: fs {sig.fs:g} Hz does not match the model's {cfg.signal.fs:g} Hz")
    out = predict(model, sig, dev)
    metrics = {**about, "frequencies": sig.frequencies.tolist(), "n_samples": sig.n_samples,
               **mse(out, sig.targets)}
    if with_ablations:
        metrics["ablation"] = ablations(model, sig, cfg.eval.shuffle_seed, dev)
    return metrics
