"""Atomic file writes: write to a temporary file in the target's folder, then rename over the target.

A reader (or a crash) never sees a half-written file: either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on error delete it.

    ``suffix`` keeps the extension libraries insist on (``np.savez`` appends ``.npz`` otherwise).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # like mkstemp (O_EXCL, a random name), but with mode 0o666 so the umask decides the permissions of the
    # final file, as for a plain open(); mkstemp's 0o600 would survive the rename
    for _ in range(100):
        tmp_path = path.parent / f".{path.name}.{secrets.token_hex(6)}{suffix or '.tmp'}"  # see LEFTOVER
        try:
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {path}")
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


LEFTOVER = re.compile(r"\..+\.[0-9a-f]{12}\.[A-Za-z0-9]+")  # the temporary names atomic_path makes


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Delete the temporary files that writes killed before their rename left in ``folder`` (recursively);
    only names of the form atomic_path gives them. Returns what was deleted."""
    gone = [p for p in Path(folder).rglob(".*") if p.is_file() and LEFTOVER.fullmatch(p.name)]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
