"""Streaming extraction: push samples one at a time (or in chunks), get the extracted components back.

A stateful LSTM with sequence length 1 is a recursive filter: one sample in, one value per chosen
frequency out, the (h, c) state handed on. The extractor runs one stream per chosen frequency with its
one-hot selector, exactly the streams layout training and evaluation use (``signals.data.streams_from``):

    push(S)   scalar or chunk (T,)
    x         (n_streams, T, 1+K)   x[j, t] = [S_t, one-hot of chosen frequency j]
    y         (n_streams, T)        -> returned transposed, (T, n_streams)
    state     (h, c)                each (layers, n_streams, H) float32; zero after reset()

A multi-output model (``model.outputs = "all"``) runs one stream, x (1, T, 1) = S, whose K outputs are the
columns: the chosen ones are returned, (T, chosen), and the state is (layers, 1, H).

A conditioned model (scenario ``mix``) is told each frequency as a number instead: one stream per requested
frequency f (any in the trained band; Hz at the data's rate ``fs``, converted to cycles per sample), with the
features ``signals.data.request_streams`` builds, the sample counter since the reset among its state.

So pushing a whole signal from the reset state gives what ``evaluation.metrics.predict`` gives, and pushing it in
any chunking gives the same values. The network runs in a :class:`Backend`: :class:`TorchBackend` (a
checkpoint) or ``onnx.OnnxBackend`` (an exported one-step graph in onnxruntime), same interface.

    ex = StreamExtractor.from_checkpoint("run/checkpoints/final.pt", frequencies=[1, 3])
    ex.push(0.12)           # (1, 2): one sample, two frequencies
    ex.push(chunk)          # (len(chunk), 2)
    saved = ex.state        # copies of (h, c); ``ex.state = saved`` resumes from there
    ex.reset()              # a new sequence starts
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..signals.data import request_streams
from .backend import Backend, ModelInfo, TorchBackend, load_streaming_model

NpState = tuple[np.ndarray, np.ndarray]  # h, c: each (layers, streams, H) float32


def select_frequencies(available: Sequence[float], wanted: Sequence[float] | None) -> list[int]:
    """Indices into ``available`` of the ``wanted`` frequencies (Hz), in the order given; None: all."""
    if wanted is None:
        return list(range(len(available)))
    known = ", ".join(f"{f:g}" for f in available)
    if len(wanted) == 0:
        raise UserError(f"frequencies: choose at least one of the model's ({known} Hz)")
    chosen: list[int] = []
    for f in wanted:
        hits = np.flatnonzero(np.isclose(np.asarray(available, dtype=np.float64), float(f),
                                         rtol=1e-9, atol=1e-9))
        if hits.size == 0:
            raise UserError(f"frequency {float(f):g} Hz: not one of the model's frequencies ({known} Hz)")
        if int(hits[0]) in chosen:
            raise UserError(f"frequency {float(f):g} Hz: chosen twice")
        chosen.append(int(hits[0]))
    return chosen


def check_band(info: ModelInfo, frequencies: Sequence[float] | None, fs: float) -> np.ndarray:
    """Requested frequencies (Hz at ``fs``) -> cycles per sample, each inside the model's trained band;
    one outside it is refused with one line stating the band in Hz at ``fs``."""
    if not frequencies:
        raise UserError("frequencies: this model is told the frequency to extract; give at least one "
                        "(e.g. --freq 2.5 6.8), in Hz")
    lo, hi = info.band_cycles
    nu = np.asarray([float(f) for f in frequencies], dtype=np.float64) / fs
    for f, n in zip(frequencies, nu, strict=True):
        if not lo * (1 - 1e-9) <= n <= hi * (1 + 1e-9):
            at = f" at fs {fs:g} Hz" if fs != info.fs else ""
            raise UserError(f"frequency {float(f):g} Hz: outside the model's band {lo * fs:g} to {hi * fs:g} Hz{at}")
    if len(set(nu.tolist())) != len(nu):
        raise UserError("frequencies: a frequency is requested twice")
    return nu


class StreamExtractor:
    """Push samples, get the chosen frequencies' components; the state is carried between pushes.

    ``fs``: the sampling rate of the data pushed (default: the model's); the requested Hz refer to it.
    """

    def __init__(self, backend: Backend, info: ModelInfo, frequencies: Sequence[float] | None = None,
                 fs: float | None = None):
        self.backend = backend
        self.info = info
        self.fs = float(fs) if fs is not None else info.fs
        if info.kind == "conditioned":
            self._nu = check_band(info, frequencies, self.fs)  # (B,) cycles per sample
            self._requested = tuple(float(f) for f in frequencies)
            self._selected = list(range(len(self._nu)))
        else:
            if fs is not None and abs(float(fs) - info.fs) > 1e-9 * info.fs:
                raise UserError(f"fs: the model was trained at {info.fs:g} Hz and cannot run at {float(fs):g} Hz "
                                "(only a frequency-conditioned model converts)")
            self._selected = select_frequencies(info.frequencies, frequencies)
            if info.kind == "multi":
                self._one = np.zeros((1, 1, 1), dtype=np.float32)  # (1, 1, 1): reused for single samples
            else:
                B = len(self._selected)
                self._selectors = np.zeros((B, info.n_inputs), dtype=np.float32)  # (B, 1+K), column 0 is S
                self._selectors[np.arange(B), 1 + np.asarray(self._selected)] = 1.0
                self._one = self._selectors[:, None, :].copy()  # (B, 1, 1+K): reused for single samples
        self.reset()

    # ------------------------------------------------------------------------------------------ factories
    @classmethod
    def from_checkpoint(cls, path: str | Path, frequencies: Sequence[float] | None = None,
                        threads: int | None = None, fs: float | None = None) -> StreamExtractor:
        """PyTorch backend. ``threads``: torch's CPU threads, a process-wide setting (None: the
        checkpoint's ``train.threads``, 1 by default, the fast setting for a few streams; 0: torch's
        default)."""
        from ..runtime import configure_threads

        model, info, _ = load_streaming_model(path)
        configure_threads(info.config["train"]["threads"] if threads is None else threads)
        return cls(TorchBackend(model), info, frequencies, fs)

    @classmethod
    def from_onnx(cls, path: str | Path, frequencies: Sequence[float] | None = None,
                  threads: int = 1, fs: float | None = None) -> StreamExtractor:
        """onnxruntime backend for a file written by ``freqextract export`` (and its JSON sidecar)."""
        from .onnx import OnnxBackend

        backend = OnnxBackend(path, threads=threads)
        return cls(backend, backend.info, frequencies, fs)

    # ------------------------------------------------------------------------------------------ streaming
    @property
    def frequencies(self) -> tuple[float, ...]:
        """The chosen frequencies (Hz at ``fs``), in output column order."""
        if self.info.kind == "conditioned":
            return self._requested
        return tuple(self.info.frequencies[i] for i in self._selected)

    @property
    def columns(self) -> list[str]:
        """Output column names, e.g. ``f1Hz``."""
        return [f"f{f:g}Hz" for f in self.frequencies]

    @property
    def n_streams(self) -> int:
        """Streams the network runs: one per chosen frequency, or one in all for a multi-output model."""
        return 1 if self.info.kind == "multi" else len(self._selected)

    @property
    def n_columns(self) -> int:
        """Output columns: one per chosen frequency."""
        return len(self._selected)

    @property
    def state_shape(self) -> tuple[int, int, int]:
        return (self.info.num_layers, self.n_streams, self.info.hidden_size)

    def reset(self) -> None:
        """Zero state: the next sample is the first of a new sequence (t = 0)."""
        self._h = np.zeros(self.state_shape, dtype=np.float32)
        self._c = np.zeros(self.state_shape, dtype=np.float32)
        self.position = 0  # samples pushed since the reset (a conditioned model's carrier counts them)

    @property
    def state(self) -> NpState:
        """Copies of (h, c), each (layers, n_streams, H) float32; assign them back to resume."""
        return self._h.copy(), self._c.copy()

    @state.setter
    def state(self, value: NpState) -> None:
        h, c = (np.array(v, dtype=np.float32) for v in value)  # copies
        for name, v in (("h", h), ("c", c)):
            if v.shape != self.state_shape:
                raise ValueError(f"state {name}: expected shape {self.state_shape}, got {v.shape}")
            if not np.isfinite(v).all():
                raise ValueError(f"state {name}: contains NaN or infinite values")
        self._h, self._c = h, c

    def push(self, samples) -> np.ndarray:
        """A sample (scalar) or a chunk (T,) of S -> outputs (T, n_columns) float32 (T = 1 for a scalar)."""
        s = np.asarray(samples, dtype=np.float32)
        if s.ndim > 1:
            raise ValueError(f"push: expected a scalar or a 1-D chunk of samples, got shape {s.shape}")
        if not np.isfinite(s).all():
            bad = int(np.flatnonzero(~np.isfinite(s.reshape(-1)))[0])
            raise ValueError(f"push: sample {bad} of the chunk is {s.reshape(-1)[bad]} (must be finite)")
        if self.info.kind == "conditioned":
            chunk = np.asarray(samples, dtype=np.float64).reshape(1, -1)  # (1, T), as a batch reads it
            if chunk.shape[1] == 0:
                return np.zeros((0, self.n_columns), dtype=np.float32)
            x = request_streams(chunk, self._nu[None], self.info.conditioning, self.info.band_cycles[1],
                                start=self.position)  # (B, T, n)
            self.position += chunk.shape[1]
        elif s.ndim == 0:
            x = self._one
            x[:, 0, 0] = s
        elif s.shape[0] == 0:
            return np.zeros((0, self.n_columns), dtype=np.float32)
        elif self.info.kind == "multi":
            x = s.reshape(1, -1, 1)  # (1, T, 1)
        else:
            x = np.empty((self.n_streams, s.shape[0], self.info.n_inputs), dtype=np.float32)  # (B, T, 1+K)
            x[...] = self._selectors[:, None, :]
            x[:, :, 0] = s
        y, self._h, self._c = self.backend.run(x, self._h, self._c)  # y (B, T); multi: (K, T)
        if self.info.kind == "multi":
            y = y[self._selected]  # (chosen, T)
        return np.ascontiguousarray(y.T)


def open_extractor(checkpoint: str | Path | None = None, onnx: str | Path | None = None,
                   frequencies: Sequence[float] | None = None, fs: float | None = None) -> StreamExtractor:
    """An extractor from exactly one of a checkpoint (PyTorch) or an exported ONNX file (onnxruntime)."""
    if (checkpoint is None) == (onnx is None):
        raise UserError("give exactly one of a checkpoint or an ONNX file")
    if checkpoint is not None:
        return StreamExtractor.from_checkpoint(checkpoint, frequencies, fs=fs)
    return StreamExtractor.from_onnx(onnx, frequencies, fs=fs)
