"""Every reference a model is held against, labelled: untuned, tuned, oracle, Bayes.

A run's metrics.json, ``freqextract baselines`` and the benchmarks show the same panel:

    untuned     the classical baselines at their hand-set defaults (:mod:`.baselines`)
    tuned       the same estimators with their parameters chosen on training-side seeds (:mod:`.references`)
    Bayes       bayes-smc, the particle filter approximating E[target | S_0..S_n] (:mod:`.smc`); offsets
                only, where its model of the signal holds, and knowing the scenario's noise parameters
    oracle      clock-oracle, which never reads S; non-causal: the zero-phase band-pass

:func:`signal_config_of` rebuilds a file's scenario from its meta (what ``freqextract generate`` writes);
:func:`outputs` runs the panel on one signal; :func:`compare` scores it as ``baselines.compare`` does, with
the labels and the tuning record; :func:`over_seeds` scores it on several seeds, with the model's ratio to
each reference when the model's per-seed MSEs are given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config import TEST_SEEDS, RunConfig, SignalConfig
from ..errors import UserError
from ..signals.scenarios import MixedSignal, generate
from . import baselines, references
from .smc import smc_posterior_mean

TUNABLE = ("spec", "phase-scaled", "offsets")  # the scenarios of fixed frequencies the references are tuned on
BAYES = "bayes-smc"
BAYES_SEED = 0  # the particle filter's own random numbers: fixed, so the same data give the same numbers
BAYES_DESCRIPTION = ("particle filter over the phases, approximating the posterior mean E[target | S_0..S_n] "
                     "(offsets only; knows the noise model and its parameters)")


def signal_config_of(sig: MixedSignal) -> SignalConfig | None:
    """The scenario a file was generated from, from its meta (None if the meta does not say, or names a
    scenario the references are not tuned on)."""
    meta = sig.meta or {}
    s = meta.get("signal")
    if meta.get("scenario") not in TUNABLE or not isinstance(s, dict):
        return None
    try:
        return SignalConfig(scenario=meta["scenario"], frequencies=tuple(float(f) for f in s["frequencies"]),
                            fs=float(s["fs"]), duration=float(s["duration"]),
                            amplitude=(float(s["amplitude"][0]), float(s["amplitude"][1])),
                            phase_scale=float(s["phase_scale"]), noise_sigma=float(s["noise_sigma"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def has_bayes(sig_cfg: SignalConfig | None, particles: int) -> bool:
    return sig_cfg is not None and sig_cfg.scenario == "offsets" and particles > 0


def outputs(sig: MixedSignal, sig_cfg: SignalConfig | None, record: dict | None,
            bayes_particles: int = 4096) -> dict[str, np.ndarray]:
    """Outputs (K, N) of every reference on ``sig``: the untuned baselines, the tuned ones of ``record``
    (none if None) and, on offsets, bayes-smc."""
    outs = baselines.run_all(sig)
    if record is not None:
        outs.update(references.run_tuned(sig, record))
    if has_bayes(sig_cfg, bayes_particles):
        outs[BAYES] = smc_posterior_mean(sig, sig_cfg.phase_scale, sig_cfg.amplitude, sig_cfg.noise_sigma,
                                         particles=bayes_particles, seed=BAYES_SEED)
    return outs


def labels(names: Sequence[str]) -> dict[str, dict]:
    """Per reference: kind (tuned, untuned, trivial, oracle, Bayes, non-causal), causal, description."""
    kinds = references.kinds(names)
    out = {}
    for n in names:
        if n in baselines.BASELINES:
            b = baselines.BASELINES[n]
            out[n] = {"kind": kinds[n], "causal": b.causal, "oracle": b.oracle, "description": b.description}
        elif n in references.TUNED:
            out[n] = {"kind": kinds[n], "causal": True, "oracle": False,
                      "description": references.TUNED[n].description}
        else:
            out[n] = {"kind": kinds[n], "causal": True, "oracle": False, "description": BAYES_DESCRIPTION}
    return out


def compare(sig: MixedSignal, sig_cfg: SignalConfig | None, record: dict | None, bayes_particles: int = 4096,
            **params) -> dict:
    """``baselines.compare`` with the tuned references and bayes-smc added, every entry labelled with its
    kind, and the tuning record (``tuning``; None when there was nothing to tune on)."""
    result = baselines.compare(sig, **params)
    extra = {n: o for n, o in outputs(sig, sig_cfg, record, bayes_particles).items()
             if n not in result["baselines"]}
    for name, out in extra.items():
        err = (out - sig.targets) ** 2
        result["baselines"][name] = {"mse": float(err.mean()),
                                     "per_frequency_mse": [float(v) for v in err.mean(axis=1)]}
    info = labels(list(result["baselines"]))
    for name, entry in result["baselines"].items():
        entry.update(info[name])
    result["tuning"] = record
    return result


def over_seeds(sig_cfg: SignalConfig, seeds: Sequence[int], record: dict | None, bayes_particles: int = 4096,
               model_mse: Sequence[float] | None = None) -> dict:
    """Every reference's MSE on each seed and its mean; with ``model_mse`` (the model's MSE on the same
    seeds), the model's mean over each reference's mean (``model_ratio``; below 1: the model is better)."""
    per: dict[str, list[float]] = {}
    for seed in seeds:
        sig = generate(sig_cfg, int(seed))
        for name, out in outputs(sig, sig_cfg, record, bayes_particles).items():
            per.setdefault(name, []).append(float(np.mean((out - sig.targets) ** 2)))
    mean = {n: float(np.mean(v)) for n, v in per.items()}
    result = {"seeds": [int(s) for s in seeds], "mean": mean, "mse": per,
              "kinds": {n: v["kind"] for n, v in labels(list(per)).items()}}
    if model_mse is not None:
        m = float(np.mean(model_mse))
        result["model_ratio"] = {n: m / v for n, v in mean.items() if v > 0}
    return result


def for_file(sig: MixedSignal, cfg: RunConfig | None = None, tune_on: Sequence[int] | None = None,
             bayes_particles: int | None = None, **params) -> dict:
    """:func:`compare` on a data file: its scenario from its meta (else from ``cfg``), tuned on ``tune_on``
    (else on ``cfg``'s, or the default, ``eval.tune_seed``..), never on the file's own seed nor, with a
    ``cfg``, on its test or validation seeds. Without a scenario the tuned references are left out."""
    sig_cfg = signal_config_of(sig)
    if sig_cfg is None and cfg is not None and cfg.signal.scenario in TUNABLE:
        sig_cfg = cfg.signal
        if sig_cfg.frequencies != tuple(float(f) for f in sig.frequencies) or sig_cfg.fs != sig.fs:
            raise UserError(f"--config: its frequencies {list(sig_cfg.frequencies)} at {sig_cfg.fs:g} Hz are not "
                            f"the file's {sig.frequencies.tolist()} at {sig.fs:g} Hz")
        sig_cfg = SignalConfig(**{**sig_cfg.__dict__, "duration": sig.n_samples / sig.fs})
    eval_cfg = (cfg or RunConfig()).eval
    option = "--tune-on" if tune_on else "eval.tune_seed"
    seeds = [int(s) for s in tune_on] if tune_on else eval_cfg.tuning_seeds()
    held_out = {int(sig.meta["seed"]): "the data file's own seed"} if isinstance(sig.meta.get("seed"), int) else {}
    if cfg is not None:
        s = cfg.signal
        held_out.update({x: "a test seed" for x in range(s.test_seed, s.test_seed + TEST_SEEDS)})
        held_out.setdefault(s.val_seed, "the validation seed")
    for seed in seeds:
        if seed < 0:
            raise UserError(f"{option}: seeds must be >= 0, got {seed}")
        if seed in held_out:
            raise UserError(f"{option}: seed {seed} is {held_out[seed]}; tune on training-side seeds only")
    record = references.tune(sig_cfg, seeds) if sig_cfg is not None else None
    particles = eval_cfg.bayes_particles if bayes_particles is None else bayes_particles
    if particles < 0 or particles == 1:
        raise UserError(f"--bayes-particles: must be 0 (none) or at least 2, got {particles}")
    return compare(sig, sig_cfg, record, particles, **params)


def for_run(cfg: RunConfig, test_sig: MixedSignal) -> tuple[dict[str, np.ndarray], dict]:
    """A run's references on its test signal, tuned on its ``eval.tune_seed``..: (outputs, tuning record)."""
    record = references.tune(cfg.signal, cfg.eval.tuning_seeds())
    return outputs(test_sig, cfg.signal, record, cfg.eval.bayes_particles), record


def run_record(cfg: RunConfig, record: dict, names: Sequence[str], multi_seed: dict) -> dict:
    """What a run's metrics.json says of its references: their kinds, the tuning record, and every
    reference on the multi-seed test's seeds with the model's ratio to each (``over_seeds``)."""
    return {"kinds": {n: v["kind"] for n, v in labels(list(names)).items()}, "tuning": record,
            "over_seeds": over_seeds(cfg.signal, multi_seed["seeds"], record, cfg.eval.bayes_particles,
                                     model_mse=multi_seed["mse"])}


def format_table(result: dict) -> str:
    """:func:`compare`'s result as ``baselines.format_table``'s text, the kinds shown, then the tuning."""
    lines = [baselines.format_table(result)]
    record = result.get("tuning")
    if record:
        lines += references.describe(record)
    elif record is None and "tuning" in result:
        lines.append(f"tuned references: none (they are tuned on the {', '.join(TUNABLE)} scenarios, named by "
                     "the file's meta or by --config)")
    if BAYES in result["baselines"]:
        lines.append(f"{BAYES}: {BAYES_DESCRIPTION}")
    return "\n".join(lines)
