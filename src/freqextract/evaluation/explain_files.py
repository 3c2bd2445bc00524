"""A run directory's explanation on disk: ``explain.json`` (the data) and ``explain.npz`` (its figures'
arrays), both written atomically; reading tolerates a run without them (None)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_json
from ..errors import UserError

JSON_NAME, ARRAYS_NAME = "explain.json", "explain.npz"
MAX_RING_POINTS = 3000  # per selector, kept for the rings figure
PER_SELECTOR = ("time", "phase_error", "phase_error_noise")


def save(run_dir: str | Path, data: dict, arrays: dict) -> tuple[Path, Path]:
    """Write ``data`` as explain.json and ``arrays`` (explain_with_arrays's) as explain.npz."""
    run_dir = Path(run_dir)
    write_json(run_dir / JSON_NAME, data)
    every = max(1, -(-arrays["pca"].shape[1] // MAX_RING_POINTS))
    flat = {f"{key}_{k}": np.asarray(v, dtype=np.float64) for key in PER_SELECTOR
            for k, v in enumerate(arrays[key])}
    with atomic_path(run_dir / ARRAYS_NAME, suffix=".npz") as tmp:
        np.savez(tmp, pca=arrays["pca"][:, ::every], pca_time=arrays["pca_time"][::every], **flat)
    return run_dir / JSON_NAME, run_dir / ARRAYS_NAME


def load(run_dir: str | Path) -> tuple[dict, dict | None] | None:
    """(data, arrays or None) of a run directory; None where it has no explain.json."""
    run_dir = Path(run_dir)
    jpath, apath = run_dir / JSON_NAME, run_dir / ARRAYS_NAME
    if not jpath.is_file():
        return None
    try:
        data = json.loads(jpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{jpath}: not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("frequencies"), list):
        raise UserError(f"{jpath}: not a freqextract explanation (no frequencies)")
    if not apath.is_file():
        return data, None
    K = len(data["frequencies"])
    try:
        with np.load(apath, allow_pickle=False) as z:
            arrays = {"pca": z["pca"], "pca_time": z["pca_time"],
                      **{key: [z[f"{key}_{k}"] for k in range(K)] for key in PER_SELECTOR}}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise UserError(f"{apath}: not a readable explanation file ({e.__class__.__name__})") from None
    return data, arrays
