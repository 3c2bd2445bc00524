"""Resumable training: what a resume checkpoint holds, written and read back exactly.

A training state (``RUN_DIR/checkpoints/resume-<candidate seed>.pt``, kind ``freqextract.TrainingState``)
is everything :func:`freqextract.training.loop.train` needs to go on as if it had never stopped:

    step        optimiser steps taken (the state is the one right after that step)
    done        True once training has finished: a resume hands the result back without training again
    state_dict  the model's weights             optimizer   Adam's state (moments, step counts)
    curriculum  Curriculum.state_dict()         rng         numpy Generator, numpy global and torch CPU RNGs
    history     the history records so far      seconds     training time so far
    config      the candidate's config: a state is only resumed under the same config

It must survive ``torch.load(weights_only=True)``, which builds tensors and plain Python containers only:
:func:`to_plain` turns numpy arrays into ``{"__ndarray__": raw bytes as a uint8 tensor, "dtype", "shape"}``
and numpy scalars into Python numbers, and :func:`from_plain` turns them back, bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..config import RunConfig, to_dict
from ..errors import UserError
from ..models import checkpoint

ARRAY = "__ndarray__"


# ---------------------------------------------------------------------------------------------- plain data
def to_plain(obj):
    """Numpy arrays and scalars inside ``obj`` (dicts, lists, tuples) -> tensors and Python numbers."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("cannot store an object array in a checkpoint")
        raw = np.ascontiguousarray(obj).reshape(-1).view(np.uint8)
        return {ARRAY: torch.from_numpy(raw.copy()), "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_plain(v) for v in obj)
    if obj is None or isinstance(obj, bool | int | float | str | torch.Tensor):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint")


def from_plain(obj):
    """The inverse of :func:`to_plain`."""
    if isinstance(obj, dict):
        if ARRAY in obj:
            raw = obj[ARRAY].numpy().tobytes()
            return np.frombuffer(raw, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(from_plain(v) for v in obj)
    return obj


def rng_states(rng: np.random.Generator) -> dict:
    """The training noise generator's state and the global numpy and torch (CPU) ones."""
    return {"numpy": to_plain(rng.bit_generator.state), "numpy_global": to_plain(np.random.get_state()),
            "torch": torch.get_rng_state()}


def set_rng_states(states: dict, rng: np.random.Generator) -> None:
    rng.bit_generator.state = from_plain(states["numpy"])
    np.random.set_state(from_plain(states["numpy_global"]))
    torch.set_rng_state(states["torch"])


# ---------------------------------------------------------------------------------------------- files
def state_path(checkpoint_dir: str | Path, seed: int) -> Path:
    """Where the training state of the candidate with this seed lives."""
    return Path(checkpoint_dir) / f"resume-{seed}.pt"


def save(path: str | Path, cfg: RunConfig, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         curriculum, rng: np.random.Generator, step: int, history: list[dict], seconds: float,
         done: bool) -> None:
    """Write a training state atomically (a kill at any moment leaves the previous one or this one)."""
    checkpoint.write(path, checkpoint.TRAINING_STATE, cfg, {
        "step": int(step), "done": bool(done), "model_kind": checkpoint.model_kind(model),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(), "curriculum": curriculum.state_dict(),
        "rng": rng_states(rng), "history": to_plain(history), "seconds": float(seconds),
    })


def load(path: str | Path, cfg: RunConfig) -> dict:
    """Read a training state written under ``cfg``; any other file is a one-line UserError."""
    state = checkpoint.load(path, kinds=(checkpoint.TRAINING_STATE,))
    saved = to_dict(checkpoint.config_of(path, state))
    here = to_dict(cfg)
    for section, values in here.items():
        for key, value in values.items():
            if saved[section][key] != value:
                raise UserError(f"{path}: written for another config ({section}.{key} = "
                                f"{saved[section][key]!r} there, {value!r} here)")
    types = {"step": int, "done": bool, "optimizer": dict, "curriculum": dict, "rng": dict, "history": list,
             "seconds": float}
    wrong = [k for k, tp in types.items() if not isinstance(state.get(k), tp)]
    if wrong or state["step"] < 0:
        raise UserError(f"{path}: not a complete training state (bad or missing: "
                        f"{', '.join(wrong) or 'step'})")
    return state


def restore(path: str | Path, state: dict, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            curriculum, rng: np.random.Generator) -> None:
    """Put a loaded training state back into freshly built objects (in place)."""
    if state.get("model_kind") != checkpoint.model_kind(model):
        raise UserError(f"{path}: holds the state of a {state.get('model_kind')!r}, not of a "
                        f"{checkpoint.model_kind(model)!r}")
    checkpoint.load_weights(path, model, state["state_dict"])
    checkpoint.load_weights(path, optimizer, state["optimizer"])
    try:
        curriculum.load_state_dict(state["curriculum"])
        set_rng_states(state["rng"], rng)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise UserError(f"{path}: damaged training state ({e.__class__.__name__}: "
                        f"{str(e).splitlines()[0][:120] if str(e) else ''})") from None
