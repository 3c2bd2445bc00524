"""freqextract: extract pure frequency components from noisy mixed signals with stateful LSTMs.

The public API, in one place (imported lazily, so ``import freqextract`` does not load torch):

    config      RunConfig, SignalConfig, ModelConfig, TrainConfig, EvalConfig, load_config
    signals     MixedSignal, generate, to_table, from_table, to_streams, save_npz, load_npz, save_csv, load_csv
    models      StatefulLSTM, SequenceLSTM, detach_state
    serving     StreamExtractor, export_onnx
    errors      UserError

The package is layered; each layer imports only from the layers below it (and within itself), and each
subpackage's docstring says what it does and what it may import:

    cli                  parse the command line, call the library, print
    studies              one run directory; Optuna sweeps, their storage and summary
    reporting            figures and self-contained HTML pages of finished results
    training, serving    train a model; run a trained one on a stream (serving never imports training)
    evaluation           metrics, classical baselines, the evaluation of a trained run
    models               the networks and their checkpoint files
    signals              the noisy mixtures of the scenarios and their layouts and files
    errors, config, atomic, runtime    the foundation

The module paths of the earlier flat layout (``freqextract.stream``, ``freqextract.train``, ...) still
import, with a DeprecationWarning that names the new place (:mod:`freqextract._aliases`).
"""

from . import _aliases
from ._lazy import lazy_names

__version__ = "0.1.0"

_API = {
    "RunConfig": ".config", "SignalConfig": ".config", "ModelConfig": ".config", "TrainConfig": ".config",
    "EvalConfig": ".config", "load_config": (".config", "load"),
    **dict.fromkeys(["MixedSignal", "generate", "to_table", "from_table", "to_streams", "save_npz", "load_npz",
                     "save_csv", "load_csv"], ".signals"),
    **dict.fromkeys(["StatefulLSTM", "SequenceLSTM", "detach_state"], ".models"),
    "StreamExtractor": ".serving.stream", "export_onnx": ".serving.onnx",
    "UserError": ".errors",
}

__all__ = ["__version__", *_API]
__getattr__, _ = lazy_names(__name__, _API)
_aliases.install()


def __dir__():
    return sorted(__all__)
