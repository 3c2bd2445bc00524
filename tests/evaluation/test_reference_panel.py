"""The labelled panel of references: the scenario from a file's meta, tuning never on held-out seeds,
the CLI's --json with the tuned entries and their record, the same numbers for the same data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from freqextract.cli import main
from freqextract.config import SignalConfig, load
from freqextract.errors import UserError
from freqextract.evaluation import reference_panel as panel
from freqextract.signals.data import save_npz
from freqextract.signals.scenarios import MixedSignal, generate

CFG = SignalConfig(scenario="offsets", phase_scale=0.1, duration=1.0)


@pytest.fixture(scope="module")
def sig():
    return generate(CFG, 3)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory, sig):
    path = tmp_path_factory.mktemp("panel") / "offsets.npz"
    save_npz(sig, path)
    return path


def test_scenario_from_meta(sig):
    assert panel.signal_config_of(sig) == CFG
    bare = MixedSignal(t=sig.t, S=sig.S, targets=sig.targets, frequencies=sig.frequencies, fs=sig.fs)
    assert panel.signal_config_of(bare) is None


def test_for_file_labels_and_is_repeatable(sig):
    a = panel.for_file(sig, tune_on=[1001, 1002], bayes_particles=256)
    kinds = {n: m["kind"] for n, m in a["baselines"].items()}
    assert kinds == {"zero": "trivial", "clock-oracle": "oracle", "bandpass-causal": "untuned",
                     "bandpass-zero-phase": "non-causal", "rls-causal": "untuned", "rls-tuned": "tuned",
                     "bandpass-tuned": "tuned", "bayes-smc": "Bayes"}
    assert a["tuning"]["seeds"] == [1001, 1002]
    assert a["baselines"]["bayes-smc"]["mse"] < a["baselines"]["bandpass-tuned"]["mse"]
    assert a == panel.for_file(sig, tune_on=[1001, 1002], bayes_particles=256)  # same seed, same numbers


def test_tuning_seeds_never_overlap_held_out_ones(sig):
    with pytest.raises(UserError, match=r"^--tune-on: seed 3 is the data file's own seed"):
        panel.for_file(sig, tune_on=[1001, 3])
    cfg = load(None, ["eval.tune_seed=1", "eval.tune_sequences=1"])  # seed 1: the train seed, allowed
    assert panel.for_file(sig, cfg, bayes_particles=0)["tuning"]["seeds"] == [1]
    with pytest.raises(UserError, match=r"^--tune-on: seed 7 is a test seed"):
        panel.for_file(sig, cfg, tune_on=[7])


def test_a_file_without_its_scenario_gets_no_tuned_references(sig):
    bare = MixedSignal(t=sig.t, S=sig.S, targets=sig.targets, frequencies=sig.frequencies, fs=sig.fs)
    result = panel.for_file(bare)
    assert result["tuning"] is None and "rls-tuned" not in result["baselines"]
    assert "named by the file's meta or by --config" in panel.format_table(result)
    with_cfg = panel.for_file(bare, load("offsets", ["signal.duration=1.0"]), bayes_particles=0)
    assert "rls-tuned" in with_cfg["baselines"] and "bayes-smc" not in with_cfg["baselines"]


def test_over_seeds_gives_the_model_ratio():
    record = panel.references.tune(CFG, [1001])
    r = panel.over_seeds(CFG, [2, 3], record, bayes_particles=256, model_mse=[0.01, 0.03])
    assert r["seeds"] == [2, 3] and len(r["mse"]["rls-tuned"]) == 2
    assert r["model_ratio"]["rls-tuned"] == pytest.approx(0.02 / np.mean(r["mse"]["rls-tuned"]))
    assert r["kinds"]["bayes-smc"] == "Bayes"


def test_cli_json_has_the_tuned_references(data_file, capsys):
    assert main(["baselines", "--data", str(data_file), "--json", "--tune-on", "1001", "1002",
                 "--bayes-particles", "256"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["baselines"]["rls-tuned"]["kind"] == "tuned"
    assert result["tuning"]["seeds"] == [1001, 1002]
    assert set(result["tuning"]["references"]["rls-tuned"]["params"]) == {"forgetting", "regularization"}
    assert result["baselines"]["bayes-smc"]["kind"] == "Bayes"


def test_cli_table_says_how_each_was_tuned(data_file, capsys):
    assert main(["baselines", "--data", str(data_file), "--tune-on", "1001", "--bayes-particles", "0"]) == 0
    out = capsys.readouterr().out
    assert "rls-tuned            tuned" in out and "tuned on 1 sequences of training-side seeds" in out
    assert "bayes-smc" not in out


@pytest.mark.parametrize("args, expected", [
    (["--tune-on", "3"], "--tune-on: seed 3"),
    (["--bayes-particles", "1"], "--bayes-particles"),
    (["--set", "eval.tune_seed=5"], "eval.tune_seed"),
])
def test_cli_bad_tuning_input_one_line(data_file, capsys, args, expected):
    assert main(["baselines", "--data", str(data_file), *args]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and expected in err[0], err
