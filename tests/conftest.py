"""Shared fixtures and helpers for the foundation tests (config, signals, data, CLI errors)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from freqextract.config import SignalConfig
from freqextract.signals.scenarios import generate

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


def run_cli(cmd: list[str], cwd, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (the CLI) in ``cwd``, capturing text; with ``check`` it must exit 0."""
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=600)
    if check:
        assert p.returncode == 0, p.stderr
    return p


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


def with_new_future(sig, m: int, seed: int = 1):
    """A copy of ``sig`` whose S from sample ``m`` on is replaced by fresh Gaussian noise (causality tests)."""
    from freqextract.signals.scenarios import MixedSignal

    S = sig.S.copy()
    S[m:] = np.random.default_rng(seed).normal(size=sig.n_samples - m)
    return MixedSignal(t=sig.t, S=S, targets=sig.targets, frequencies=sig.frequencies, fs=sig.fs)


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


def streaming_checkpoint(path: Path, seq_len: int = 1, window_state: str = "carry", seed: int = 0,
                         card: dict | None = None):
    """Save a default-size model (H = 64, 4 frequencies) with random weights; returns the model.

    ``card``: the model card to record (``models.card``); without one the checkpoint is like those written
    before cards existed.

    PyTorch's default init, with the input weights x4 and the read-out x10: the outputs react to S and
    vary (std ~0.1, far above the 1e-5 the equivalence tests allow) while the dynamics still contract,
    so two correct implementations stay within float32 rounding of each other over 10 000 steps. (An
    untrained forget-bias-5 model amplifies rounding exponentially, and a trained oscillator keeps phase
    errors: neither can tell a wrong export from float32 noise at 1e-5.)
    """
    import torch

    from freqextract.config import load
    from freqextract.models import checkpoint

    cfg = load(None, ['model.init="default"', f"model.seq_len={seq_len}",
                      f'model.window_state="{window_state}"'])
    torch.manual_seed(seed)
    model = checkpoint.build_model(cfg)
    with torch.no_grad():
        model.lstm.weight_ih_l0.mul_(4.0)
        model.head.weight.mul_(10.0)
    checkpoint.save(path, model, cfg, step=0, extra={"card": card} if card else None)
    return model.eval()


# the card of a spec model that ignores S (what `freqextract run` records for the default recipe)
CLOCK_CARD = {"scenario": "spec", "role": "clock", "test_mse": 0.0007, "test_mse_S_shuffled": 0.0007,
              "test_mse_S_zeroed": 0.0026}


@pytest.fixture(scope="session")
def stream_model(tmp_path_factory):
    """(checkpoint path, model) of :func:`streaming_checkpoint`."""
    path = tmp_path_factory.mktemp("stream") / "model.pt"
    return path, streaming_checkpoint(path)


def kill_a_worker_mid_trial_then_finish(sweep_config: Path, out: Path, storage: str | None, study: str) -> list:
    """Create a 2-trial study (heartbeat 1 s, grace 3 s), start a worker, SIGKILL its process group while
    its first trial runs, then start another worker and let it finish; returns the study's trials.

    ``storage``: a database URL, or None for the default journal file in ``out``.
    """
    import signal
    import subprocess
    import time

    import optuna

    from freqextract.studies import storage as storages

    where = ["--storage", storage] if storage else []
    sets = ["--set", "sweep.n_trials=2", "--set", "sweep.heartbeat_interval=1", "--set", "sweep.grace_period=3",
            "--set", "train.warmup_steps=150"]
    create = subprocess.run([*MODULE, "sweep", "--config", str(sweep_config), *where, "--study", study,
                             "--workers", "0", "--out", str(out), *sets],
                            capture_output=True, text=True, env=cli_env(), timeout=300)
    assert create.returncode == 0, create.stderr
    spec = storage or str(out)
    worker = [*MODULE, "sweep", "worker", "--storage", spec, "--study", study]
    first = subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(),
                             start_new_session=True)
    st = storages.load(spec, study)
    running = optuna.trial.TrialState.RUNNING
    t0 = time.monotonic()
    while not st.storage.get_all_trials(st.storage.get_study_id_from_name(study), states=(running,)):
        assert first.poll() is None and time.monotonic() - t0 < 120, "the first worker never took a trial"
        time.sleep(0.1)
    time.sleep(1.5)  # a heartbeat or two
    os.killpg(first.pid, signal.SIGKILL)  # the worker and anything it started
    first.wait()
    killed = st.storage.get_all_trials(st.storage.get_study_id_from_name(study), states=(running,))
    assert [t.number for t in killed] == [0], "the kill came after the first trial had finished"

    second = subprocess.run(worker, capture_output=True, text=True, env=cli_env(), timeout=600)
    assert second.returncode == 0, second.stderr
    return optuna.load_study(study_name=study, storage=storages.load(spec, study).storage).get_trials()


def assert_each_trial_completed_once(trials: list) -> None:
    """Trial 0 was killed: failed, retried once as trial 2 with its parameters; trials 1 and 2 complete."""
    import optuna

    State = optuna.trial.TrialState
    assert [(t.number, t.state) for t in trials] == [(0, State.FAIL), (1, State.COMPLETE), (2, State.COMPLETE)]
    retry = trials[2]
    assert retry.system_attrs["failed_trial"] == 0 and retry.system_attrs["retry_history"] == [0]
    if trials[0].params:  # sampled before the kill: the retry runs the same point
        assert retry.params == trials[0].params
    origins = sorted(t.system_attrs.get("failed_trial", t.number) for t in trials if t.state == State.COMPLETE)
    assert origins == [0, 1]  # every trial of the study completed, none twice


@pytest.fixture(scope="session")
def quick_trained(tmp_path_factory) -> Path:
    """A run directory of the quick config, trained but not evaluated (config.toml, checkpoints/final.pt).
    Tests that write into it copy it first."""
    from freqextract.config import load
    from freqextract.studies.run import run

    out = tmp_path_factory.mktemp("quick-trained") / "run"
    run(load("quick"), out_dir=out, progress=False, evaluate=False)
    return out
