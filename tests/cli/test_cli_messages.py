"""One clear line for the mistakes a new user makes with the tool's own files and names (in-process)."""

from __future__ import annotations

import pytest
import torch

from freqextract.cli import main
from freqextract.config import SignalConfig
from freqextract.signals.data import save_csv
from freqextract.signals.scenarios import generate


@pytest.fixture(scope="module")
def files(tmp_path_factory, stream_model):
    root = tmp_path_factory.mktemp("messages")
    (root / "config.toml").write_text("[signal]\nduration = 1.0\n")
    (root / "header-only.csv").write_text("t,S,C1,C2,C3,C4,target\n")
    (root / "semicolons.csv").write_text("0.1;0.2\n")
    (root / "S-only.csv").write_text("S\n")
    save_csv(generate(SignalConfig(duration=1.0), seed=2), root / "table.csv")
    return root, str(stream_model[0])


CASES = {
    "evaluate-a-config": (["evaluate", "--data", "config.toml"],
                          "config.toml: not an NPZ or CSV file (give a .npz in the exchange format"),
    "evaluate-header-only": (["evaluate", "--data", "header-only.csv"],
                             "header-only.csv: the header line only, no rows of data"),
    "evaluate-semicolons": (["evaluate", "--data", "semicolons.csv"],
                            "semicolons.csv: header must be t,S,C1..CK,target, got 0.1;0.2 (columns are "
                            "separated by commas, not semicolons)"),
    "stream-semicolons": (["stream", "--input", "semicolons.csv"],
                          "semicolons.csv: line 1: '0.1;0.2': columns are separated by commas, not semicolons"),
    "stream-header-only": (["stream", "--input", "S-only.csv"],
                           "S-only.csv: holds no samples (only the header line S)"),
    "stream-checkpoint-as-onnx": (["stream", "--onnx", "CKPT", "--input", "table.csv"],
                                  "not an ONNX file but a zip archive (a checkpoint? give it with --checkpoint)"),
    "run-misspelt-config": (["run", "--config", "quik", "--quiet"],
                            "quik: neither a config file nor a bundled config (bundled: "),
}


def _args(case: str, ckpt: str) -> list[str]:
    args = [ckpt if a == "CKPT" else a for a in CASES[case][0]]
    if args[0] in ("evaluate", "stream") and "--onnx" not in args:
        args[1:1] = ["--checkpoint", ckpt]
    return args


@pytest.mark.parametrize("case", list(CASES))
def test_one_clear_line(files, case, monkeypatch, capsys):
    root, ckpt = files
    monkeypatch.chdir(root)
    assert main(_args(case, ckpt)) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1, out.err
    assert out.err.startswith("freqextract: error: ") and CASES[case][1] in out.err, out.err


def test_the_misspelt_config_names_the_nearest(files, monkeypatch, capsys):
    monkeypatch.chdir(files[0])
    assert main(["generate", "--config", "quik", "--out", "x.npz"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("did you mean quick?")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_evaluate_device_names_the_option(files, monkeypatch, capsys):
    root, ckpt = files
    monkeypatch.chdir(root)
    assert main(["evaluate", "--checkpoint", ckpt, "--data", "table.csv", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == "freqextract: error: --device: cuda requested but CUDA is not available\n"


def test_help_lists_every_bundled_config(capsys):
    from freqextract.config import bundled_configs

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse may wrap at a hyphen
    assert all(name in text for name in bundled_configs())
    assert "offsets, phase-scaled, programmable, quick, spec" in text


@pytest.mark.parametrize("command", ["evaluate", "stream", "export"])
def test_help_says_what_a_spec_model_is(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "clock" in text and "tracker" in text
