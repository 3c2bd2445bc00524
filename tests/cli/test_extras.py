"""A user install without the dev extras: the CLI needs only the base dependencies, and a command that needs
an optional package says in one line which extra brings it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
OPTIONAL = ("optuna", "psycopg", "onnx", "onnxscript", "onnxruntime", "mkdocs", "jupyter", "nbclient")


def _without(hidden: list[str], argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The CLI in a fresh interpreter in which the ``hidden`` packages cannot be imported."""
    code = ("import sys\n"
            f"for name in {hidden!r}:\n    sys.modules[name] = None\n"
            "from freqextract.cli import main\n"
            f"sys.exit(main({argv!r}))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_the_base_dependencies_hold_no_optional_package():
    base = " ".join(PROJECT["dependencies"]).lower()
    assert not [p for p in OPTIONAL if p in base]
    extras = PROJECT["optional-dependencies"]
    assert {"export", "sweep", "notebook", "docs", "dev"} <= set(extras)
    assert any("optuna" in r for r in extras["sweep"]) and any("onnxruntime" in r for r in extras["export"])
    dev = " ".join(extras["dev"])
    assert "freqextract[" in dev and all(x in dev for x in ("export", "sweep", "docs"))  # tests need them


@pytest.mark.parametrize("argv", [
    ["sweep", "--config", "quick", "--preset", "multiseed", "--trials", "1", "--out", "s"],
    ["sweep", "worker", "--storage", "postgresql://me@127.0.0.1:9/sweeps"],
    ["sweep", "report", "--storage", "postgresql://me@127.0.0.1:9/sweeps"],
])
def test_sweep_commands_without_optuna_name_the_extra(argv, tmp_path):
    proc = _without(["optuna"], argv, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "freqextract: error: freqextract sweep needs Optuna: pip install 'freqextract[sweep]'\n"
    assert list(tmp_path.iterdir()) == []


def test_the_core_commands_run_without_any_extra(tmp_path):
    proc = _without(list(OPTIONAL), ["generate", "--seed", "3", "--out", "x.npz"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x.npz").is_file()
