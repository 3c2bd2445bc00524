"""The programmable oscillator from the command line: a tiny run writes the held-out table, the figure and
the report; demod is refused in one line; the report can be redrawn; its checkpoint streams."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli as _run

TINY = ["--set", "signal.duration=1.0", "--set", "model.hidden_size=8", "--set", "train.warmup_horizon=100",
        "--set", "train.warmup_steps=4", "--set", "train.growth_steps=1", "--set", "train.final_steps=1",
        "--set", "train.warmup_gate=0", "--set", "train.growth_gate=0", "--set", "train.restart_gate=0",
        "--set", "train.log_every=2"]


@pytest.fixture(scope="module")
def prog_run(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("progcli")
    p = _run([*cli, "run", "--config", "programmable", *TINY, "--out", str(d / "run")], d)
    return d / "run", p.stdout + p.stderr


def test_run_writes_the_held_out_table(prog_run):
    run, _ = prog_run
    m = json.loads((run / "metrics.json").read_text())
    t = m["programmable"]
    assert m["kind"] == "programmable" and m["status"] == "ok"
    assert [r["hz"] for r in t["heldout"]] == [1.0, 3.0, 5.0, 7.0, 2.5, 8.5]
    assert not any(r["seen"] for r in t["heldout"])
    assert all(set(r) == {"hz", "seen", "mse", "first_s", "last_s"} for r in t["heldout"] + t["grid"])
    assert [r["hz"] for r in t["grid"]][:3] == [0.5, 0.75, 1.0] and t["grid"][-1]["hz"] == 10.0
    assert t["zero_mse"] == 0.5 and len(t["seeds"]) == 10
    assert t["mean_heldout_mse"] == pytest.approx(np.mean([r["mse"] for r in t["heldout"]]))
    # a one-second signal: the first and the last second are the whole of it
    assert t["heldout"][0]["first_s"] == pytest.approx(t["heldout"][0]["mse"])


def test_run_prints_a_summary_and_draws_the_figure(prog_run):
    run, out = prog_run
    assert "held-out   2.50 Hz" in out and "programmable oscillator" in out
    assert (run / "figures" / "programmable.png").stat().st_size > 1000
    assert "MSE by requested frequency" in (run / "report.html").read_text()


def test_report_redraws_a_programmable_run(prog_run, cli):
    run, _ = prog_run
    (run / "report.html").unlink()
    _run([*cli, "report", str(run)], run)
    assert "MSE by requested frequency" in (run / "report.html").read_text()


def test_its_checkpoint_streams_any_frequency(prog_run, cli):
    run, _ = prog_run
    _run([*cli, "stream", "--checkpoint", str(run / "checkpoints" / "final.pt"), "--input",
          str(run / "data" / "test.npz"), "--freq", "2.5", "4.25", "--out", str(run / "s.csv")], run)
    head = (run / "s.csv").read_text().splitlines()
    assert head[0] == "t,f2.5Hz,f4.25Hz" and len(head) == 1001


def test_demod_is_refused_in_one_line(cli, tmp_path):
    p = _run([*cli, "run", "--config", "programmable", *TINY, "--set", "model.conditioning=demod",
              "--out", str(tmp_path / "run")], tmp_path, check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and "model.conditioning" in p.stderr
    assert not (tmp_path / "run").exists()


def test_evaluate_and_explain_refuse_it_in_one_line(prog_run, cli):
    run, _ = prog_run
    ev = _run([*cli, "evaluate", "--checkpoint", str(run / "checkpoints" / "final.pt"), "--data",
               str(run / "data" / "test.npz")], run, check=False)
    ex = _run([*cli, "explain", str(run)], run, check=False)
    for p, word in ((ev, "programmable oscillator"), (ex, "scenario programmable")):
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and word in p.stderr, p.stderr
