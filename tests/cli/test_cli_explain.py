"""`freqextract explain RUN_DIR`: the table, --json, the files it writes, and one-line refusals."""

from __future__ import annotations

import json
import shutil

import pytest

from freqextract.cli import main
from freqextract.config import load
from freqextract.models import checkpoint

KEYS = ("frequencies", "free_running_hz", "ppm_error", "drift_rad_per_s", "amplitude", "with_noise", "first_10s",
        "pca", "linearised", "seconds", "fs")


@pytest.fixture
def run_dir(quick_trained, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(quick_trained, d)
    return d


def test_explain_prints_the_table_and_writes_json_and_figures(run_dir, capsys):
    assert main(["explain", str(run_dir), "--seconds", "3"]) == 0
    out = capsys.readouterr().out
    assert "free-running Hz" in out and "ppm" in out and "drift rad/s" in out
    rows = [line.split() for line in out.splitlines() if line.split() and line.split()[0].isdigit()]
    assert [r[:2] for r in rows] == [["1", "1"], ["2", "3"], ["3", "5"], ["4", "7"]]  # selector, target Hz
    data = json.loads((run_dir / "explain.json").read_text())
    assert data["seconds"] == 3.0 and all(len(data[k]) == 4 for k in ("free_running_hz", "ppm_error"))
    for fig in ("explain_rings.png", "explain_drift.png"):
        assert (run_dir / "figures" / fig).read_bytes()[:4] == b"\x89PNG"
    assert (run_dir / "explain.npz").is_file()


def test_explain_json_is_the_data_on_stdout(run_dir, capsys):
    assert main(["explain", str(run_dir), "--seconds", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(KEYS) <= set(data)
    assert data == json.loads((run_dir / "explain.json").read_text())


@pytest.mark.parametrize("case", ["missing", "no-checkpoint", "mix", "seconds"])
def test_explain_refuses_in_one_line(tmp_path, capsys, case, run_dir):
    target = tmp_path / "nowhere"
    args = []
    if case == "no-checkpoint":
        target.mkdir()
    elif case == "mix":
        cfg = load("mix")
        checkpoint.save(target / "checkpoints" / "final.pt", checkpoint.build_model(cfg), cfg, step=0)
    elif case == "seconds":
        target, args = run_dir, ["--seconds", "0"]
    assert main(["explain", str(target), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("freqextract: error: ")
    expect = {"missing": f"{target}: no such run directory", "no-checkpoint": "no checkpoints/final.pt",
              "mix": "frequency-conditioned (scenario mix)", "seconds": "seconds: must be"}[case]
    assert expect in err
    assert not (target / "explain.json").exists()
