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


def test_without_config_run_and_train_plant_the_clock(tmp_path, capsys):
    """The default run is spec-planted: no Adam step, one init, the polish; its lines say so."""
    import tomllib

    run = tmp_path / "default"
    assert main(["train", *SHORT, "--quiet", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    cfg = tomllib.loads((run / "config.toml").read_text(encoding="utf-8"))
    assert cfg["model"]["init"] == "rotation" and cfg["train"]["candidates"] == 1
    assert cfg["train"]["warmup_steps"] + cfg["train"]["growth_steps"] + cfg["train"]["final_steps"] == 0
    assert "no Adam step, up to 2 L-BFGS iterations at 2000 samples" in out
    assert "(kept candidate: the polish only)" in out and "0.00000" not in out


def test_the_learned_clock_is_config_spec(capsys):
    from freqextract.config import DEFAULT_RUN, RunConfig, load

    assert load("spec") == RunConfig() and load("spec").model.init == "forget-bias"
    assert load(DEFAULT_RUN).model.init == "rotation"
    try:
        main(["run", "--help"])
    except SystemExit:
        pass
    assert f"default: {DEFAULT_RUN}" in " ".join(capsys.readouterr().out.split())
