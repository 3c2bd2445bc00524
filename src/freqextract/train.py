"""Training: fresh noise every step, a horizon curriculum, backprop through time with the state carried.

One optimiser step sees ``train.realisations`` fresh noise sequences of the current horizon h (the first h
samples after the reset), as R*K streams (one per sequence and selector). The horizon is cut into windows
of ``tbptt`` samples (the whole horizon when 0); each window is one fused LSTM call from the state the
previous window left, one backward, one optimiser step, then the state is detached:

    t = 0 ............................................................ h
        [ window 1: fused call ] [ window 2 ] ...      state carried ->, gradient cut at  |

The literal loop (:func:`literal_window`) does the same window one sample at a time, ``model.step`` per
sample; it is the reference the fused loop is tested against (same outputs, same gradients).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .checkpoint import build_model
from .config import RunConfig
from .data import streams_from
from .errors import UserError
from .models import SequenceLSTM, State, StatefulLSTM, detach_state
from .signals import draw


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit choice that is not available is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"train.device: {name} requested but CUDA is not available")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("train.device: mps requested but not available")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


# ---------------------------------------------------------------------------------------------- windows
def per_stream_mse(y: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T) outputs and targets -> (B,) mean squared error per stream."""
    return (y - target).pow(2).mean(dim=1)


def fused_window(model: StatefulLSTM, x: torch.Tensor, target: torch.Tensor,
                 state: State | None) -> tuple[torch.Tensor, State]:
    """One fused call over a window: x (B, W, n), target (B, W) -> per-stream MSE (B,), state."""
    y, state = model(x, state)  # (B, W)
    return per_stream_mse(y, target), state


def literal_window(model: StatefulLSTM, x: torch.Tensor, target: torch.Tensor,
                   state: State | None) -> tuple[torch.Tensor, State]:
    """The same window one sample at a time (sequence length 1, state handed from sample to sample)."""
    ys = []
    for n in range(x.shape[1]):
        y_n, state = model.step(x[:, n], state)  # (B,)
        ys.append(y_n)
    return per_stream_mse(torch.stack(ys, dim=1), target), state


WindowFn = Callable[[StatefulLSTM, torch.Tensor, torch.Tensor, State | None], tuple[torch.Tensor, State]]


def train_sequence(model: StatefulLSTM, optimizer: torch.optim.Optimizer, x: torch.Tensor, target: torch.Tensor,
                   window: int, clip: float, window_fn: WindowFn = fused_window,
                   before_step: Callable[[], None] | None = None) -> torch.Tensor:
    """Truncated BPTT over one batch of sequences from the reset state; returns per-stream MSE (B,).

    x (B, T, n), target (B, T); one optimiser step per ``window`` samples.
    """
    state: State | None = None
    errs = []
    for start in range(0, x.shape[1], window):
        xs, ts = x[:, start:start + window], target[:, start:start + window]
        if isinstance(model, SequenceLSTM) and model.window_state == "carry":
            y, state = model(xs, state, detach_windows=True)
            err = per_stream_mse(y, ts)
        else:
            err, state = window_fn(model, xs, ts, state)
        loss = err.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        if before_step is not None:
            before_step()
        optimizer.step()
        state = detach_state(state)
        errs.append(err.detach() * xs.shape[1])
    return torch.stack(errs).sum(0) / x.shape[1]


# ---------------------------------------------------------------------------------------------- the loop
@dataclass
class TrainResult:
    model: StatefulLSTM
    optimizer: torch.optim.Optimizer
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0


def stage_lr(cfg: RunConfig, horizon: int) -> float:
    """Base learning rate, scaled by 1000 / (samples one backward spans)."""
    span = horizon if cfg.train.tbptt == 0 else min(horizon, cfg.train.tbptt)
    return cfg.train.lr * 1000.0 / span


def train(cfg: RunConfig, device: torch.device | None = None, progress: bool | None = None,
          on_log: Callable[[dict], None] | None = None, window_fn: WindowFn = fused_window) -> TrainResult:
    """Train the model a config describes; deterministic on CPU for a given ``train.seed``."""
    device = device or select_device(cfg.train.device)
    seed_everything(cfg.train.seed)
    model = build_model(cfg).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    rng = np.random.default_rng([cfg.train.seed, 0xF2E9])  # training noise, never the eval seeds' streams
    K, R = len(cfg.signal.frequencies), cfg.train.realisations
    history: list[dict] = []
    total = sum(steps for _, steps in cfg.train.curriculum)
    t0 = time.perf_counter()
    step = 0
    bar = tqdm(total=total, desc="train", disable=(not progress) if progress is not None else None, leave=False)
    for stage, (horizon, steps) in enumerate(cfg.train.curriculum):
        window = horizon if cfg.train.tbptt == 0 else min(horizon, cfg.train.tbptt)
        base_lr = stage_lr(cfg, horizon)
        for i in range(steps):
            lr = base_lr * 0.5 * (1.0 + math.cos(math.pi * i / steps))
            for group in optimizer.param_groups:
                group["lr"] = lr
            S, targets = draw(cfg.signal, rng, R, horizon)
            x, y = streams_from(S, targets)  # (R*K, h, 1+K), (R*K, h)
            err = train_sequence(model, optimizer, torch.as_tensor(x, device=device),
                                 torch.as_tensor(y, device=device), window, cfg.train.clip, window_fn)
            per_freq = err.reshape(R, K).mean(0)
            loss = float(per_freq.mean())
            if not math.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss} at step {step}")
            step += 1
            bar.update(1)
            if step % cfg.train.log_every == 0 or i in (0, steps - 1):
                rec = {"step": step, "stage": stage, "horizon": horizon, "lr": lr, "loss": loss,
                       "per_frequency_loss": [float(v) for v in per_freq], "seconds": time.perf_counter() - t0}
                history.append(rec)
                bar.set_postfix(h=horizon, loss=f"{loss:.4f}")
                if on_log is not None:
                    on_log(rec)
    bar.close()
    model.eval()
    return TrainResult(model=model, optimizer=optimizer, history=history, steps=step,
                       seconds=time.perf_counter() - t0)
