"""One writer per run directory: the lock file, its stale takeover, and two real `freqextract run`s."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib

import pytest

from freqextract import locks
from freqextract.locks import LOCK_NAME, LockHeld, acquire, release, run_lock


def _write_holder(run_dir, **holder):
    record = {"pid": 1, "proc_start": None, "host": socket.gethostname(), "started": "2026-01-01 00:00:00 UTC",
              "what": "freqextract run", **holder}
    (run_dir / LOCK_NAME).write_text(json.dumps(record))
    return record


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def test_the_lock_is_a_file_with_the_holder_and_goes_with_the_block(tmp_path):
    with run_lock(tmp_path, "freqextract run") as path:
        holder = json.loads(path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert holder["what"] == "freqextract run" and holder["started"].endswith("UTC")
    assert not path.exists()


def test_reentrant_within_a_process(tmp_path):
    with run_lock(tmp_path) as outer:
        with run_lock(tmp_path) as inner:
            assert inner == outer
        assert outer.exists()  # the inner release keeps the outer hold
    assert not outer.exists()


def test_a_live_holder_is_named_in_one_line(tmp_path, sleeper):
    _write_holder(tmp_path, pid=sleeper.pid, proc_start=locks._proc_start(sleeper.pid))
    with pytest.raises(LockHeld) as e:
        acquire(tmp_path)
    message = str(e.value)
    assert "\n" not in message and f"pid {sleeper.pid}" in message and "2026-01-01 00:00:00 UTC" in message
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == sleeper.pid  # left as it was


def test_a_dead_holders_lock_is_taken_over(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _write_holder(tmp_path, pid=dead.pid)
    path = acquire(tmp_path)
    try:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        assert [p.name for p in tmp_path.iterdir()] == [LOCK_NAME]  # nothing of the stale one is left
    finally:
        release(path)


def test_a_reused_pid_does_not_keep_a_stale_lock(tmp_path, sleeper):
    """The pid is alive, but it is another process than the one that took the lock (its start differs)."""
    _write_holder(tmp_path, pid=sleeper.pid, proc_start="1")
    if locks._proc_start(sleeper.pid) is None:
        pytest.skip("no /proc: process start times are not known here")
    release(acquire(tmp_path))


def test_a_holder_on_another_host_is_never_taken_to_be_dead(tmp_path):
    _write_holder(tmp_path, pid=999_999_999, host="elsewhere.example")
    with pytest.raises(LockHeld, match="on elsewhere.example"):
        acquire(tmp_path)


def test_an_empty_lock_is_stale_only_once_it_is_old(tmp_path, monkeypatch):
    """A writer killed between creating the file and writing its record leaves it empty."""
    lock = tmp_path / LOCK_NAME
    lock.write_text("")
    monkeypatch.setattr(time, "sleep", lambda s: None)
    with pytest.raises(LockHeld, match="still starting"):
        acquire(tmp_path)
    old = time.time() - 2 * locks.EMPTY_GRACE_S
    os.utime(lock, (old, old))
    release(acquire(tmp_path))


def test_a_killed_writer_leaves_a_lock_that_the_next_one_takes(tmp_path):
    code = ("import sys, time; from freqextract.locks import acquire; acquire(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(LockHeld, match=f"pid {proc.pid}"):
            acquire(tmp_path)
    finally:
        proc.kill()
        proc.wait()
    release(acquire(tmp_path))


def test_two_runs_into_one_directory_one_wins_the_other_is_told_who_holds_it(tmp_path):
    """`freqextract run --config quick --out same` twice, about two seconds apart, with other seeds: exactly
    one writes the directory; the other exits 2 with one line naming the holder's pid and start time."""
    out = tmp_path / "same"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def start(seed):
        return subprocess.Popen([sys.executable, "-m", "freqextract", "run", "--config", "quick", "--out", str(out),
                                 "--quiet", "--set", f"train.seed={seed}"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    first = start(1)
    t0 = time.monotonic()
    while not (out / LOCK_NAME).exists() and first.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.05)
    time.sleep(max(0.0, 2.0 - (time.monotonic() - t0)))
    second = start(2)
    results = {seed: (p.wait(timeout=300), *p.communicate()) for seed, p in ((1, first), (2, second))}

    assert sorted(rc for rc, _, _ in results.values()) == [0, 2], results
    (rc2, _, err2) = results[2]
    assert rc2 == 2, results  # the first took the lock before the second started
    lines = err2.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err2, err2
    assert lines[0].startswith(f"freqextract: error: {out}: another freqextract writes here: pid {first.pid} "
                               "(freqextract run), started "), lines[0]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["final.pt", "resume-1.pt"]
    assert not (out / LOCK_NAME).exists()
    assert tomllib.loads((out / "config.toml").read_text())["train"]["seed"] == 1
