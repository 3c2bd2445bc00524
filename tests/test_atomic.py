"""Every file the CLI writes arrives by an atomic rename of a complete temporary file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import freqextract.atomic as atomic
from freqextract.atomic import remove_leftovers, write_text
from freqextract.cli import main


@pytest.fixture
def renamed(monkeypatch) -> set[Path]:
    """The destinations of every rename atomic_path makes."""
    seen: set[Path] = set()
    real = os.replace

    def replace(src, dst):
        seen.add(Path(dst).resolve())
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    return seen


def test_every_file_the_cli_writes_is_renamed_into_place(tmp_path, renamed, monkeypatch):
    """generate, run (with its evaluation, figures, report and checkpoints) and baselines: each file they
    leave was renamed into place, and no temporary file is left."""
    monkeypatch.chdir(tmp_path)
    short = [a for s in ("train.warmup_steps=10", "train.growth_steps=4", "train.final_steps=2",
                         "train.checkpoint_every=5") for a in ("--set", s)]
    assert main(["generate", "--config", "quick", "--out", "data/x.npz", "--csv", "data/x.csv"]) == 0
    assert main(["run", "--config", "quick", *short, "--out", "run", "--quiet"]) == 0
    assert main(["baselines", "--data", "data/x.npz", "--out", "data/table.csv"]) == 0
    assert main(["baselines", "--data", "data/x.csv", "--out", "data/table.json"]) == 0
    files = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    names = {p.name for p in files}
    assert {"x.npz", "x.csv", "table.csv", "table.json", "config.toml", "metrics.json", "final.pt",
            "resume-0.pt", "history.json", "predictions.npz", "test_predictions.csv", "report.html",
            "graph1.png"} <= names
    assert files <= renamed, sorted(str(p) for p in files - renamed)
    assert not [p for p in files if atomic.LEFTOVER.fullmatch(p.name)]


def test_a_killed_write_leaves_only_a_temporary_file_that_a_resume_clears(tmp_path):
    target = tmp_path / "checkpoints" / "resume-0.pt"
    write_text(target, "old")
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        leftover = tmp.name
        raise KeyboardInterrupt  # dies before the rename
    assert target.read_text() == "old" and not (target.parent / leftover).exists()
    (target.parent / leftover).write_text("half")  # what SIGKILL leaves: no cleanup ran
    (tmp_path / ".keep").write_text("not ours")
    assert remove_leftovers(tmp_path) == [target.parent / leftover]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [".keep", "resume-0.pt"]
