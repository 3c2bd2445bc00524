"""What a streaming model is and where it runs: :class:`ModelInfo`, the :class:`Backend` interface, the
PyTorch backend and the checkpoint loader.

The stream extractor (:mod:`.stream`) and the ONNX export and runtime (:mod:`.onnx`) both build on this
module and on nothing of each other's, so neither imports the other at load time. torch is imported
only where a checkpoint is loaded or run: the ONNX path works without it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import UserError
from ..signals.data import REQUEST_INPUTS

if TYPE_CHECKING:  # torch is imported where a checkpoint runs: the ONNX path works without it
    from ..models.lstm import StatefulLSTM

@dataclass(frozen=True)
class ModelInfo:
    """What a streaming model was trained on, wherever it runs."""

    frequencies: tuple[float, ...]  # all K selector frequencies, in selector order
    fs: float
    hidden_size: int
    num_layers: int
    source: str  # the checkpoint or ONNX file
    config: dict = field(default_factory=dict, compare=False)  # the run config, nested dicts
    # "selector" (one-hot over `frequencies`), "multi" (reads S only, returns all `frequencies`: model.outputs =
    # "all") or "conditioned" (told f as a number)
    kind: str = "selector"
    conditioning: str = ""  # conditioned: how nu enters (signals.data.REQUEST_INPUTS)
    band: tuple[float, float] | None = None  # conditioned: the trained band, Hz at fs
    card: dict = field(default_factory=dict, compare=False)  # what the model is (models.card)

    @property
    def n_inputs(self) -> int:
        if self.kind == "conditioned":
            return len(REQUEST_INPUTS[self.conditioning])
        return 1 if self.kind == "multi" else 1 + len(self.frequencies)

    @property
    def band_cycles(self) -> tuple[float, float] | None:
        """The trained band in cycles per sample (what the model works in)."""
        return None if self.band is None else (self.band[0] / self.fs, self.band[1] / self.fs)


def info_from_config(cfg, model, source: str) -> ModelInfo:
    """The :class:`ModelInfo` of a model trained under ``cfg`` (a RunConfig)."""
    from ..config import CONDITIONED, to_dict

    s = cfg.signal
    conditioned = s.scenario in CONDITIONED
    kind = "conditioned" if conditioned else ("multi" if cfg.model.outputs == "all" else "selector")
    return ModelInfo(frequencies=() if conditioned else tuple(float(f) for f in s.frequencies), fs=float(s.fs),
                     hidden_size=model.hidden_size, num_layers=model.num_layers, source=source,
                     config=to_dict(cfg), kind=kind,
                     conditioning=cfg.model.conditioning if conditioned else "",
                     band=(float(s.band[0]), float(s.band[1])) if conditioned else None)


class Backend(Protocol):
    """Runs the network over T steps for B independent streams from a given state."""

    def run(self, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (B, T, n_inputs) float32, h and c (layers, B, H) -> y (B, T), h', c' (kind "multi": y (B*K, T))."""
        ...


class TorchBackend:
    """A :class:`~freqextract.models.StatefulLSTM` on the CPU; T steps are one fused LSTM call."""

    def __init__(self, model: StatefulLSTM):
        self.model = model.cpu().float().eval()

    def run(self, x, h, c):
        import torch

        with torch.inference_mode():
            y, (h, c) = self.model(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))  # (B, T)
        return y.numpy(), h.numpy(), c.numpy()


def load_streaming_model(path: str | Path) -> tuple[StatefulLSTM, ModelInfo, dict]:
    """The one-sample-per-step model of a checkpoint: (model in eval mode, info, checkpoint dict).

    A ``SequenceLSTM`` in ``carry`` mode computes exactly the L = 1 model's outputs (its windows only
    cut the gradient in training), so it streams as the plain model with the same weights. One in
    ``reset`` mode restarts every output from the zero state: it has no running state to stream.
    """
    from ..models import checkpoint
    from ..models.card import card_of
    from ..models.lstm import SequenceLSTM, StatefulLSTM

    model, cfg, ckpt = checkpoint.load_model(path)
    if isinstance(model, SequenceLSTM):
        if model.window_state != "carry":
            raise UserError(f"{path}: holds a {ckpt['kind']} with window_state {model.window_state!r} "
                            f"(seq_len {model.seq_len}): each output restarts from the zero state over its "
                            f"last {model.seq_len} samples, so it is not a one-sample streaming model")
        plain = StatefulLSTM(model.lstm.input_size, model.hidden_size, model.num_layers, init="default")
        plain.load_state_dict(model.state_dict())  # same parameter names: lstm.*, head.*
        model = plain.eval()
    info = info_from_config(cfg, model, str(path))
    return model, dataclasses.replace(info, card=card_of(ckpt, cfg.signal.scenario)), ckpt
