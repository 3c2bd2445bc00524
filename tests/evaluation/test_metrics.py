"""Metrics against hand-computed values on known signals; drift, time bins, seeds, ablations, the row CSV."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from freqextract.config import SignalConfig, load
from freqextract.evaluation.metrics import (
    ablations,
    error_vs_time,
    improvement,
    input_mixture_estimate,
    mse,
    multi_seed,
    pearson_r,
    phase_drift,
    predict,
    predict_many,
    r2_score,
    signal_metrics,
    snr_db,
    t_interval,
    write_rows_csv,
)
from freqextract.evaluation.run_eval import evaluate_all, summary
from freqextract.models.lstm import StatefulLSTM
from freqextract.signals.data import to_table
from freqextract.signals.scenarios import generate

FS = 1000.0


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny LSTMs: one torch thread (a second one only adds synchronisation, badly so on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


FREQS = np.array([1.0, 3.0, 5.0, 7.0])
T = np.arange(10_000) / FS
SINES = np.sin(2 * np.pi * FREQS[:, None] * T)  # (4, 10 000): whole periods of unit sines


# ---------------------------------------------------------------------------------------------- pointwise
def test_perfect_output():
    m = signal_metrics(SINES, SINES)
    assert m["mse"] == 0.0 and m["per_frequency_mse"] == [0.0] * 4 and m["rmse"] == 0.0
    assert m["r2"] == 1.0 and m["per_frequency_r2"] == [1.0] * 4
    assert m["pearson_r"] == pytest.approx(1.0) and m["per_frequency_pearson_r"] == pytest.approx([1.0] * 4)
    assert m["snr_db"] is None  # infinite: no error at all


def test_zero_output_on_unit_sines():
    m = signal_metrics(np.zeros_like(SINES), SINES)
    assert m["mse"] == pytest.approx(0.5, abs=1e-12)  # mean of sin^2 over whole periods
    assert m["per_frequency_mse"] == pytest.approx([0.5] * 4, abs=1e-12)
    assert m["r2"] == pytest.approx(0.0, abs=1e-12)
    assert m["pearson_r"] is None and m["per_frequency_pearson_r"] == [None] * 4  # constant: no correlation
    assert m["snr_db"] == pytest.approx(0.0, abs=1e-9)


def test_hand_computed_small_arrays():
    y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 2.0]])
    o = np.array([[1.0, 2.0, 4.0], [1.0, 0.0, 2.0]])
    m = mse(o, y)
    assert m["mse"] == pytest.approx(2 / 6) and m["per_frequency_mse"] == pytest.approx([1 / 3, 1 / 3])
    r2, r2_k = r2_score(o, y)
    # row 1: SSE 1, SST 2 -> 0.5; row 2: SSE 1, SST 8/3 -> 0.625; pooled: SST around the pooled mean 4/3
    assert r2_k == pytest.approx([0.5, 1 - 1 / (8 / 3)])
    pooled_sst = ((y - y.mean()) ** 2).sum()
    assert r2 == pytest.approx(1 - 2 / pooled_sst)
    ramp = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    _, r_k = pearson_r(np.array([[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]]), ramp)
    assert r_k == pytest.approx([1.0, -1.0])
    snr, snr_k = snr_db(o, y)
    assert snr_k == pytest.approx([10 * math.log10(14 / 1), 10 * math.log10(4 / 1)])
    assert snr == pytest.approx(10 * math.log10(18 / 2))


def test_snr_of_a_known_noise_level():
    """Unit sines plus white noise of std 0.1: SNR = 10 log10(0.5 / 0.01) = 16.99 dB."""
    noise = np.random.default_rng(0).normal(0.0, 0.1, SINES.shape)
    m = signal_metrics(SINES + noise, SINES)
    assert m["snr_db"] == pytest.approx(10 * math.log10(0.5 / 0.01), abs=0.1)
    assert m["mse"] == pytest.approx(0.01, rel=0.03)
    assert m["r2"] == pytest.approx(1 - 0.01 / 0.5, abs=0.002)
    half = signal_metrics(0.5 * SINES, SINES)
    assert half["snr_db"] == pytest.approx(20 * math.log10(2), abs=1e-9)  # error power is a quarter


def test_improvement_in_db():
    imp = improvement({"mse": 0.01, "per_frequency_mse": [0.01, 0.001]},
                      {"mse": 0.1, "per_frequency_mse": [0.1, 0.1]})
    assert imp["db"] == pytest.approx(10.0) and imp["per_frequency_db"] == pytest.approx([10.0, 20.0])
    assert imp["mse_delta"] == pytest.approx(0.09)
    perfect = {"mse": 0.0, "per_frequency_mse": [0.0]}
    assert improvement(perfect, {"mse": 0.5, "per_frequency_mse": [0.5]})["db"] is None


def test_input_mixture_estimate_is_S_for_every_component(spec_test):
    est = input_mixture_estimate(spec_test)
    assert est.shape == spec_test.targets.shape and all(np.array_equal(r, spec_test.S) for r in est)
    # under the spec S is uncorrelated with the targets: MSE = E[S^2] + 1/2 = E[A^2]/8 + 1/2 ~ 0.627
    assert mse(est, spec_test.targets)["mse"] == pytest.approx(1.01333 / 8 + 0.5, abs=0.01)


def test_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        signal_metrics(np.zeros((4, 10)), np.zeros((4, 11)))


# ---------------------------------------------------------------------------------------------- time, drift
def test_error_vs_time_bins_and_settle_time():
    out = SINES.copy()
    out[:, :500] += 0.2  # error 0.2 during the first 0.5 s only
    evt = error_vs_time(out, SINES, FS)
    assert evt["bin_seconds"] == 0.5 and len(evt["bin_start_s"]) == 20 and evt["bin_start_s"][1] == 0.5
    assert evt["mse"][0] == pytest.approx(0.04) and max(evt["mse"][1:]) == pytest.approx(0.0, abs=1e-20)
    assert evt["per_frequency_mse"][2][0] == pytest.approx(0.04)
    assert evt["per_frequency_settle_time_s"] == pytest.approx([0.5] * 4)
    late = SINES.copy()
    late[0, -50:] += 1.0  # 1 Hz wrong at the very end: never settles
    assert error_vs_time(late, SINES, FS)["per_frequency_settle_time_s"] == [None, 0.0, 0.0, 0.0]
    short = error_vs_time(SINES[:, :1000], SINES[:, :1000], FS)
    assert short["bin_seconds"] == pytest.approx(0.1) and len(short["mse"]) == 10  # 1 s signal: tenths


def test_a_half_period_phase_error_is_caught():
    d = phase_drift(-SINES, SINES, FREQS, FS)["per_frequency"]
    for entry in d:
        assert abs(entry["phase_error_start_deg"]) == pytest.approx(180.0, abs=0.01)
        assert abs(entry["phase_error_end_deg"]) == pytest.approx(180.0, abs=0.01)
        assert entry["frequency_error_hz"] == pytest.approx(0.0, abs=1e-6)
        assert entry["amplitude_ratio_end"] == pytest.approx(1.0, abs=1e-6)
    exact = phase_drift(SINES, SINES, FREQS, FS)["per_frequency"]
    assert all(abs(e["max_abs_phase_error_deg"]) < 1e-6 for e in exact)


def test_a_slip_in_the_middle_and_a_frequency_offset_are_caught():
    slip = SINES.copy()
    slip[:, 5000:] *= -1  # the oscillator jumps half a period at t = 5 s
    for e in phase_drift(slip, SINES, FREQS, FS)["per_frequency"]:
        assert abs(e["phase_error_start_deg"]) < 1e-6
        assert abs(e["phase_error_end_deg"]) == pytest.approx(180, abs=0.01)
    fast = np.sin(2 * np.pi * (FREQS[:, None] + 0.01) * T)  # 10 mHz too fast: 36 degrees per second
    for e, f in zip(phase_drift(fast, SINES, FREQS, FS)["per_frequency"], FREQS, strict=True):
        assert e["frequency_error_hz"] == pytest.approx(0.01, abs=5e-4)
        assert e["estimated_frequency_hz"] == pytest.approx(f + 0.01, abs=5e-4)
        assert e["phase_error_end_deg"] == pytest.approx(360 * 0.01 * (10 - 0.5 / f), abs=2.0)


def test_no_oscillation_means_no_phase():
    d = phase_drift(np.zeros_like(SINES), SINES, FREQS, FS)["per_frequency"]
    assert all(e["locked_windows"] == 0 for e in d)
    assert all(e["phase_error_end_deg"] is None and e["frequency_error_hz"] is None for e in d)
    assert json.dumps(d, allow_nan=False)  # still valid JSON


# ---------------------------------------------------------------------------------------------- seeds
def test_t_interval_by_hand():
    ci = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)  # t_{0.975, 4} * s / sqrt(n)
    assert ci["mean"] == 3.0 and ci["std"] == pytest.approx(math.sqrt(2.5))
    assert ci["ci95"] == pytest.approx([3 - half, 3 + half]) and ci["ci95_halfwidth"] == pytest.approx(half)
    assert t_interval([0.2])["ci95"] is None


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return StatefulLSTM(n_inputs=5, hidden_size=8).eval()


def test_predict_many_equals_predict(tiny_model):
    cfg = SignalConfig(duration=0.3)
    sigs = [generate(cfg, s) for s in (2, 3, 4)]
    many = predict_many(tiny_model, sigs, max_streams=8)  # two forward passes (2 signals, then 1)
    assert many.shape == (3, 4, 300)
    for got, sig in zip(many, sigs, strict=True):
        assert np.allclose(got, predict(tiny_model, sig), atol=1e-6)


def test_multi_seed_statistics(tiny_model):
    cfg = SignalConfig(duration=0.3)
    ms = multi_seed(tiny_model, cfg, range(2, 12))
    assert ms["seeds"] == list(range(2, 12)) and len(ms["mse"]) == 10 and len(ms["per_frequency_mse"]) == 10
    sig5 = generate(cfg, 5)
    assert ms["mse"][3] == pytest.approx(mse(predict(tiny_model, sig5), sig5.targets)["mse"])
    assert ms["mean"] == pytest.approx(np.mean(ms["mse"]))
    lo, hi = ms["ci95"]
    assert lo < ms["mean"] < hi and len(ms["per_frequency"]) == 4


def test_ablations_of_a_model_that_ignores_S(tiny_model):
    sig = generate(SignalConfig(duration=0.3), 2)
    deaf = StatefulLSTM(n_inputs=5, hidden_size=8).eval()
    deaf.load_state_dict(tiny_model.state_dict())
    with torch.no_grad():
        deaf.lstm.weight_ih_l0[:, 0] = 0.0  # the column that multiplies S
    base = mse(predict(deaf, sig), sig.targets)["mse"]
    a = ablations(deaf, sig, shuffle_seed=1)
    assert a["test_mse_S_zeroed"] == pytest.approx(base, abs=1e-12)
    assert a["test_mse_S_shuffled"] == pytest.approx(base, abs=1e-12)
    b = ablations(tiny_model, sig, shuffle_seed=1)  # a model that does read S
    reads = mse(predict(tiny_model, sig), sig.targets)["mse"]
    assert b["test_mse_S_shuffled"] != pytest.approx(reads, abs=1e-9)


# ---------------------------------------------------------------------------------------------- files, all
def test_rows_csv_is_the_table_plus_output_and_error(tmp_path):
    sig = generate(SignalConfig(duration=0.05), 2)
    out = np.random.default_rng(1).normal(size=sig.targets.shape)
    path = write_rows_csv(tmp_path / "rows.csv", sig, out)
    header = path.read_text().splitlines()[0]
    assert header == "t,S,C1,C2,C3,C4,target,output,error"
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    assert rows.shape == (4 * 50, 9)
    assert np.array_equal(rows[:, :7], to_table(sig))
    assert np.array_equal(rows[:, 7], out.reshape(-1))  # frequency-major, like the table
    assert np.allclose(rows[:, 8], out.reshape(-1) - sig.targets.reshape(-1), atol=1e-15)
    with pytest.raises(ValueError):
        write_rows_csv(tmp_path / "bad.csv", sig, out[:, :10])


def test_evaluate_all_with_baselines(tiny_model):
    cfg = load("quick", ["model.hidden_size=8"])
    tr, te = generate(cfg.signal, 1), generate(cfg.signal, 2)
    m, outputs = evaluate_all(tiny_model, cfg, tr, te, "cpu",
                              baselines={"zero": np.zeros_like(te.targets), "oracle": te.targets})
    json.dumps(m, allow_nan=False)  # strict JSON: no NaN or Infinity anywhere
    assert outputs["test"].shape == te.targets.shape
    for key in ("r2", "pearson_r", "snr_db", "rmse", "per_frequency_r2", "per_frequency_snr_db"):
        assert key in m["test"] and key in m["train"]
    assert m["generalization_gap"] == pytest.approx(m["test"]["mse"] - m["train"]["mse"])
    assert m["generalization_gap_relative"] == pytest.approx(m["generalization_gap"] / m["train"]["mse"])
    assert m["multi_seed"]["seeds"] == list(range(2, 12))
    assert m["multi_seed"]["mse"][0] == pytest.approx(m["test"]["mse"], abs=1e-9)  # seed 2 is the test seed
    base = m["baselines"]
    assert base["oracle"]["mse"] == 0.0 and base["zero"]["mse"] == pytest.approx(0.5, abs=0.01)
    over = m["improvement"]["over_baselines"]
    assert over["zero"]["db"] == pytest.approx(10 * math.log10(base["zero"]["mse"] / m["test"]["mse"]))
    assert over["oracle"]["db"] is None  # the oracle has zero error
    assert m["improvement"]["over_input_mixture"]["db"] == pytest.approx(
        10 * math.log10(m["input_mixture"]["mse"] / m["test"]["mse"]))
    assert set(m["ablation"]) >= {"test_mse_S_zeroed", "test_mse_S_shuffled"}
    assert len(m["error_vs_time"]["mse"]) == 10 and len(m["phase_drift"]["per_frequency"]) == 4
    text = summary(m)
    assert "oracle" in text and "95% CI" in text and f"{m['test']['mse']:.5f}" in text
    with pytest.raises(ValueError, match="baseline 'short'"):
        evaluate_all(tiny_model, cfg, tr, te, "cpu", baselines={"short": np.zeros((4, 10))})
