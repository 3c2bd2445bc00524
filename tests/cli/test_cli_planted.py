"""A planted clock end to end on the command line: trained by the polish alone, its tiny errors printed."""

from __future__ import annotations

from freqextract.cli import main

SHORT = ["--set", "signal.duration=2.0", "--set", "train.polish_iters=2", "--set", "train.polish_realisations=1"]


def test_train_and_evaluate_a_planted_clock(tmp_path, capsys):
    run = tmp_path / "planted"
    assert main(["train", "--config", "spec-planted", *SHORT, "--quiet", "--out", str(run)]) == 0
    data = tmp_path / "s5.npz"
    assert main(["generate", "--seed", "5", "--set", "signal.duration=2.0", "--out", str(data)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "checkpoints" / "final.pt"), "--data", str(data)]) == 0
    captured = capsys.readouterr()
    assert "a clock planted at init (model.init = rotation)" in captured.err
    lines = [line.strip() for line in captured.out.splitlines() if " Hz: " in line]
    assert len(lines) == 4 and all("e-0" in line for line in lines[2:])  # 5 and 7 Hz below 1e-6
    assert not any(line.endswith(": 0.000000") for line in lines)
