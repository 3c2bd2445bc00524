"""freqextract: extract pure frequency components from noisy mixed signals with stateful LSTMs.

The public API, in one place:

    config      RunConfig, SignalConfig, ModelConfig, TrainConfig, EvalConfig, load_config
    signals     MixedSignal, generate
    data        to_table, from_table, to_streams, save_npz, load_npz, save_csv, load_csv
    models      StatefulLSTM, SequenceLSTM, detach_state
    errors      UserError
"""

__version__ = "0.1.0"

from .config import EvalConfig, ModelConfig, RunConfig, SignalConfig, TrainConfig  # noqa: E402
from .config import load as load_config  # noqa: E402
from .data import from_table, load_csv, load_npz, save_csv, save_npz, to_streams, to_table  # noqa: E402
from .errors import UserError  # noqa: E402
from .models import SequenceLSTM, StatefulLSTM, detach_state  # noqa: E402
from .signals import MixedSignal, generate  # noqa: E402

__all__ = [
    "__version__",
    "RunConfig", "SignalConfig", "ModelConfig", "TrainConfig", "EvalConfig", "load_config",
    "MixedSignal", "generate",
    "to_table", "from_table", "to_streams", "save_npz", "load_npz", "save_csv", "load_csv",
    "StatefulLSTM", "SequenceLSTM", "detach_state",
    "UserError",
]
