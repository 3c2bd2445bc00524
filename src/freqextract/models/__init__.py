"""Models: the networks, their checkpoint files and their cards.

:mod:`.lstm` holds the ``nn.Module`` classes only (explicit ``(h, c)`` state, one sample or a whole window
per call); :mod:`.checkpoint` builds the network a config describes and saves and loads it as a plain
dict (``weights_only``; the ``kind`` strings in the files are a format and never change); :mod:`.card` what
a trained model is (its scenario, and whether it reads S: a clock or a tracker), plain data without torch.
May import the foundation (``config``, ``errors``, ``atomic``, ``runtime``) and ``signals``; nothing above.
Names load lazily, so the card is read without importing torch.
"""

from .._lazy import lazy_names

_NAMES = {
    **dict.fromkeys(["StatefulLSTM", "SequenceLSTM", "MultiOutputLSTM", "State", "detach_state",
                     "count_parameters"], ".lstm"),
    **dict.fromkeys(["build_model", "load_model"], ".checkpoint"),
    **dict.fromkeys(["make_card", "card_of", "describe"], ".card"),
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_names(__name__, _NAMES)
