"""Models shipped inside the package, ready to use without training.

    freqextract/bundled/<name>/
      model.pt          the checkpoint (loaded weights-only)
      model.onnx        its one-step ONNX export, and model.onnx.json its sidecar
      config.toml       the config it was trained with
      card.json         how it was made (command, seconds, machine, versions) and its held-out metrics

``benchmarks/bundle_model.py RUN_DIR --name NAME`` writes one from a finished run. ``freqextract stream``
without ``--checkpoint``/``--onnx`` uses :data:`DEFAULT`; ``--model NAME`` picks another.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError

ROOT = Path(__file__).resolve().parents[1] / "bundled"
DEFAULT = "extractor"


def names() -> list[str]:
    """The bundled models present in this installation."""
    if not ROOT.is_dir():
        return []
    return sorted(p.name for p in ROOT.iterdir() if (p / "model.pt").is_file())


def folder(name: str) -> Path:
    """The folder of the bundled model ``name``; an unknown name is a UserError listing the known ones."""
    if name not in names():
        known = ", ".join(names()) or "none in this installation"
        raise UserError(f"--model {name}: no such bundled model (bundled: {known})")
    return ROOT / name


def checkpoint_path(name: str = DEFAULT) -> Path:
    return folder(name) / "model.pt"


def onnx_path(name: str = DEFAULT) -> Path | None:
    """The ONNX export of a bundled model, if it has one."""
    p = folder(name) / "model.onnx"
    return p if p.is_file() else None


def card(name: str = DEFAULT) -> dict:
    """What ``card.json`` records of a bundled model (empty when it has none)."""
    p = folder(name) / "card.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
