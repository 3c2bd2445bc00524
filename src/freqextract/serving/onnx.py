"""The ONNX artifact: one step of a streaming model, its JSON sidecar, and running it in onnxruntime.

The graph is one sample for any number of streams, with the state as explicit inputs and outputs:

    x      (streams, n)            [S, C1..CK] per stream (a conditioned model: its request features,
                                   signals.data.request_streams)
    h, c   (layers, streams, H)    the state before the step (zeros at a reset)
    ->
    y      (streams,)              the extracted sample
    h_out, c_out                   the state after the step, fed back as h, c for the next sample

``model.onnx.json`` beside ``model.onnx`` holds what the graph does not: the frequencies (selector
order), fs, sizes, input and output names and shapes, the model card (its scenario, and whether it reads
S: ``models.card``), the run config, the versions. Exported with
the current torch exporter (``torch.onnx.export(..., dynamo=True)``); needs the ``export`` extra.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_path
from ..errors import UserError
from ..models.card import card_of, describe
from .backend import ModelInfo, load_streaming_model

FORMAT = "freqextract.onnx-step"
FORMAT_VERSION = 1
INPUTS = ("x", "h", "c")
OUTPUTS = ("y", "h_out", "c_out")
EXPORT_PACKAGES = ("onnx", "onnxscript", "onnxruntime")
CHECK_ATOL = 1e-5


def sidecar_path(onnx_path: str | Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json``."""
    return Path(f"{onnx_path}.json")


def require(*packages: str) -> None:
    """One line naming the extra to install when an optional package is missing."""
    missing = [p for p in packages if _missing(p)]
    if missing:
        raise UserError(f"ONNX support needs {', '.join(missing)}: pip install \"freqextract[export]\"")


def _missing(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is None
    except ValueError:  # a module set to None in sys.modules (as tests do to hide one)
        return True


# ---------------------------------------------------------------------------------------------- export
def _one_step(model):
    import torch

    class OneStep(torch.nn.Module):
        """x (B, 1+K), h, c (layers, B, H) -> y (B,), h', c' (a multi-output model: x (B, 1) -> y (B*K,))."""

        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x, h, c):
            y, (h, c) = self.net.step(x, (h, c))
            return y, h, c

    return OneStep(model).eval()


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter warns about deprecations and optional packages it does not need; none of it is ours."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def export_onnx(checkpoint_path: str | Path, out: str | Path) -> dict:
    """Write ``out`` (.onnx) and its sidecar from a checkpoint; both atomically. Returns the sidecar.

    Before anything is renamed into place, onnxruntime loads the graph and one step for three streams
    (the export traced two) from a random state must match eager PyTorch within 1e-5.
    """
    require(*EXPORT_PACKAGES)
    out = Path(out)
    if out.suffix.lower() != ".onnx":
        raise UserError(f"--out {out}: the file name must end in .onnx")
    for p in (out, sidecar_path(out)):
        if p.is_dir():
            raise UserError(f"--out {p}: is a directory")
    import torch

    model, info, ckpt = load_streaming_model(checkpoint_path)
    step = _one_step(model)
    example = _example_inputs(info, streams=2, seed=0)
    streams = torch.export.Dim("streams", min=1)
    with _quiet_exporter():
        program = torch.onnx.export(
            step, tuple(torch.from_numpy(a) for a in example), dynamo=True, input_names=list(INPUTS),
            output_names=list(OUTPUTS), dynamic_shapes=({0: streams}, {1: streams}, {1: streams}),
            optimize=True, verbose=False)
    sidecar = _sidecar(info, ckpt, opset=program.model.opset_imports.get("", None))
    with atomic_path(out, suffix=".onnx") as tmp_onnx, \
            atomic_path(sidecar_path(out), suffix=".json") as tmp_json:
        with _quiet_exporter():
            program.save(tmp_onnx)
        _check_against_eager(tmp_onnx, step, info)
        tmp_json.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return sidecar


def _example_inputs(info: ModelInfo, streams: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    state = (info.num_layers, streams, info.hidden_size)
    x = np.zeros((streams, info.n_inputs), dtype=np.float32)  # (B, n)
    x[:, 0] = rng.uniform(-1, 1, streams)
    if info.kind == "conditioned":  # any features: nu in the band, a carrier, S times it
        x[:, 1:] = rng.uniform(-1, 1, (streams, info.n_inputs - 1))
        x[:, 1] = rng.uniform(0.05, 1, streams)
    elif info.kind == "selector":
        x[np.arange(streams), 1 + np.arange(streams) % (info.n_inputs - 1)] = 1.0
    return x, rng.normal(0, 0.5, state).astype(np.float32), rng.normal(0, 0.5, state).astype(np.float32)


def _check_against_eager(path: Path, step, info: ModelInfo) -> None:
    import torch

    session = _session(path, threads=1, name=str(path))
    inputs = _example_inputs(info, streams=3, seed=1)
    got = session.run(list(OUTPUTS), dict(zip(INPUTS, inputs, strict=True)))
    with torch.no_grad():
        want = step(*(torch.from_numpy(a) for a in inputs))
    for name, g, w in zip(OUTPUTS, got, want, strict=True):
        err = float(np.abs(g - w.numpy()).max())
        if g.shape != tuple(w.shape) or not err <= CHECK_ATOL:
            raise RuntimeError(f"exported graph differs from PyTorch in {name}: shape {g.shape} vs "
                               f"{tuple(w.shape)}, max error {err:.3g}")


def _sidecar(info: ModelInfo, ckpt: dict, opset: int | None) -> dict:
    from importlib.metadata import version

    L, H, n = info.num_layers, info.hidden_size, info.n_inputs
    if info.kind == "conditioned":
        from ..signals.data import REQUEST_INPUTS

        meaning = (f"[{', '.join(REQUEST_INPUTS[info.conditioning])}]: the sample, the requested frequency nu "
                   f"(cycles per sample) over the band's top {info.band_cycles[1]:g}"
                   + (", the request's carrier cos/sin(2 pi nu n) (n: samples since the reset) and S times it"
                      if info.conditioning == "demod" else ""))
    elif info.kind == "multi":
        meaning = "[S]: the sample"
    else:
        meaning = "[S, C1..CK]: the sample and the one-hot selector of the frequency"
    y_out = ({"name": "y", "shape": ["streams*K"], "dtype": "float32",
              "meaning": "all K components: y[b*K + k] is frequency k of stream b"} if info.kind == "multi" else
             {"name": "y", "shape": ["streams"], "dtype": "float32", "meaning": "the extracted sample"})
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "freqextract": __version__,
        "model": "freqextract.StatefulLSTM", "checkpoint": info.source, "checkpoint_kind": ckpt["kind"],
        "training_step": ckpt.get("step"),
        "kind": info.kind, "conditioning": info.conditioning,
        "band_hz": list(info.band) if info.band else None,
        "band_cycles_per_sample": list(info.band_cycles) if info.band else None,
        "model_card": info.card, "model_note": describe(info.card),
        "frequencies": list(info.frequencies), "fs": info.fs,
        "hidden_size": H, "num_layers": L, "n_inputs": n,
        "inputs": [
            {"name": "x", "shape": ["streams", n], "dtype": "float32", "meaning": meaning},
            {"name": "h", "shape": [L, "streams", H], "dtype": "float32",
             "meaning": "hidden state (zeros at a reset)"},
            {"name": "c", "shape": [L, "streams", H], "dtype": "float32",
             "meaning": "cell state (zeros at a reset)"},
        ],
        "outputs": [
            y_out,
            {"name": "h_out", "shape": [L, "streams", H], "dtype": "float32",
             "meaning": "h for the next sample"},
            {"name": "c_out", "shape": [L, "streams", H], "dtype": "float32",
             "meaning": "c for the next sample"},
        ],
        "opset": opset,
        "config": info.config,
        "versions": {p: version(p) for p in ("torch", *EXPORT_PACKAGES)},
    }


# ---------------------------------------------------------------------------------------------- runtime
def check_onnx_file(path: Path) -> None:
    """A one-line error for a file that is plainly not an ONNX graph (a checkpoint, an NPZ, text)."""
    import zipfile

    if zipfile.is_zipfile(path):  # an ONNX file is a protobuf message, never a zip archive
        hint = " (a checkpoint? give it with --checkpoint)" if path.suffix.lower() in (".pt", ".pth") else ""
        raise UserError(f"{path}: not an ONNX file but a zip archive{hint}; freqextract export writes "
                        "the .onnx file")


def read_sidecar(onnx_path: str | Path) -> ModelInfo:
    """The :class:`ModelInfo` of an exported graph, from its sidecar; every problem names the file."""
    path = sidecar_path(onnx_path)
    if not path.is_file():
        raise UserError(f"{path}: sidecar not found (freqextract export writes it beside the .onnx file)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a JSON sidecar ({e.__class__.__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(f"{path}: not a freqextract ONNX sidecar (format must be {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{path}: sidecar format_version {meta.get('format_version')!r} is not supported "
                        f"(need {FORMAT_VERSION})")

    def field(key, ok, what):
        if key not in meta or not ok(meta[key]):
            raise UserError(f"{path}: field {key} must be {what}, got {meta.get(key)!r}")
        return meta[key]

    def number(v):
        return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) and v > 0

    def count(v):
        return isinstance(v, int) and not isinstance(v, bool) and v > 0

    kind = meta.get("kind", "selector")
    if kind not in ("selector", "multi", "conditioned"):
        raise UserError(f"{path}: field kind must be 'selector', 'multi' or 'conditioned', got {kind!r}")
    band, conditioning = None, ""
    if kind == "conditioned":
        from ..signals.data import REQUEST_INPUTS

        band = tuple(field("band_hz", lambda v: isinstance(v, list) and len(v) == 2 and all(map(number, v))
                           and v[0] < v[1], "[low, high] in Hz"))
        conditioning = field("conditioning", lambda v: v in REQUEST_INPUTS, f"one of {', '.join(REQUEST_INPUTS)}")
        freqs = []
    else:
        freqs = field("frequencies", lambda v: isinstance(v, list) and v and all(map(number, v)),
                      "a non-empty list of frequencies in Hz")
    fs = field("fs", number, "a sampling rate > 0")
    hidden = field("hidden_size", count, "a positive integer")
    layers = field("num_layers", count, "a positive integer")
    names = [field(k, lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
                   "a list of tensors") for k in ("inputs", "outputs")]
    if tuple(i.get("name") for i in names[0]) != INPUTS or tuple(o.get("name") for o in names[1]) != OUTPUTS:
        raise UserError(f"{path}: inputs and outputs must be named {INPUTS} -> {OUTPUTS}")
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    scenario = (config.get("signal") or {}).get("scenario") if isinstance(config.get("signal"), dict) else None
    card = card_of({"extra": {"card": meta.get("model_card")}}, scenario)  # older sidecars have none
    return ModelInfo(frequencies=tuple(float(f) for f in freqs), fs=float(fs), hidden_size=hidden,
                     num_layers=layers, source=str(onnx_path), config=config, card=card, kind=kind,
                     conditioning=conditioning, band=band)


def _session(path: str | Path, threads: int, name: str):
    require("onnxruntime")
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads  # 0: onnxruntime's default
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3  # errors only; shape-inference notes are not for the user
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime's own error types (InvalidProtobuf, Fail, ...)
        first = (str(e).strip().splitlines() or [e.__class__.__name__])[0]
        raise UserError(f"{name}: onnxruntime cannot load it ({first[:200]})") from None


class OnnxBackend:
    """The exported one-step graph in onnxruntime; T steps are T session runs with the state fed back."""

    def __init__(self, path: str | Path, threads: int = 1):
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: ONNX file not found")
        check_onnx_file(path)
        self.info = read_sidecar(path)
        self.session = _session(path, threads, str(path))
        got_in = [(i.name, i.shape) for i in self.session.get_inputs()]
        got_out = [o.name for o in self.session.get_outputs()]
        if [n for n, _ in got_in] != list(INPUTS) or got_out != list(OUTPUTS) \
                or got_in[0][1][-1] != self.info.n_inputs or got_in[1][1][-1] != self.info.hidden_size:
            raise UserError(f"{path}: the graph's inputs {got_in} and outputs {got_out} do not match its "
                            f"sidecar ({self.info.n_inputs} inputs per stream, H {self.info.hidden_size})")
        self._outputs = list(OUTPUTS)

    def run(self, x, h, c):
        B, T, _ = x.shape
        rows = B * len(self.info.frequencies) if self.info.kind == "multi" else B  # multi: stream b*K + k
        y = np.empty((rows, T), dtype=np.float32)
        for t in range(T):
            yt, h, c = self.session.run(self._outputs, {"x": np.ascontiguousarray(x[:, t]), "h": h, "c": c})
            y[:, t] = yt
        return y, h, c
