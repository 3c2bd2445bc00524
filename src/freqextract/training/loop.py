"""Training: fresh noise every step, a horizon curriculum, backprop through time with the state carried.

One optimiser step sees ``train.realisations`` fresh noise sequences of the current horizon h (the first h
samples after the reset), as R*K streams (one per sequence and selector). The horizon follows
:class:`Curriculum`: a warm-up on a short horizon, a geometric growth to the whole signal, a final phase.
The horizon is cut into windows of ``tbptt`` samples (the whole horizon when 0); each window is one
fused LSTM call from the state the previous window left, one backward, one optimiser step, then the
state is detached:

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
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..config import RunConfig
from ..errors import Diverged, UserError
from ..models import checkpoint, widen
from ..models.checkpoint import build_model
from ..models.lstm import SequenceLSTM, State, StatefulLSTM, detach_state
from ..runtime import configure_threads, seed_everything, select_device
from . import resume
from .batches import training_batch, validation_batch, weigh_groups
from .curriculum import Curriculum, focus_loss
from .polish import polish
from .progress import WorkBar, planned_work, polish_work, streams


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
                   loss_fn: Callable[[torch.Tensor], torch.Tensor] = torch.mean,
                   max_grad_norm: float = 0.0) -> torch.Tensor:
    """Truncated BPTT over one batch of sequences from the reset state; returns per-stream MSE (B,).

    x (B, T, n), target (B, T); one optimiser step per ``window`` samples on ``loss_fn(per-stream MSE)``.
    A non-finite loss or gradient norm, or a gradient norm (before clipping) above ``max_grad_norm`` (when
    > 0), raises :class:`Diverged` before the optimiser step, so the weights are never updated with it.
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
        loss = loss_fn(err)
        if not torch.isfinite(loss):
            raise Diverged(f"loss became {loss.item()}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))
        if not math.isfinite(norm):
            raise Diverged(f"gradient norm became {norm}")
        if max_grad_norm > 0 and norm > max_grad_norm:
            raise Diverged(f"gradient norm {norm:.3g} exceeded train.max_grad_norm = {max_grad_norm:g}")
        optimizer.step()
        state = detach_state(state)
        errs.append(err.detach() * xs.shape[1])
    return torch.stack(errs).sum(0) / x.shape[1]


# ---------------------------------------------------------------------------------------------- the loop
def _polish_step(model: StatefulLSTM, cfg: RunConfig, rng: np.random.Generator, device: torch.device,
                 val_batch, step: int, done: int, restarts: int, on_work: WorkFn, t0: float) -> dict:
    """The polish after the curriculum (training/polish.py) as one more step: its history record."""
    total = polish_work(cfg)
    per_eval = total // max(cfg.train.polish_iters * 5 // 4, 1)
    info = polish(model, cfg, rng, device, val_batch,
                  on_eval=lambda i, loss: on_work(done + min(i * per_eval, total), total - min(i * per_eval, total),
                                                  loss))
    on_work(done + total, 0, info["loss_after"])
    with torch.no_grad():
        val = val_batch.group_means(per_stream_mse(model(val_batch.x)[0], val_batch.y))  # (groups,)
    return {"step": step, "phase": "polish", "horizon": cfg.signal.n_samples, "lr": 0.0,
            "loss": float(np.mean(info["per_group_loss"])), "restarts": restarts,
            "per_frequency_loss": info["per_group_loss"], "val_mse": float(val.mean()),
            "val_per_frequency_mse": [float(v) for v in val], "seconds": time.perf_counter() - t0,
            "polish": info}


@dataclass
class TrainResult:
    model: StatefulLSTM
    optimizer: torch.optim.Optimizer
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    resumed_from: int = 0  # the step a resumed training went on from (0: trained from the start)


def fresh_init(cfg: RunConfig, device: torch.device, restart: int) -> tuple[StatefulLSTM, torch.optim.Optimizer]:
    """A new model and optimiser; restart r > 0 draws its init from a seed of its own, derived from
    (train.seed, r), so a restarted run is as deterministic as any other."""
    seed = cfg.train.seed
    if restart:
        seed = int(np.random.SeedSequence([cfg.train.seed, restart]).generate_state(1)[0])
    seed_everything(seed)
    model = build_model(cfg)
    if cfg.train.init_from:
        start_from(model, cfg.train.init_from)
    model = model.to(device)
    model.train()
    return model, torch.optim.Adam(model.parameters(), lr=cfg.train.lr)


def start_from(model: StatefulLSTM, path: str) -> None:
    """Load the weights of the model checkpoint ``path`` into ``model`` (``train.init_from``: transfer to a
    new frequency set or band). A ``model.hidden_size`` above the checkpoint's widens it (models/widen.py:
    the same outputs at the start, new units to recruit); a checkpoint of another kind or shape is a
    UserError naming the field."""
    if not Path(path).is_file():
        raise UserError(f"train.init_from: {path}: checkpoint not found")
    ckpt = checkpoint.load(path)
    if ckpt["kind"] != checkpoint.model_kind(model):
        raise UserError(f"train.init_from: {path} holds a {ckpt['kind']}, this config trains a "
                        f"{checkpoint.model_kind(model)}")
    state = ckpt["state_dict"]
    if "lstm.weight_hh_l0" in state and widen.hidden_size_of(state) < model.hidden_size:
        try:
            state = widen.widen(state, model)
        except ValueError as e:
            raise UserError(f"model.hidden_size: {model.hidden_size} units cannot start from {path} "
                            f"({widen.hidden_size_of(state)} units): {e}") from None
    checkpoint.load_weights(f"train.init_from: {path}", model, state)


WorkFn = Callable[[int, int, float], None]  # (samples done, samples still planned, the step's loss)


def train(cfg: RunConfig, device: torch.device | None = None, progress: bool | None = None,
          on_log: Callable[[dict], None] | None = None, window_fn: WindowFn = fused_window,
          state_path: str | Path | None = None, on_work: WorkFn | None = None) -> TrainResult:
    """Train the model a config describes; deterministic on CPU for a given ``train.seed``.

    ``on_log(record)`` is called with every history record (step, val_mse, ...: every ``train.log_every``
    steps); an exception it raises ends the training (a sweep prunes a hopeless trial this way).

    Progress is counted in work (:mod:`freqextract.training.progress`): ``on_work(done, remaining, loss)``
    after every step, in samples over all streams; without it, ``progress`` shows this training's own bar.

    ``state_path``: a resume checkpoint (:mod:`freqextract.training.resume`). If it exists, training goes on from
    it (and a finished one is handed back as it is); the state is written there every
    ``train.checkpoint_every`` steps and when training ends. On CPU a resumed training ends bit-identical
    to one that was never stopped. A diverging step raises :class:`Diverged` and leaves the file as it
    was: the last good state.
    """
    device = device or select_device(cfg.train.device)
    configure_threads(cfg.train.threads)
    model, optimizer = fresh_init(cfg, device, restart=0)
    rng = np.random.default_rng([cfg.train.seed, 0xF2E9])  # training noise, never the eval seeds' streams
    curriculum = Curriculum(cfg)
    val_batch = validation_batch(cfg, device)
    history: list[dict] = []
    step, elapsed, saved = 0, 0.0, None
    if state_path is not None and Path(state_path).exists():
        saved = resume.load(state_path, cfg)
        resume.restore(state_path, saved, model=model, optimizer=optimizer, curriculum=curriculum, rng=rng)
        step, elapsed, history = saved["step"], saved["seconds"], resume.from_plain(saved["history"])
        if saved["done"]:
            model.eval()
            return TrainResult(model=model, optimizer=optimizer, history=history, steps=step, seconds=elapsed,
                               resumed_from=step)

    def save_state(done: bool) -> None:
        if state_path is not None:
            resume.save(state_path, cfg, model=model, optimizer=optimizer, curriculum=curriculum, rng=rng,
                        step=step, history=history, seconds=time.perf_counter() - t0, done=done)

    t0 = time.perf_counter() - elapsed
    bar = None
    if on_work is None:
        bar = WorkBar([planned_work(cfg)], [f"seed {cfg.train.seed}"], progress)
        on_work = partial(bar.report, 0)
    n_streams = streams(cfg)
    while (item := curriculum.next()) is not None:
        phase, horizon, lr = item
        step += 1
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = training_batch(cfg, rng, horizon, device)  # x (B, h, n), y (B, h)
        window = horizon if cfg.train.tbptt == 0 else min(horizon, cfg.train.tbptt)
        try:
            err = train_sequence(model, optimizer, batch.x, batch.y, window, cfg.train.clip, window_fn,
                                 loss_fn=lambda e, b=batch: focus_loss(weigh_groups(cfg, b.group_means(e)),
                                                                     cfg.train.focus),
                                 max_grad_norm=cfg.train.max_grad_norm)
        except Diverged as e:
            if bar is not None:
                bar.close()
            raise Diverged(e.reason, step=step, seed=cfg.train.seed) from None
        per_freq = batch.group_means(err)  # (groups,): per frequency, or present/absent requests
        loss = float(per_freq.mean())
        curriculum.update(per_freq.cpu().numpy())
        on_work(n_streams * curriculum.work, n_streams * curriculum.remaining_work() + polish_work(cfg), loss)
        if curriculum.restart_pending:
            curriculum.restart_pending = False
            model, optimizer = fresh_init(cfg, device, restart=curriculum.restarts)
        if step % cfg.train.log_every == 0 or step == 1 or curriculum.phase == "done":
            with torch.no_grad():
                val = val_batch.group_means(per_stream_mse(model(val_batch.x)[0], val_batch.y))  # (groups,)
            rec = {"step": step, "phase": phase, "horizon": horizon, "lr": lr, "loss": loss,
                   "restarts": curriculum.restarts,
                   "per_frequency_loss": [float(v) for v in per_freq], "val_mse": float(val.mean()),
                   "val_per_frequency_mse": [float(v) for v in val], "seconds": time.perf_counter() - t0}
            history.append(rec)
            if on_log is not None:
                on_log(rec)
        every = cfg.train.checkpoint_every
        if every and step % every == 0 and curriculum.phase != "done":
            save_state(done=False)
    if cfg.train.polish_iters:
        step += 1
        history.append(_polish_step(model, cfg, rng, device, val_batch, step, n_streams * curriculum.work,
                                    curriculum.restarts, on_work, t0))
        if on_log is not None:
            on_log(history[-1])
    if bar is not None:
        bar.close()
    save_state(done=True)
    model.eval()
    return TrainResult(model=model, optimizer=optimizer, history=history, steps=step,
                       seconds=time.perf_counter() - t0, resumed_from=saved["step"] if saved else 0)
