"""freqextract: extract pure frequency components from noisy mixed signals with stateful LSTMs.

The public API, in one place (imported lazily, so ``import freqextract`` does not load torch):

    config      RunConfig, SignalConfig, ModelConfig, TrainConfig, EvalConfig, load_config
    signals     MixedSignal, generate
    data        to_table, from_table, to_streams, save_npz, load_npz, save_csv, load_csv
    models      StatefulLSTM, SequenceLSTM, detach_state
    stream      StreamExtractor
    export      export_onnx
    errors      UserError
"""

import importlib

__version__ = "0.1.0"

_API = {
    "RunConfig": "config", "SignalConfig": "config", "ModelConfig": "config", "TrainConfig": "config",
    "EvalConfig": "config", "load_config": ("config", "load"),
    "MixedSignal": "signals", "generate": "signals",
    "to_table": "signals", "from_table": "signals", "to_streams": "signals", "save_npz": "signals",
    "load_npz": "signals", "save_csv": "signals", "load_csv": "signals",
    "StatefulLSTM": "models", "SequenceLSTM": "models", "detach_state": "models",
    "StreamExtractor": "serving.stream", "export_onnx": "serving.onnx",
    "UserError": "errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'freqextract' has no attribute {name!r}")
    module, attr = _API[name] if isinstance(_API[name], tuple) else (_API[name], name)
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
