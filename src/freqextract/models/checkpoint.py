"""Checkpoints are plain dicts, loaded with ``weights_only=True`` (no pickled code ever runs).

A model (``checkpoints/final.pt``):

    {"kind": "freqextract.StatefulLSTM", "format": 1, "state_dict": ..., "optimizer": ...,
     "config": {section: {key: value}}, "step": int, "versions": {...}, "extra": {...}}

A training state to resume from (``checkpoints/resume-<seed>.pt``, see :mod:`freqextract.training.resume`) has the
kind ``freqextract.TrainingState`` and the same keys plus the curriculum, the RNG states and the history.
Each reader names the kinds it accepts; anything else (another kind, another format, a damaged or
truncated file, a pickle that would run code) is a one-line :class:`~freqextract.errors.UserError`.
"""

from __future__ import annotations

import io
import pickle
import platform
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..atomic import write_bytes
from ..config import CONDITIONED, RunConfig, from_dict, to_dict
from ..errors import UserError
from ..signals.data import REQUEST_INPUTS
from .lstm import ConditionedLSTM, MultiOutputLSTM, SequenceLSTM, StatefulLSTM
from .rotation import plant_rotations

FORMAT = 1
KINDS = {"freqextract.StatefulLSTM": StatefulLSTM, "freqextract.SequenceLSTM": SequenceLSTM,
         "freqextract.ConditionedLSTM": ConditionedLSTM, "freqextract.MultiOutputLSTM": MultiOutputLSTM}
TRAINING_STATE = "freqextract.TrainingState"


def versions() -> dict:
    return {"freqextract": __version__, "torch": str(torch.__version__), "numpy": str(np.__version__),
            "python": platform.python_version()}


def model_kind(model: torch.nn.Module) -> str:
    if isinstance(model, ConditionedLSTM):
        return "freqextract.ConditionedLSTM"
    if isinstance(model, MultiOutputLSTM):
        return "freqextract.MultiOutputLSTM"
    return "freqextract.SequenceLSTM" if isinstance(model, SequenceLSTM) else "freqextract.StatefulLSTM"


def build_model(cfg: RunConfig, init: bool = True) -> StatefulLSTM:
    """The network a config describes (SequenceLSTM when model.seq_len > 1, ConditionedLSTM for ``mix`` and
    ``programmable``, MultiOutputLSTM for model.outputs = "all"). ``init=False``: weights that are about to be
    overwritten by saved ones, so model.init = "rotation" skips its calibration."""
    m = cfg.model
    kwargs = dict(n_inputs=1 + len(cfg.signal.frequencies), hidden_size=m.hidden_size, num_layers=m.num_layers,
                  init="default" if m.init == "rotation" else m.init, forget_bias=m.forget_bias,
                  chrono_tmax=m.chrono_tmax)
    if cfg.signal.scenario in CONDITIONED:
        kwargs["n_inputs"] = len(REQUEST_INPUTS[m.conditioning])
        return ConditionedLSTM(conditioning=m.conditioning, film_size=m.film_size, **kwargs)
    if m.outputs == "all":
        del kwargs["n_inputs"]
        return MultiOutputLSTM(n_outputs=len(cfg.signal.frequencies), **kwargs)
    if m.seq_len > 1:
        model = SequenceLSTM(**kwargs, seq_len=m.seq_len, window_state=m.window_state)
    else:
        model = StatefulLSTM(**kwargs)
    if init and m.init == "rotation":  # writes every LSTM and head weight (models/rotation.py)
        plant_rotations(model, [f / cfg.signal.fs for f in cfg.signal.frequencies], m.rotation_amplitude)
    return model


def save(path: str | Path, model: torch.nn.Module, cfg: RunConfig, step: int,
         optimizer: torch.optim.Optimizer | None = None, extra: dict | None = None) -> None:
    """Write a model checkpoint atomically: a reader never sees half a checkpoint."""
    write(path, model_kind(model), cfg, {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": int(step), "extra": extra or {},
    })


def write(path: str | Path, kind: str, cfg: RunConfig, payload: dict) -> None:
    """Write ``{kind, format, config, versions, **payload}`` atomically (temporary file, then rename)."""
    ckpt = {"kind": kind, "format": FORMAT, **payload, "config": to_dict(cfg), "versions": versions()}
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    write_bytes(path, buf.getvalue())


def load(path: str | Path, kinds=tuple(KINDS)) -> dict:
    """Read a checkpoint dict of one of ``kinds`` (default: a model); anything else is a one-line UserError.

    ``weights_only=True``: the unpickler builds tensors and plain containers only, so a crafted pickle is
    refused before any of its code can run.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a checkpoint file")
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else is another kind of file
        raise UserError(f"{path}: not a checkpoint (not a torch archive: another kind of file, or truncated)")
    try:
        _check_archive(path)
        with warnings.catch_warnings():  # torch's remarks on odd files; the outcome is what counts
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except UserError:
        raise
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unsafe content"
        raise UserError(f"{path}: refused to load: not a plain-weights checkpoint ({first[:160]})") from None
    except Exception as e:  # whatever a damaged file makes torch.load raise, the file is at fault
        raise UserError(f"{path}: not a readable checkpoint (truncated or damaged: "
                        f"{e.__class__.__name__})") from None
    if not isinstance(ckpt, dict) or "kind" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{path}: not a freqextract checkpoint (no kind/state_dict)")
    if ckpt["kind"] not in kinds:
        want = "a training state to resume from" if kinds == (TRAINING_STATE,) else "a freqextract model"
        hint = " (give checkpoints/final.pt)" if ckpt["kind"] == TRAINING_STATE else ""
        raise UserError(f"{path}: checkpoint holds a {ckpt['kind']!r}, not {want}{hint}")
    if ckpt.get("format") != FORMAT:
        raise UserError(f"{path}: checkpoint format {ckpt.get('format')!r} is not supported (need {FORMAT})")
    return ckpt


def _check_archive(path: Path) -> None:
    """torch's zip format records a CRC-32 per member, but torch.load does not check them: a byte changed
    inside the weights would load silently. Check them all (a checkpoint is small)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
        if bad is not None:
            raise UserError(f"{path}: damaged checkpoint (checksum mismatch in {bad})")


def config_of(path: str | Path, ckpt: dict) -> RunConfig:
    """The config a checkpoint was written with; one that this version cannot read is a UserError."""
    try:
        return from_dict(ckpt.get("config"))
    except UserError as e:
        raise UserError(f"{path}: checkpoint config is not valid for this version ({e})") from None


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[StatefulLSTM, RunConfig, dict]:
    """Rebuild the model of a checkpoint; returns (model in eval mode, config, checkpoint dict)."""
    ckpt = load(path)
    cfg = config_of(path, ckpt)
    model = build_model(cfg, init=False)
    if ckpt["kind"] != model_kind(model):
        raise UserError(f"{path}: checkpoint kind {ckpt['kind']} does not match its config")
    load_weights(path, model, ckpt["state_dict"])
    return model.to(device).eval(), cfg, ckpt


def load_weights(path: str | Path, module, state: dict) -> None:
    """``module.load_state_dict(state)`` (a model or an optimiser); a mismatch is a UserError naming
    ``path``."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else e.__class__.__name__
        raise UserError(f"{path}: weights do not fit the model ({first})") from None
