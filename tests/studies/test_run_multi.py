"""End to end with a multi-output model (model.outputs = "all"): run, its report, evaluate on its test NPZ."""

import json
import subprocess
import sys

import pytest

from freqextract.cli import main

CLI = [sys.executable, "-m", "freqextract.cli"]


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "multi"
    proc = subprocess.run([*CLI, "run", "--config", "quick", "--set", "model.outputs=all", "--set",
                           "eval.baselines=false", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "explain.json not written: explain reads one oscillator per selector stream" in proc.stdout + proc.stderr
    return out


def test_the_run_writes_metrics_and_a_report(multi_run):
    m = json.loads((multi_run / "metrics.json").read_text())
    assert len(m["test"]["per_frequency_mse"]) == 4 and m["test"]["mse"] > 0
    assert m["multi_seed"]["n"] == 10 and len(m["multi_seed"]["per_frequency"]) == 4
    assert set(m["ablation"]) >= {"test_mse_S_zeroed", "test_mse_S_shuffled"}
    assert (multi_run / "report.html").stat().st_size > 0
    assert not (multi_run / "explain.json").exists()  # one state for all components: no per-selector oscillator


def test_evaluate_on_its_test_npz(multi_run):
    m = json.loads((multi_run / "metrics.json").read_text())
    proc = subprocess.run([*CLI, "evaluate", "--checkpoint", str(multi_run / "checkpoints" / "final.pt"),
                           "--data", str(multi_run / "data" / "test.npz"), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert again["mse"] == pytest.approx(m["test"]["mse"], abs=1e-12)
    assert again["per_frequency_mse"] == pytest.approx(m["test"]["per_frequency_mse"], abs=1e-12)


def test_explain_declines_it_in_one_line(multi_run, capsys):
    assert main(["explain", str(multi_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model.outputs = 'all'" in err
