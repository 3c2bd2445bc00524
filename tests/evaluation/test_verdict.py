"""The verdict of a run against its scenario's target."""

from __future__ import annotations

from freqextract.evaluation.verdict import verdict

FREQS = [1.0, 3.0, 5.0, 7.0]


def _metrics(scenario: str, per: list[float], baselines: dict | None = None) -> dict:
    m = {"scenario": scenario, "frequencies": FREQS, "test": {"mse": sum(per) / len(per), "per_frequency_mse": per}}
    if baselines is not None:
        m["baselines"] = {k: {"mse": v} for k, v in baselines.items()}
    return m


def test_spec_needs_every_frequency():
    good = verdict(_metrics("spec", [0.001, 0.002, 0.001, 0.003]))
    assert good["met"] is True and good["text"].startswith("verdict: target MET for scenario spec")
    assert "worst frequency 7 Hz at 0.00300" in good["numbers"]
    one_left = verdict(_metrics("phase-scaled", [0.0001, 0.0001, 0.0001, 0.015]))  # mean 0.0038: one fails
    assert one_left["met"] is False and "MISSED" in one_left["text"]


def test_a_failed_run_says_it_is_no_better_than_answering_zero():
    v = verdict(_metrics("spec", [0.43, 0.95, 0.78, 0.61]))
    assert v["met"] is False and "no better than answering 0 (MSE 0.5)" in v["text"]


def test_offsets_is_held_against_the_causal_references_tuned_first():
    base = {"rls-causal": 0.007, "bandpass-causal": 0.09}
    v = verdict(_metrics("offsets", [0.006] * 4, base))
    assert v["met"] is True and "0.86 x rls-causal (0.00700)" in v["numbers"]
    v = verdict(_metrics("offsets", [0.006] * 4, {**base, "rls-tuned": 0.003}))
    assert v["met"] is False and "2.00 x rls-tuned" in v["numbers"]
    assert verdict(_metrics("offsets", [0.006] * 4))["met"] is None  # no references, no verdict
