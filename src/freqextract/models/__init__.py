"""Models: the networks and their checkpoint files.

:mod:`.lstm` holds the ``nn.Module`` classes only (explicit ``(h, c)`` state, one sample or a whole window
per call); :mod:`.checkpoint` builds the network a config describes and saves and loads it as a plain
dict (``weights_only``; the ``kind`` strings in the files are a format and never change). May import the
foundation (``config``, ``errors``, ``atomic``, ``runtime``) and ``signals``; nothing above.
"""

from .checkpoint import build_model, load_model
from .lstm import SequenceLSTM, State, StatefulLSTM, count_parameters, detach_state

__all__ = ["StatefulLSTM", "SequenceLSTM", "State", "detach_state", "count_parameters", "build_model",
           "load_model"]
