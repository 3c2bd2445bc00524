"""Tuned references: chosen on training-side seeds, never on test seeds, same seeds same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.evaluation import references as refs
from freqextract.evaluation.baselines import bandpass_causal, rls_causal
from freqextract.signals.scenarios import generate

CFG = SignalConfig(scenario="offsets", phase_scale=0.1, duration=2.0)


@pytest.fixture(scope="module")
def record():
    return refs.tune(CFG, [1001, 1002, 1003])


def _mse(out, sig) -> float:
    return float(np.mean((out - sig.targets) ** 2))


def test_record_is_complete_and_inside_its_grids(record):
    assert record["seeds"] == [1001, 1002, 1003]
    assert set(record["references"]) == {"rls-tuned", "bandpass-tuned"}
    for name, rec in record["references"].items():
        assert all(where != "grid edge" for where in rec["edges"].values()), (name, rec["edges"])
        assert rec["score"] == min(s["score"] for s in rec["scores"])
    gain = record["references"]["bandpass-tuned"]["params"]["gain"]
    assert len(gain) == 4 and all(0.5 < g < 2 for g in gain)


def test_tuned_is_no_worse_than_the_defaults_on_the_tuning_data(record):
    sigs = refs.tuning_signals(CFG, record["seeds"])
    tuned = [refs.run_tuned(s, record) for s in sigs]
    for name, default in (("rls-tuned", rls_causal), ("bandpass-tuned", bandpass_causal)):
        assert (np.mean([_mse(t[name], s) for t, s in zip(tuned, sigs, strict=True)])
                <= np.mean([_mse(default(s), s) for s in sigs]) + 1e-12), name


def test_the_tuned_rls_generalises_to_test_seeds(record):
    sig = generate(CFG, 2)
    out = refs.run_tuned(sig, record)["rls-tuned"]
    assert out.shape == sig.targets.shape
    assert _mse(out, sig) < 0.05


def test_same_seeds_same_numbers(record):
    again = refs.tune(CFG, [1001, 1002, 1003])
    assert again == record


def test_tuning_on_a_test_seed_is_refused():
    with pytest.raises(UserError, match="test seed"):
        refs.tune(CFG, [5, 6], test_seeds=range(2, 12))


def test_kinds_label_every_reference():
    k = refs.kinds(["zero", "clock-oracle", "bandpass-causal", "bandpass-zero-phase", "rls-causal",
                    "rls-tuned", "bandpass-tuned", "bayes-smc"])
    assert k == {"zero": "trivial", "clock-oracle": "oracle", "bandpass-causal": "untuned",
                 "bandpass-zero-phase": "non-causal", "rls-causal": "untuned", "rls-tuned": "tuned",
                 "bandpass-tuned": "tuned", "bayes-smc": "Bayes"}
