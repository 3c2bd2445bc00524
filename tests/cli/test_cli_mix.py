"""The general extractor from the command line: generate, run, evaluate and stream on `mix` files,
including a file written by other software (the exchange-format keys only, no meta)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli as _run

TINY = ["--set", "signal.duration=1.0", "--set", "model.hidden_size=8", "--set", "train.warmup_horizon=100",
        "--set", "train.warmup_steps=4", "--set", "train.growth_steps=1", "--set", "train.final_steps=1",
        "--set", "eval.tune_sequences=1", "--set", "eval.mix_sequences=2", "--set", "train.log_every=2"]


@pytest.fixture(scope="module")
def mix_run(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("mixcli")
    _run([*cli, "run", "--config", "mix", *TINY, "--out", str(d / "run")], d)
    return d


def test_run_writes_mix_metrics_and_report(mix_run):
    m = json.loads((mix_run / "run" / "metrics.json").read_text())
    assert m["kind"] == "conditioned" and set(m["test"]["references"]) >= {"bandpass-tuned", "rls-single-tuned",
                                                                           "rls-oracle-tuned"}
    assert m["test"]["references"]["rls-oracle-tuned"]["oracle"] and "test_sigma_0.1" in m
    assert (mix_run / "run" / "figures" / "band.png").exists()
    html = (mix_run / "run" / "report.html").read_text()
    assert "Held-out mixtures" in html and "Where the error is" in html
    t = m["test"]
    assert t["time_edges_s"] == [0.0, 0.25, 0.5, 1.0]  # the TINY runs are 1 s long
    for r in (t["model"], t["references"]["bandpass-tuned"]):
        assert sum(r["nmse_by_time"]) == pytest.approx(r["nmse"])


def test_generate_evaluate_and_stream_a_foreign_mix_file(cli, mix_run):
    d = mix_run
    _run([*cli, "generate", "--scenario", "mix", "--set", "signal.mix_frequencies=[2.5, 6.8]",
          "--set", "signal.duration=1.0", "--seed", "40", "--out", str(d / "m.npz")], d)
    z = np.load(d / "m.npz")
    foreign = d / "foreign.npz"  # another writer: the exchange-format keys, no meta, at 2 kHz
    t = np.arange(2000) / 2000.0
    targets = np.stack([0.7 * np.sin(2 * np.pi * 5.0 * t + 1), 0.4 * np.sin(2 * np.pi * 13.6 * t)])
    np.savez(foreign, t=t, S=targets.sum(0), targets=targets, frequencies=np.array([5.0, 13.6]), fs=2000.0)
    assert z["frequencies"].tolist() == [2.5, 6.8]
    ckpt = str(d / "run" / "checkpoints" / "final.pt")
    ev = _run([*cli, "evaluate", "--checkpoint", ckpt, "--data", str(d / "m.npz")], d)
    assert "mean NMSE" in ev.stdout and "absent" in ev.stdout
    out = _run([*cli, "stream", "--checkpoint", ckpt, "--input", str(foreign), "--freq", "5", "13.6"], d)
    header, *rows = out.stdout.splitlines()
    assert header == "t,f5Hz,f13.6Hz" and len(rows) == 2000
    bad = _run([*cli, "stream", "--checkpoint", ckpt, "--input", str(foreign), "--freq", "41"], d, check=False)
    assert bad.returncode == 2 and "outside the model's band 1 to 40 Hz at fs 2000 Hz" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_init_from_transfers_and_refuses_resume(cli, mix_run):
    d = mix_run
    ckpt = str(d / "run" / "checkpoints" / "final.pt")
    _run([*cli, "train", "--config", "mix", *TINY, "--init-from", ckpt, "--out", str(d / "t")], d)
    assert Path(ckpt).resolve().as_posix() in (d / "t" / "config.toml").read_text()
    bad = _run([*cli, "run", "--resume", str(d / "t"), "--init-from", ckpt], d, check=False)
    assert bad.returncode == 2 and "--init-from" in bad.stderr


def test_stream_with_the_bundled_extractor_needs_no_checkpoint(cli, tmp_path):
    from freqextract.serving import bundled

    if bundled.DEFAULT not in bundled.names():
        pytest.skip("no bundled extractor in this installation")
    t = np.arange(4000) / 1000.0  # another writer's mix file: the exchange-format keys only
    targets = np.stack([0.8 * np.sin(2 * np.pi * 2.5 * t + 0.3), 0.5 * np.sin(2 * np.pi * 6.8 * t + 2.0)])
    np.savez(tmp_path / "theirs.npz", t=t, S=targets.sum(0), targets=targets, frequencies=np.array([2.5, 6.8]),
             fs=1000.0)
    out = _run([*cli, "stream", "--input", str(tmp_path / "theirs.npz"), "--freq", "2.5", "6.8"], tmp_path)
    header, *rows = out.stdout.splitlines()
    assert header == "t,f2.5Hz,f6.8Hz" and len(rows) == 4000
    y = np.array([[float(v) for v in r.split(",")[1:]] for r in rows]).T
    late = slice(2000, None)  # after the lock-on, each column is its component
    nmse = ((y[:, late] - targets[:, late]) ** 2).sum(1) / (targets[:, late] ** 2).sum(1)
    assert (nmse < 0.1).all(), nmse
    assert "general extractor" in out.stderr
