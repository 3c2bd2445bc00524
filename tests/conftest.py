"""Shared fixtures and helpers for the foundation tests (config, signals, data, CLI errors)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from freqextract.config import SignalConfig
from freqextract.signals import generate

SCRIPT = Path(sys.executable).with_name("freqextract")  # the console script installed with the package
MODULE = [sys.executable, "-m", "freqextract.cli"]


@pytest.fixture(scope="session")
def cli() -> list[str]:
    """The real console script when installed next to the interpreter, else ``python -m freqextract.cli``."""
    return [str(SCRIPT)] if SCRIPT.exists() else list(MODULE)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep the runs from writing anything but their outputs
    return env


@pytest.fixture(scope="session")
def spec_train():
    """The spec signal for the train seed (1): 10 000 samples, 4 frequencies."""
    return generate(SignalConfig(), seed=1)


@pytest.fixture(scope="session")
def spec_test():
    """The spec signal for the test seed (2)."""
    return generate(SignalConfig(), seed=2)


def assert_same_signal(a, b, *, meta: bool = True) -> None:
    """Bit-identical arrays (and dtype float64), equal fs and, optionally, equal meta."""
    for key in ("t", "S", "targets", "frequencies"):
        x, y = getattr(a, key), getattr(b, key)
        assert x.dtype == np.float64 and y.dtype == np.float64, key
        assert x.shape == y.shape, key
        assert np.array_equal(x, y), key
    assert a.fs == b.fs
    if meta:
        assert a.meta == b.meta


# A sweep small enough for tests: 1 s of signal, a tiny model, 20 training steps, no figures per trial.
TINY_SWEEP = """
[signal]
duration = 1.0
[model]
hidden_size = 8
[train]
warmup_horizon = 100
warmup_steps = 10
growth_steps = 5
final_steps = 5
log_every = 5
warmup_gate = 0.0
growth_gate = 0.0
device = "cpu"
[eval]
baselines = false
ablations = false
report = false
[sweep]
name = "tiny"
n_trials = 4
pruner = "none"
[sweep.space."train.lr"]
type = "float"
low = 0.001
high = 0.01
log = true
[sweep.space."model.hidden_size"]
type = "categorical"
choices = [4, 8]
"""


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory) -> Path:
    """The path of a TOML file holding :data:`TINY_SWEEP`."""
    path = tmp_path_factory.mktemp("sweep-config") / "tiny.toml"
    path.write_text(TINY_SWEEP)
    return path
