"""Interrupted training: the resume state round-trips exactly, and a run killed with SIGKILL at random
moments and resumed ends bit-identical (CPU, fixed seed) to a run that was never stopped."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli_env
from hypothesis import given, settings
from hypothesis import strategies as st

import freqextract.training.loop as loop_mod
from freqextract.cli import main
from freqextract.config import load
from freqextract.errors import UserError
from freqextract.evaluation.run_eval import evaluate_checkpoint
from freqextract.models import checkpoint
from freqextract.studies.run import run
from freqextract.training import resume
from freqextract.training.candidates import train_best_of
from freqextract.training.curriculum import Curriculum
from freqextract.training.loop import train

QUICK = ["train.checkpoint_every=7"]
# a few seconds of training (about 400 steps of the quick model), so that random kills land mid-run
KILLABLE = ["train.warmup_steps=300", "train.growth_steps=80", "train.final_steps=20",
            "train.checkpoint_every=10"]


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _weights_only_round_trip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


# ---------------------------------------------------------------------------------------------- state
def test_plain_conversion_is_exact_and_weights_only_loadable():
    rng = np.random.default_rng([7, 0xF2E9])
    rng.normal(size=3)
    np.random.seed(5)
    obj = {"gen": rng.bit_generator.state, "global": np.random.get_state(),
           "arrays": [np.arange(6, dtype=np.uint32).reshape(2, 3), np.array([np.nan, -0.0, 1e-300]),
                      np.array([True, False])], "scalar": np.float64(0.1), "n": np.int64(-3)}
    back = resume.from_plain(_weights_only_round_trip(resume.to_plain(obj)))
    assert back["gen"] == obj["gen"]
    for a, b in zip(obj["global"], back["global"], strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    for a, b in zip(obj["arrays"], back["arrays"], strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert back["scalar"] == 0.1 and back["n"] == -3 and type(back["n"]) is int
    with pytest.raises(TypeError):
        resume.to_plain({"x": object()})


@settings(max_examples=25, deadline=None)
@given(losses=st.lists(st.lists(st.floats(0, 1), min_size=4, max_size=4), min_size=1, max_size=120),
       cut=st.integers(0, 119))
def test_curriculum_state_round_trip(losses, cut):
    """A curriculum restored from its state (through a weights-only file) makes the same plan from there."""
    cfg = load(None, ["train.warmup_steps=20", "train.growth_steps=50", "train.final_steps=5",
                      "train.warmup_extra=40", "train.growth_max_factor=2.0"])
    a = Curriculum(cfg)
    cut = min(cut, len(losses))
    for loss in losses[:cut]:
        if a.next() is None:
            break
        a.update(loss)
    state = a.state_dict()
    assert set(state) == set(vars(a)) - {"t"}, "every attribute but the config is saved"
    b = Curriculum(cfg)
    b.load_state_dict(_weights_only_round_trip(state))
    for loss in losses[cut:] + [[0.0] * 4] * 200:
        assert a.next() == b.next()
        if a.next() is None:
            break
        a.update(loss)
        b.update(loss)
    assert vars(a).keys() == vars(b).keys()
    with pytest.raises(ValueError, match="attributes"):
        b.load_state_dict({**state, "new_knob": 1})


def test_resumed_training_is_bit_identical_to_uninterrupted(tmp_path):
    """Stopped after step 30 (last checkpoint: step 28), resumed: same weights, same history; a finished
    state is handed back without training."""
    cfg = load("quick", QUICK)
    ref = train(cfg, progress=False)

    def crash(rec):
        if rec["step"] == 30:
            raise KeyboardInterrupt

    path = tmp_path / "resume-0.pt"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, state_path=path, on_log=crash)
    assert resume.load(path, cfg)["step"] == 28
    res = train(cfg, progress=False, state_path=path)
    assert res.resumed_from == 28 and res.steps == ref.steps
    assert _same_weights(res.model.state_dict(), ref.model.state_dict())
    assert [h["val_mse"] for h in res.history] == [h["val_mse"] for h in ref.history]
    assert [h["step"] for h in res.history] == [h["step"] for h in ref.history]
    again = train(cfg, progress=False, state_path=path)
    assert again.resumed_from == ref.steps and _same_weights(again.model.state_dict(), ref.model.state_dict())
    with pytest.raises(UserError, match="written for another config"):
        train(load("quick", [*QUICK, "train.lr=0.001"]), progress=False, state_path=path)


def test_resume_across_init_restarts_is_bit_identical(tmp_path):
    """With restarts (a fresh init after a failed warm-up), stopped after the first restart and resumed:
    the same restarts happen at the same steps and the end is the same."""
    cfg = load("quick", ["train.checkpoint_every=4", "train.restart_gate=1e-9", "train.max_restarts=2"])
    ref = train(cfg, progress=False)
    assert max(h["restarts"] for h in ref.history) == 2

    def crash(rec):
        if rec["restarts"] == 1 and rec["step"] > 40:
            raise KeyboardInterrupt

    path = tmp_path / "resume-0.pt"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, state_path=path, on_log=crash)
    assert resume.load(path, cfg)["curriculum"]["restarts"] == 1
    res = train(cfg, progress=False, state_path=path)
    assert res.resumed_from > 30 and res.steps == ref.steps
    assert _same_weights(res.model.state_dict(), ref.model.state_dict())
    assert [(h["step"], h["restarts"], h["val_mse"]) for h in res.history] == \
        [(h["step"], h["restarts"], h["val_mse"]) for h in ref.history]


def test_candidates_resume_independently(tmp_path, monkeypatch):
    """Two candidates: the first finished, the second stopped mid-way. The resume trains only the second
    (from its own checkpoint) and keeps the same candidate with the same weights."""
    cfg = load("quick", [*QUICK, "train.candidates=2", "train.workers=1"])
    ref, ref_summ, _ = train_best_of(cfg, progress=False)
    calls = {"n": 0}
    real = loop_mod.focus_loss

    def crash_on_second_candidate(per_freq, focus):
        calls["n"] += 1
        if calls["n"] == ref.steps + 23:  # one loss per step (no truncation): candidate 2 at step 23
            raise KeyboardInterrupt
        return real(per_freq, focus)

    monkeypatch.setattr(loop_mod, "focus_loss", crash_on_second_candidate)
    with pytest.raises(KeyboardInterrupt):
        train_best_of(cfg, progress=False, checkpoint_dir=tmp_path)
    monkeypatch.setattr(loop_mod, "focus_loss", real)
    first = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=0, candidates=1))
    assert resume.load(tmp_path / "resume-0.pt", first)["done"]
    res, summ, models = train_best_of(cfg, progress=False, checkpoint_dir=tmp_path)
    assert [s.get("resumed_from") for s in summ] == [50, 21]
    assert [s["val_mse"] for s in summ] == [s["val_mse"] for s in ref_summ]
    assert [s["kept"] for s in summ] == [s["kept"] for s in ref_summ]
    assert _same_weights(res.model.state_dict(), ref.model.state_dict()) and len(models) == 2


# ---------------------------------------------------------------------------------------------- SIGKILL
def _train_cmd(cli: list[str], run_dir: Path, extra: list[str]) -> list[str]:
    sets = [a for s in ["train.candidates=1", *KILLABLE, *extra] for a in ("--set", s)]
    return [*cli, "train", "--config", "quick", *sets, "--out", str(run_dir), "--quiet"]


def _states(run_dir: Path, cache: dict) -> dict[Path, tuple[int, int]]:
    """(inode, step) of every resume checkpoint; a file is read again only when a rename replaced it."""
    for p in (run_dir / "checkpoints").glob("resume-*.pt"):
        with contextlib.suppress(FileNotFoundError):
            ino = p.stat().st_ino
            if cache.get(p, (None,))[0] != ino:
                cache[p] = (ino, torch.load(p, weights_only=True)["step"])  # whole at any moment
    return dict(cache)


def kill_and_resume(cli: list[str], run_dir: Path, first: list[str], kills: int, rng: random.Random,
                    resume_cmd: str = "train", finished: str = "checkpoints/final.pt",
                    steps: int = 400) -> int:
    """Run ``first``, SIGKILL the whole process group at ``kills`` random points, ``--resume`` after each,
    then let it finish. A point is a random step (seeded): the kill comes a random few milliseconds after
    the running process has written a checkpoint at or past it. After each kill every checkpoint must be
    whole. Returns how many kills landed before the end (``finished``: the file that marks the end)."""
    targets = sorted(rng.sample(range(10, int(steps * 0.85)), kills))
    cmd, landed, cache = first, 0, {}
    for attempt in range(kills + 1):
        before = _states(run_dir, cache)
        proc = subprocess.Popen(cmd, env=cli_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if attempt < kills:
            deadline = time.monotonic() + 300
            while proc.poll() is None and time.monotonic() < deadline:
                now = _states(run_dir, cache)
                if any(before.get(p) != (ino, step) and step >= targets[attempt]
                       for p, (ino, step) in now.items()):
                    break  # this process has checkpointed at or past the target
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                landed += 1
        _, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            return landed
        assert proc.returncode == -signal.SIGKILL, err
        if (run_dir / finished).exists():  # killed while it was exiting: it had finished
            return landed - 1
        for p in (run_dir / "checkpoints").glob("resume-*.pt"):
            checkpoint.load(p, kinds=(checkpoint.TRAINING_STATE,))  # whole, never half-written
        cmd = [*cli, resume_cmd, "--resume", str(run_dir), "--quiet"]
    raise AssertionError("the run did not finish")


def test_sigkill_at_random_points_then_resume_gives_identical_results(cli, tmp_path):
    """`freqextract train` killed with SIGKILL at three random points and resumed each time: the final
    model, its history and its test metrics equal those of a run that was never stopped, to the last bit."""
    ref_dir = tmp_path / "ref"
    run(load("quick", ["train.candidates=1", *KILLABLE]), out_dir=ref_dir, progress=False, evaluate=False)
    run_dir = tmp_path / "killed"
    landed = kill_and_resume(cli, run_dir, _train_cmd(cli, run_dir, []), kills=3, rng=random.Random(20251123))
    assert landed >= 2  # a kill can miss only by racing the very end
    assert not [p for p in run_dir.rglob(".*")], "a resume clears what a killed write left behind"
    a = checkpoint.load(ref_dir / "checkpoints" / "final.pt")
    b = checkpoint.load(run_dir / "checkpoints" / "final.pt")
    assert a["step"] == b["step"] and _same_weights(a["state_dict"], b["state_dict"])
    ha, hb = (json.loads((d / "history.json").read_text()) for d in (ref_dir, run_dir))
    def curve(history):
        return [(h["step"], h["loss"], h["val_mse"]) for h in history]

    assert curve(ha) == curve(hb)
    ma, mb = (evaluate_checkpoint(d / "checkpoints" / "final.pt", d / "data" / "test.npz")
              for d in (ref_dir, run_dir))
    assert ma["per_frequency_mse"] == mb["per_frequency_mse"] and ma["ablation"] == mb["ablation"]


# what may differ between an interrupted and an uninterrupted run: timings, and the record of the resume
NOT_COMPARED = ("seconds", "peak_rss_mib", "seconds_to_target", "resumed_from", "resumed")


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in NOT_COMPARED}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


@pytest.mark.slow
def test_sigkill_two_worker_candidates_then_resume_gives_identical_metrics(cli, tmp_path):
    """`freqextract run` with two candidates in two worker processes, killed five times and resumed with
    `run --resume`: metrics.json is identical to an uninterrupted run's, timings aside."""
    extra = ["train.candidates=2", "train.workers=2"]
    ref_dir = tmp_path / "ref"
    run(load("quick", [*KILLABLE, *extra]), out_dir=ref_dir, progress=False)
    run_dir = tmp_path / "killed"
    first = [*_train_cmd(cli, run_dir, extra)]
    first[first.index("train")] = "run"
    landed = kill_and_resume(cli, run_dir, first, kills=5, rng=random.Random(7), resume_cmd="run",
                             finished="metrics.json")
    assert landed >= 4
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (ref_dir, run_dir))
    assert _strip(ma) == _strip(mb) and mb["training"]["resumed"]
    assert ma["status"] == "ok" and len(ma["training"]["candidates"]) == 2


# ---------------------------------------------------------------------------------------------- refusals
def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("freqextract: error: "), err
    return err


def test_resume_refuses_what_it_cannot_continue(tmp_path, capsys):
    cfg = load("quick", ["train.checkpoint_every=20"])
    d = tmp_path / "r"
    assert main(["train", "--resume", str(d)]) == 2 and "no such run directory" in _err(capsys)
    d.mkdir()
    assert main(["train", "--resume", str(d)]) == 2 and "no config.toml" in _err(capsys)
    run(cfg, out_dir=d, progress=False, evaluate=False)
    assert main(["train", "--resume", str(d)]) == 2 and "training has finished" in _err(capsys)
    assert main(["train", "--resume", str(d), "--set", "train.lr=1"]) == 2 and "--set" in _err(capsys)
    assert main(["run", "--resume", str(d), "--out", "x"]) == 2 and "--out" in _err(capsys)
    assert main(["run", "--config", "quick", "--out", str(d)]) == 2 and "--resume" in _err(capsys)

    (d / "checkpoints" / "final.pt").unlink()
    state = d / "checkpoints" / "resume-0.pt"
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])
    assert main(["train", "--resume", str(d)]) == 2
    assert "resume-0.pt: not a checkpoint (not a torch archive" in _err(capsys)
    state.write_bytes(data)
    cfg_text = (d / "config.toml").read_text()
    (d / "config.toml").write_text(cfg_text.replace("lr = 0.003", "lr = 0.002"))
    assert main(["train", "--resume", str(d)]) == 2 and "train.lr" in _err(capsys)
    (d / "config.toml").write_text(cfg_text.replace("[train]", "[train]\nlr_schedule = 3"))
    assert main(["train", "--resume", str(d)]) == 2 and "config.toml" in _err(capsys)
    (d / "config.toml").write_text(cfg_text)
    state.unlink()
    assert main(["train", "--resume", str(d)]) == 2 and "nothing to resume" in _err(capsys)
    assert not list(d.rglob(".*"))  # no temporary file anywhere


def test_run_resume_evaluates_a_finished_training(tmp_path, capsys):
    """`train` then `run --resume` evaluates the trained candidates without training them again."""
    d = tmp_path / "t"
    cfg = load("quick", ["eval.baselines=false"])
    run(cfg, out_dir=d, progress=False, evaluate=False)
    assert main(["run", "--resume", str(d), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "resumed at step 50" in out
    m = json.loads((d / "metrics.json").read_text())
    assert m["status"] == "ok" and m["training"]["candidates"][0]["resumed_from"] == 50
    assert m["training"]["resumed"]
    assert main(["run", "--resume", str(d)]) == 2 and "has finished" in _err(capsys)


def _children(pid: int) -> set[int]:
    """PIDs whose parent is ``pid`` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _running(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (not gone, not a zombie waiting to be reaped)."""
    out = set()
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX":
                out.add(pid)
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_die_with_a_killed_parent(cli, tmp_path):
    """SIGKILL to the main process only (not its group): the candidate workers stop too, instead of
    training on and writing checkpoints beside a resumed run."""
    run_dir = tmp_path / "r"
    cmd = _train_cmd(cli, run_dir, ["train.candidates=2", "train.workers=2", "train.warmup_steps=100000"])
    proc = subprocess.Popen(cmd, env=cli_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while len(_states(run_dir, {})) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_states(run_dir, {})) == 2, "both workers write checkpoints"
        workers = _children(proc.pid)
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while _running(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
