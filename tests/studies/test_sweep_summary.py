"""The sweep report's numbers: the spread over training seeds and the headline, from plain trial records."""

from __future__ import annotations

import pytest

from freqextract.evaluation.metrics import t_interval
from freqextract.reporting.sweep_report import headline
from freqextract.studies.sweep_summary import over_seeds


def record(number: int, seed: int, mean: float, per: list[float], state: str = "complete") -> dict:
    metrics = {"validation.mse": mean + 0.001, "test.mse": mean - 0.001, "multi_seed.mean": mean,
               "multi_seed.per_frequency_mean": per, "multi_seed.seeds": list(range(2, 12))}
    return {"number": number, "state": state, "value": mean + 0.001, "params": {"train.seed": seed},
            "metrics": metrics if state == "complete" else None, "run_dir": f"/runs/{number}"}


def test_over_seeds_is_the_t_interval_of_the_complete_trials_in_seed_order():
    trials = [record(0, 2, 0.004, [0.004, 0.003]), record(1, 0, 0.02, [0.03, 0.01]),
              record(2, 1, 0.003, [0.002, 0.004]), record(3, 3, 0.5, [0.5, 0.5], state="fail")]
    o = over_seeds(trials)
    assert [r["seed"] for r in o["rows"]] == [0, 1, 2] and o["n"] == 3
    assert o["multi_seed_mean"] == t_interval([0.02, 0.003, 0.004])
    assert o["multi_seed_per_frequency_mean"][0] == t_interval([0.03, 0.002, 0.004])
    assert [r["met_target"] for r in o["rows"]] == [False, True, True]  # 0.02 > 0.005 overall
    assert o["met_target"] == 2 and o["test_seeds"] == list(range(2, 12))
    assert over_seeds([record(0, 0, 0.5, [0.5], state="pruned")]) is None


def test_headline_names_the_best_trial_and_the_interval():
    trials = [record(0, 0, 0.004, [0.004]), record(1, 1, 0.006, [0.006])]
    summary = {"study": "s", "metric": "validation.mse", "states": {"complete": 2, "pruned": 0},
               "best": {"number": 0, "value": 0.005, "run_dir": "/runs/0"}, "over_seeds": over_seeds(trials)}
    line = headline(summary)
    assert line.startswith("study s: 2 complete; best trial 0: validation.mse 0.005 (/runs/0)")
    lo, hi = summary["over_seeds"]["multi_seed_mean"]["ci95"]
    assert f"over 2 training seeds: test MSE 0.00500 (95% CI {lo:.5f} to {hi:.5f})" in line
    assert lo < 0.005 < hi == pytest.approx(0.005 + (0.005 - lo))
