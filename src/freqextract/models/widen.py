"""Start a wider model from a narrower one's weights, computing exactly what the narrow one computes.

``train.init_from`` with ``model.hidden_size`` above the checkpoint's: the checkpoint's H units keep their
weights, and the H' - H new units start from the wide model's own (seeded) init, their weights scaled by
``NEW_SCALE``, with two blocks zero so that the wide model's output equals the narrow one's at the start:

    weight_hh (4H', H')   the old units' gate rows read no new unit (their columns H.. are 0)
    head.weight (K, H')   the read-out ignores the new units (columns H.. are 0; K outputs)
    weight_ih (4H', n)    the old rows are the checkpoint's; the new rows a fresh init's x NEW_SCALE

The new units see everything (S, the request, every old unit) from the start, so the first gradient
steps can recruit them; the old ones learn to read them only as training goes. One-layer LSTM models with
a linear read-out (selector, multi-output, concat and demod conditioning); anything else is refused.
"""

from __future__ import annotations

import torch

NEW_SCALE = 0.1  # the new units' input and recurrent weights, as a fraction of a fresh init's
_LSTM_KEYS = ("lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0")


def hidden_size_of(state: dict) -> int:
    """The LSTM width a model state dict holds."""
    return int(state["lstm.weight_hh_l0"].shape[1])


def widen(state: dict, model: torch.nn.Module) -> dict:
    """The narrow ``state``'s weights laid into ``model`` (wider, freshly initialised): a state dict for it.

    Raises ValueError naming what does not fit (another depth or layout, a narrower target, a key only one
    side has)."""
    wide = model.state_dict()
    if set(wide) != set(state):
        extra = sorted(set(wide) ^ set(state))
        raise ValueError(f"the two models hold different weights ({extra[0]})")
    if getattr(model, "num_layers", 1) != 1 or getattr(model, "conditioning", None) == "film":
        raise ValueError("only a one-layer model with a linear read-out can be widened")
    H, H2 = hidden_size_of(state), hidden_size_of(wide)
    if H2 < H:
        raise ValueError(f"the model is narrower ({H2} units) than the checkpoint ({H})")
    old = torch.cat([torch.arange(g * H2, g * H2 + H) for g in range(4)])  # the old units' rows, per gate
    out = {}
    for key, fresh in wide.items():
        v = state[key].to(fresh.dtype)
        if key in _LSTM_KEYS:
            w = fresh.clone()
            if w.dim() == 2:
                w.mul_(NEW_SCALE)
                w[old] = 0
                w[old, :v.shape[1]] = v
            else:
                w[old] = v
            out[key] = w
        elif key == "head.weight":
            w = torch.zeros_like(fresh)
            w[:, :H] = v
            out[key] = w
        elif v.shape == fresh.shape:
            out[key] = v.clone()
        else:
            raise ValueError(f"{key}: shape {tuple(v.shape)} does not widen to {tuple(fresh.shape)}")
    return out
