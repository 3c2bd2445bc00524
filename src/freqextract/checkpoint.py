"""Checkpoints are plain dicts, loaded with ``weights_only=True`` (no pickled code ever runs).

    {"kind": "freqextract.StatefulLSTM", "format": 1, "state_dict": ..., "optimizer": ...,
     "config": {section: {key: value}}, "step": int, "versions": {...}, "extra": {...}}
"""

from __future__ import annotations

import io
import pickle
import platform
import zipfile
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .atomic import write_bytes
from .config import RunConfig, from_dict, to_dict
from .errors import UserError
from .models import SequenceLSTM, StatefulLSTM

FORMAT = 1
KINDS = {"freqextract.StatefulLSTM": StatefulLSTM, "freqextract.SequenceLSTM": SequenceLSTM}


def versions() -> dict:
    return {"freqextract": __version__, "torch": str(torch.__version__), "numpy": str(np.__version__),
            "python": platform.python_version()}


def model_kind(model: torch.nn.Module) -> str:
    return "freqextract.SequenceLSTM" if isinstance(model, SequenceLSTM) else "freqextract.StatefulLSTM"


def build_model(cfg: RunConfig) -> StatefulLSTM:
    """The network a config describes (SequenceLSTM when model.seq_len > 1)."""
    m = cfg.model
    kwargs = dict(n_inputs=1 + len(cfg.signal.frequencies), hidden_size=m.hidden_size, num_layers=m.num_layers,
                  init=m.init, forget_bias=m.forget_bias, chrono_tmax=m.chrono_tmax)
    if m.seq_len > 1:
        return SequenceLSTM(**kwargs, seq_len=m.seq_len, window_state=m.window_state)
    return StatefulLSTM(**kwargs)


def save(path: str | Path, model: torch.nn.Module, cfg: RunConfig, step: int,
         optimizer: torch.optim.Optimizer | None = None, extra: dict | None = None) -> None:
    """Write atomically: a reader never sees half a checkpoint."""
    ckpt = {
        "kind": model_kind(model), "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "config": to_dict(cfg), "step": int(step), "versions": versions(), "extra": extra or {},
    }
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    write_bytes(path, buf.getvalue())


def load(path: str | Path) -> dict:
    """Read a checkpoint dict; anything that is not one of ours gets a one-line UserError."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a checkpoint file")
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else is another kind of file
        raise UserError(f"{path}: not a checkpoint (not a torch archive: another kind of file, or truncated)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unsafe content"
        raise UserError(f"{path}: refused to load: not a plain-weights checkpoint ({first[:160]})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as e:
        raise UserError(f"{path}: not a readable checkpoint (truncated or damaged: {e.__class__.__name__})") from None
    if not isinstance(ckpt, dict) or "kind" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{path}: not a freqextract checkpoint (no kind/state_dict)")
    if ckpt["kind"] not in KINDS:
        raise UserError(f"{path}: checkpoint holds a {ckpt['kind']!r}, not a freqextract model")
    if ckpt.get("format") != FORMAT:
        raise UserError(f"{path}: checkpoint format {ckpt.get('format')!r} is not supported (need {FORMAT})")
    return ckpt


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[StatefulLSTM, RunConfig, dict]:
    """Rebuild the model of a checkpoint; returns (model in eval mode, config, checkpoint dict)."""
    ckpt = load(path)
    try:
        cfg = from_dict(ckpt["config"])
    except UserError as e:
        raise UserError(f"{path}: checkpoint config is not valid for this version ({e})") from None
    model = build_model(cfg)
    if ckpt["kind"] != model_kind(model):
        raise UserError(f"{path}: checkpoint kind {ckpt['kind']} does not match its config")
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise UserError(f"{path}: weights do not fit the model ({str(e).splitlines()[0][:160]})") from None
    return model.to(device).eval(), cfg, ckpt
