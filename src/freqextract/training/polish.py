"""The polish: L-BFGS on one fixed batch at the whole length, after the curriculum (``train.polish_iters``).

Adam with a decaying rate brings each oscillator close to its frequency, but the last part in ten thousand
of the frequency, which decides the phase at the end of the signal, lies in a narrow, smooth valley that
Adam's noisy steps cross slowly. A quasi-Newton method converges there in tens of evaluations. The batch
is ``train.polish_realisations`` noise realisations drawn from the training stream, fixed for the whole
polish (L-BFGS needs one objective); the mean of the group losses is minimised, weighed as in training
(``train.absent_weight``) but with no focus weights: they would move the objective under the line search.
The polished weights are kept only if they lower the validation MSE; otherwise the model is handed back
as it came.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import numpy as np
import torch

from ..config import RunConfig
from .batches import Batch, training_batch, weigh_groups
from .progress import polish_cfg, polish_evals


def _val_mse(model: torch.nn.Module, val: Batch) -> float:
    with torch.no_grad():
        y, _ = model(val.x)  # (B, N)
        return float(val.group_means((y - val.y).pow(2).mean(dim=1)).mean())


def polish(model: torch.nn.Module, cfg: RunConfig, rng: np.random.Generator, device, val: Batch,
           on_eval: Callable[[int, float], None] | None = None) -> dict:
    """L-BFGS on one fixed whole-length batch drawn from ``rng``; updates ``model`` in place when the
    validation MSE falls. ``on_eval(evaluations so far, loss)`` after every evaluation.

    Returns what happened: evaluations, training-batch loss and validation MSE before and after, whether
    the polished weights were kept, seconds.
    """
    t0 = time.perf_counter()
    batch = training_batch(polish_cfg(cfg), rng, cfg.signal.n_samples, device)  # x (B, N, n), y (B, N)
    before = copy.deepcopy(model.state_dict())
    val_before = _val_mse(model, val)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=cfg.train.polish_iters,
                            max_eval=polish_evals(cfg), history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)
    losses: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        y, _ = model(batch.x)  # (B, N)
        loss = weigh_groups(cfg, batch.group_means((y - batch.y).pow(2).mean(dim=1))).mean()
        if torch.isfinite(loss):
            loss.backward()
        losses.append(float(loss.detach()))
        if on_eval is not None:
            on_eval(len(losses), losses[-1])
        return loss

    model.train()
    opt.step(closure)
    model.eval()
    val_after = _val_mse(model, val)
    finite = all(math.isfinite(v) for v in losses) and math.isfinite(val_after)
    kept = finite and val_after < val_before
    if not kept:
        model.load_state_dict(before)
    with torch.no_grad():
        y, _ = model(batch.x)
        per_group = batch.group_means((y - batch.y).pow(2).mean(dim=1))  # (groups,) of the kept weights
    return {"evaluations": len(losses), "loss_before": losses[0], "loss_after": losses[-1],
            "per_group_loss": [float(v) for v in per_group],
            "val_before": val_before, "val_after": val_after, "kept": kept,
            "seconds": time.perf_counter() - t0}
