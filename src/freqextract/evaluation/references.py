"""The classical references tuned on training data, as a fair comparison requires
(docs/scenarios.md).

    name             tunes (on the tuning sequences, by their mean MSE over all rows)
    rls-tuned        rls-causal's forgetting factor lambda and regularization (prior P_0 = I / reg)
    bandpass-tuned   bandpass-causal's order, half width and centring, with a closed-form gain per
                     frequency (least squares of the filter's output on the targets)

The tuning sequences are full-length signals of the scenario drawn with training-side noise seeds
(``eval.tune_seed``, ``eval.tune_sequences``: 1001..1008 by default; config validation keeps them apart
from the test and validation seeds). The grids start around the hand-set defaults and grow where the best
value sits on an edge (:mod:`.tuning`); the record says where each chosen value sits.

On offsets the tuned RLS is the Bayes-matched Kalman filter for constant coefficients: the forgetting
goes to its bound 1 (the phases never change), and the regularization, the ratio of the residual noise
variance to the prior variance of a coefficient, lands near that ratio (s = 0.1: noise variance
(E[A^2] - m^2) / 2K = 0.0057 per sample, prior variance (m / K)^2 / 2 = 0.030 with m = E[A] E[cos phi],
ratio 0.19; the grid picks 0.1 to 0.2).

:func:`tune` returns that record (chosen parameters, grids, every score, the seeds), JSON-ready;
:func:`run_tuned` applies it to any signal. :func:`kinds` labels every reference a table shows:
'tuned', 'untuned' (a hand-set default), 'trivial' (zero), 'oracle', 'Bayes' or 'non-causal'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import SignalConfig
from ..errors import UserError
from ..signals.scenarios import MixedSignal, generate
from .baselines import BASELINES, bandpass_causal, rls_causal
from .tuning import Axis, geometric, grid_search


def _memory(factor: float) -> Callable[[float, bool], float]:
    """Extend a forgetting factor by dividing (up) or multiplying (down) the forgetting 1 - lambda."""
    return lambda v, up: 1 - (1 - v) / factor if up else 1 - (1 - v) * factor


@dataclass(frozen=True)
class TunedReference:
    name: str
    axes: tuple[Axis, ...]
    fit_gain: bool  # least-squares gain per frequency on top of the parameters
    run: Callable[..., np.ndarray]
    description: str


TUNED: dict[str, TunedReference] = {r.name: r for r in (
    TunedReference(
        "rls-tuned",
        (Axis("forgetting", (0.999, 0.9997, 0.9999, 1.0), _memory(3.0), lo=0.0, hi=1.0),
         Axis("regularization", (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0), geometric(2.0), lo=0.0)),
        False, rls_causal,
        "known-frequency RLS (Kalman filter for constant amplitudes) with forgetting and prior tuned on "
        "training seeds"),
    TunedReference(
        "bandpass-tuned",
        (Axis("order", (1, 2, 3, 4), lambda v, up: v + 1 if up else v - 1, lo=1, hi=10),
         Axis("bandwidth", (0.2, 0.3, 0.5, 0.8, 1.2), geometric(1.5), lo=0.0),
         Axis("centre", ("arithmetic", "geometric"))),
        True, bandpass_causal,
        "causal Butterworth band-pass with order, width, centring and gain tuned on training seeds"),
)}


def tuning_signals(sig_cfg: SignalConfig, seeds: Sequence[int]) -> list[MixedSignal]:
    """The full-length tuning sequences of a scenario, one per training-side seed."""
    return [generate(sig_cfg, int(s)) for s in seeds]


def _scorer(ref: TunedReference, sigs: list[MixedSignal]):
    targets = [s.targets for s in sigs]

    def score(params: dict):
        try:
            outs = [ref.run(s, **params) for s in sigs]
        except UserError:  # a grid point the estimator refuses (e.g. a band covering everything)
            return float("inf")
        if not ref.fit_gain:
            return float(np.mean([np.mean((o - y) ** 2) for o, y in zip(outs, targets, strict=True)]))
        num = sum((o * y).sum(axis=1) for o, y in zip(outs, targets, strict=True))  # (K,)
        den = sum((o * o).sum(axis=1) for o in outs)
        gain = np.where(den > 0, num / np.maximum(den, 1e-300), 1.0)
        mse = np.mean([np.mean((gain[:, None] * o - y) ** 2) for o, y in zip(outs, targets, strict=True)])
        return float(mse), {"gain": [float(g) for g in gain]}

    return score


def tune(sig_cfg: SignalConfig, seeds: Sequence[int], names: Sequence[str] | None = None,
         test_seeds: Sequence[int] = ()) -> dict:
    """Each tuned reference's chosen parameters on the tuning sequences of ``seeds``: a JSON-ready record.

    ``test_seeds``: seeds the tuning must not use (the held-out ones); a clash is a UserError.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise UserError("tuning seeds: need at least one")
    clash = sorted(set(seeds) & {int(s) for s in test_seeds})
    if clash:
        raise UserError(f"tuning seeds: {clash[0]} is also a test seed; tune on training-side seeds only")
    names = list(TUNED) if names is None else list(names)
    sigs = tuning_signals(sig_cfg, seeds)
    record = {"seeds": seeds, "scenario": sig_cfg.scenario, "criterion": "mean MSE over all rows",
              "references": {}}
    for name in names:
        if name not in TUNED:
            raise UserError(f"tuned reference {name!r}: unknown (known: {', '.join(TUNED)})")
        record["references"][name] = grid_search(_scorer(TUNED[name], sigs), TUNED[name].axes)
    return record


def run_tuned(sig: MixedSignal, record: dict) -> dict[str, np.ndarray]:
    """Outputs (K, N) of every tuned reference in ``record`` (from :func:`tune`) on ``sig``, by name."""
    outs = {}
    for name, rec in record["references"].items():
        params = dict(rec["params"])
        gain = params.pop("gain", None)
        out = TUNED[name].run(sig, **params)
        outs[name] = out if gain is None else out * np.asarray(gain)[:, None]
    return outs


def kinds(names: Sequence[str]) -> dict[str, str]:
    """How each reference was set: tuned, untuned (hand-set), trivial, oracle, Bayes or non-causal."""
    out = {}
    for n in names:
        if n in TUNED:
            out[n] = "tuned"
        elif n.startswith("bayes"):
            out[n] = "Bayes"
        elif n in BASELINES and not BASELINES[n].params:
            out[n] = "trivial" if not BASELINES[n].oracle else "oracle"
        elif n in BASELINES and BASELINES[n].oracle:
            out[n] = "oracle"
        elif n in BASELINES and not BASELINES[n].causal:
            out[n] = "non-causal"
        else:
            out[n] = "untuned"
    return out


def describe(record: dict) -> list[str]:
    """One line per tuned reference: the chosen parameters and where they sit on their grids."""
    lines = []
    for name, rec in record["references"].items():
        params = ", ".join(f"{k} {_fmt(v)}" for k, v in rec["params"].items())
        edges = ", ".join(f"{k} {v}" for k, v in rec["edges"].items())
        lines.append(f"{name}: {params} (tuning MSE {rec['score']:.6f}; {edges})")
    seeds = record["seeds"]
    lines.append(f"tuned on {len(seeds)} sequences of training-side seeds {seeds[0]}..{seeds[-1]}")
    return lines


def _fmt(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(f"{x:.3g}" for x in v) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)
