"""Signals: the noisy mixtures of the three scenarios and the data layouts and files they travel in.

:mod:`.scenarios` draws the mixed input S and the pure targets (numpy only); :mod:`.data` converts a
:class:`MixedSignal` to the K*N-row table, the per-frequency streams a network steps through, and the NPZ
and CSV files. The layer above the foundation: it may import ``config``, ``errors`` and ``atomic``, and
nothing else of the package. No torch here.
"""

from .data import (
    REQUIRED_ARRAYS,
    from_table,
    load_csv,
    load_npz,
    load_signal,
    save_csv,
    save_npz,
    streams_from,
    table_columns,
    to_streams,
    to_table,
)
from .scenarios import GENERATOR_VERSION, MixedSignal, draw, generate, time_axis

__all__ = [
    "MixedSignal", "generate", "draw", "time_axis", "GENERATOR_VERSION",
    "to_table", "from_table", "table_columns", "to_streams", "streams_from", "REQUIRED_ARRAYS",
    "save_npz", "load_npz", "save_csv", "load_csv", "load_signal",
]
