"""One writer per run directory: an exclusive lock file, created atomically, held while a run writes.

``RUN_DIR/.freqextract.lock`` is created with ``O_CREAT | O_EXCL`` (so exactly one process can create it)
and holds the holder's pid, start time, host and what it does. A second writer finds it and gets a
:class:`LockHeld` error naming the holder (a one-line :class:`~freqextract.errors.UserError`, exit 2). A
lock whose holder is dead (same host, no such process, or the pid reused by a younger process) is stale:
it is taken over. The lock is reentrant within a process (a run writes its report under its own lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import UserError

LOCK_NAME = ".freqextract.lock"

EMPTY_GRACE_S = 10.0  # a lock file still empty after this long lost its writer between create and write

_held: dict[Path, int] = {}  # lock path -> depth, for this process
_guard = threading.Lock()


class LockHeld(UserError):
    """Another live process holds the run directory's lock."""


def lock_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / LOCK_NAME


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of a process (clock ticks since boot; Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def _me(what: str) -> dict:
    return {"pid": os.getpid(), "proc_start": _proc_start(os.getpid()), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "what": what}


def _read(path: Path) -> dict | None:
    """The holder recorded in a lock file; None if the file is gone; {} if it cannot be read (being written,
    or damaged)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        holder = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return holder if isinstance(holder, dict) else {}


def is_stale(holder: dict) -> bool:
    """True when the holder is certainly dead: on this host, and its pid is gone or now another process."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, someone else's
    recorded, now = holder.get("proc_start"), _proc_start(pid)
    return recorded is not None and now is not None and recorded != now


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def describe(holder: dict) -> str:
    if not holder:
        return "a writer that is still starting (or an unreadable lock file)"
    return (f"pid {holder.get('pid')} ({holder.get('what', 'a writer')}), started {holder.get('started')}"
            f" on {holder.get('host')}")


def _create(path: Path, me: dict) -> bool:
    """Create the lock file with our record; False if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(me, f)
    return True


def _break(path: Path, stale: dict) -> None:
    """Remove a stale lock file, unless another process replaced it meanwhile (then put theirs back)."""
    aside = path.with_name(f"{path.name}.{secrets.token_hex(6)}.stale")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # someone else broke it first
    if _read(aside) == stale:
        aside.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileExistsError):  # a live lock was moved: restore it
        os.link(aside, path)
    aside.unlink(missing_ok=True)


def _held_message(run_dir: str | Path, holder: dict) -> str:
    return (f"{run_dir}: another freqextract writes here: {describe(holder)}; wait for it to finish or stop it "
            f"(the lock, {LOCK_NAME}, goes with it)")


def check_free(run_dir: str | Path) -> None:
    """Raise :class:`LockHeld` naming the holder if another live process holds ``run_dir``'s lock (takes
    nothing: for a refusal that should name the writer before anything else is said of the directory)."""
    path = lock_path(run_dir).absolute()
    if path in _held:
        return
    holder = _read(path)
    if holder and not is_stale(holder):
        raise LockHeld(_held_message(run_dir, holder))


def acquire(run_dir: str | Path, what: str = "freqextract") -> Path:
    """Take the lock of ``run_dir`` (which must exist) or raise :class:`LockHeld` naming the holder."""
    path = lock_path(run_dir).absolute()
    with _guard:
        if path in _held:
            _held[path] += 1
            return path
        me = _me(what)
        for _ in range(50):
            if _create(path, me):
                _held[path] = 1
                return path
            holder = _read(path)
            if holder is None:
                continue  # released meanwhile
            if holder and is_stale(holder) or not holder and _age(path) > EMPTY_GRACE_S:
                _break(path, holder)
                continue
            if not holder:  # being written: look again shortly
                time.sleep(0.1)
                continue
            raise LockHeld(_held_message(run_dir, holder))
        raise LockHeld(f"{run_dir}: could not take its lock {path} ({describe(_read(path) or {})})")


def release(path: Path) -> None:
    with _guard:
        depth = _held.get(path, 0) - 1
        if depth > 0:
            _held[path] = depth
            return
        _held.pop(path, None)
        holder = _read(path)
        if holder and holder.get("pid") == os.getpid():
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def run_lock(run_dir: str | Path, what: str = "freqextract") -> Iterator[Path]:
    """Hold the lock of ``run_dir`` (an existing directory) for the ``with`` block."""
    path = acquire(run_dir, what)
    try:
        yield path
    finally:
        release(path)
