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

import dataclasses
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..config import RunConfig
from ..errors import Diverged
from ..models.checkpoint import build_model
from ..models.lstm import SequenceLSTM, State, StatefulLSTM, detach_state
from ..runtime import configure_threads, seed_everything, select_device
from ..signals.data import streams_from, to_streams
from ..signals.scenarios import draw, generate
from . import resume


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
@dataclass
class TrainResult:
    model: StatefulLSTM
    optimizer: torch.optim.Optimizer
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    resumed_from: int = 0  # the step a resumed training went on from (0: trained from the start)


PHASES = ("warm-up", "growth", "final")


class Curriculum:
    """The horizon and learning-rate plan, one optimiser step at a time (TrainConfig has the phases).

    ``next()`` gives (phase, horizon, lr) for the coming step, or None when training is over; ``update()``
    takes that step's per-frequency losses, which the gates read through a moving average. The learning
    rate never jumps up: a restart to a high rate at a longer horizon knocks a tuned oscillator off its
    frequency, which is what made stage-wise curricula fail. Deterministic given the losses.
    """

    def __init__(self, cfg: RunConfig):
        t = cfg.train
        self.t, self.n, self.seq_len = t, cfg.signal.n_samples, cfg.model.seq_len
        self.floor = t.lr * t.lr_floor
        self.step = 0  # steps taken
        self.phase = "warm-up" if t.warmup_steps else "growth" if t.growth_steps else "final"
        self.in_phase = 0  # steps taken in the current phase
        self.advances = 0  # growth advances made
        self.restarts = 0  # fresh inits after a failed warm-up
        self.restart_pending = False  # set when the trainer must re-initialise the model before the next step
        self.ema: np.ndarray | None = None

    # ------------------------------------------------------------------ plan
    def _horizon(self) -> int:
        h0 = self.t.warmup_horizon
        if self.phase == "warm-up":
            h = h0
        elif self.phase == "growth":
            h = int(round(h0 * (self.n / h0) ** ((self.advances + 1) / self.t.growth_steps)))
        else:
            h = self.n
        return max(self.seq_len, h // self.seq_len * self.seq_len)  # windows must tile the horizon

    def _lr(self, horizon: int) -> float:
        t = self.t
        if self.phase == "warm-up":
            if self.in_phase >= t.warmup_steps:
                return self.floor
            return self.floor + (t.lr - self.floor) * 0.5 * (1.0 + math.cos(math.pi * self.in_phase / t.warmup_steps))
        if self.phase == "growth":
            return self._after_warmup(horizon)
        end = self._after_warmup(self.n)
        return end * 0.5 * (1.0 + math.cos(math.pi * self.in_phase / t.final_steps))

    def _after_warmup(self, horizon: int) -> float:
        """The floor, scaled down as the horizon outgrows the warm-up's: a parameter change moves the
        phase at sample t by about t times as much, so a longer horizon needs smaller steps."""
        ratio = self.t.warmup_horizon / max(horizon, self.t.warmup_horizon)
        return self.floor * ratio ** self.t.growth_lr_power

    def next(self) -> tuple[str, int, float] | None:
        if self.phase == "done":
            return None
        h = self._horizon()
        return self.phase, h, self._lr(h)

    # ------------------------------------------------------------------ feedback
    def _worst(self) -> float:
        return float(self.ema.max()) if self.ema is not None else math.inf

    def update(self, per_freq_loss) -> None:
        """Record the losses of the step just taken and move the plan on."""
        t = self.t
        loss = np.asarray(per_freq_loss, dtype=np.float64)
        self.ema = loss if self.ema is None else t.loss_ema * self.ema + (1 - t.loss_ema) * loss
        self.step += 1
        self.in_phase += 1
        if self.phase == "warm-up":
            extra = self.in_phase - t.warmup_steps
            if extra >= 0 and (t.warmup_gate == 0 or self._worst() < t.warmup_gate or extra >= t.warmup_extra):
                if 0 < t.restart_gate <= self._worst() and self.restarts < t.max_restarts:
                    self.restarts += 1  # an oscillator that did not start in the warm-up rarely starts later
                    self.restart_pending = True
                    self.ema = None
                    self._enter("warm-up")
                else:
                    self._enter("growth" if t.growth_steps else "final")
        elif self.phase == "growth":
            cap = math.ceil(t.growth_max_factor * t.growth_steps)
            forced = cap - self.in_phase < t.growth_steps - self.advances  # keep within the cap
            if t.growth_gate == 0 or self._worst() < t.growth_gate or forced:
                self.advances += 1
            if self.advances >= t.growth_steps:
                self._enter("final")
        elif self.phase == "final" and self.in_phase >= t.final_steps:
            self.phase = "done"

    def _enter(self, phase: str) -> None:
        self.phase, self.in_phase = phase, 0
        if phase == "final" and self.t.final_steps == 0:
            self.phase = "done"

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        """Every attribute except the config (whatever attributes the plan grows), weights-only loadable."""
        return {k: resume.to_plain(v) for k, v in vars(self).items() if not dataclasses.is_dataclass(v)}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; the attributes must be exactly those this version keeps."""
        if set(state) != set(self.state_dict()):
            raise ValueError(f"curriculum state has attributes {sorted(state)}, "
                             f"expected {sorted(self.state_dict())}")
        for k, v in state.items():
            setattr(self, k, resume.from_plain(v))


def schedule(cfg: RunConfig, losses=None) -> list[tuple[str, int, float]]:
    """The whole plan for a constant loss sequence (``losses``: per-frequency loss fed after every step;
    default 0, i.e. every gate open)."""
    cur = Curriculum(cfg)
    k = len(cfg.signal.frequencies)
    plan = []
    while (item := cur.next()) is not None:
        plan.append(item)
        cur.update(np.zeros(k) if losses is None else losses)
    return plan


def focus_loss(per_freq: torch.Tensor, focus: float) -> torch.Tensor:
    """Mean of the per-frequency losses weighted by (loss / mean loss) ** focus (weights not differentiated).

    focus = 0 is the plain mean. focus > 0 gives a lagging frequency a larger share of the update, so one
    oscillator that has not started yet is not drowned out by three that already fit.
    """
    if focus == 0:
        return per_freq.mean()
    w = (per_freq.detach() / per_freq.detach().mean().clamp_min(1e-12)) ** focus
    return (w * per_freq).mean()


def fresh_init(cfg: RunConfig, device: torch.device, restart: int) -> tuple[StatefulLSTM, torch.optim.Optimizer]:
    """A new model and optimiser; restart r > 0 draws its init from a seed of its own, derived from
    (train.seed, r), so a restarted run is as deterministic as any other."""
    seed = cfg.train.seed
    if restart:
        seed = int(np.random.SeedSequence([cfg.train.seed, restart]).generate_state(1)[0])
    seed_everything(seed)
    model = build_model(cfg).to(device)
    model.train()
    return model, torch.optim.Adam(model.parameters(), lr=cfg.train.lr)


def train(cfg: RunConfig, device: torch.device | None = None, progress: bool | None = None,
          on_log: Callable[[dict], None] | None = None, window_fn: WindowFn = fused_window,
          state_path: str | Path | None = None) -> TrainResult:
    """Train the model a config describes; deterministic on CPU for a given ``train.seed``.

    ``on_log(record)`` is called with every history record (step, val_mse, ...: every ``train.log_every``
    steps); an exception it raises ends the training (a sweep prunes a hopeless trial this way).

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
    K, R = len(cfg.signal.frequencies), cfg.train.realisations
    curriculum = Curriculum(cfg)
    val_x, val_y = (torch.as_tensor(a, device=device) for a in to_streams(generate(cfg.signal, cfg.signal.val_seed)))
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
    bar = tqdm(total=cfg.train.max_steps, initial=step, desc="train",
               disable=(not progress) if progress is not None else None, leave=False)
    while (item := curriculum.next()) is not None:
        phase, horizon, lr = item
        step += 1
        for group in optimizer.param_groups:
            group["lr"] = lr
        S, targets = draw(cfg.signal, rng, R, horizon)
        x, y = streams_from(S, targets)  # (R*K, h, 1+K), (R*K, h)
        window = horizon if cfg.train.tbptt == 0 else min(horizon, cfg.train.tbptt)
        try:
            err = train_sequence(model, optimizer, torch.as_tensor(x, device=device),
                                 torch.as_tensor(y, device=device), window, cfg.train.clip, window_fn,
                                 loss_fn=lambda e: focus_loss(e.reshape(R, K).mean(0), cfg.train.focus),
                                 max_grad_norm=cfg.train.max_grad_norm)
        except Diverged as e:
            bar.close()
            raise Diverged(e.reason, step=step, seed=cfg.train.seed) from None
        per_freq = err.reshape(R, K).mean(0)
        loss = float(per_freq.mean())
        curriculum.update(per_freq.cpu().numpy())
        bar.update(1)
        if curriculum.restart_pending:
            curriculum.restart_pending = False
            model, optimizer = fresh_init(cfg, device, restart=curriculum.restarts)
        if step % cfg.train.log_every == 0 or step == 1 or curriculum.phase == "done":
            with torch.no_grad():
                val = per_stream_mse(model(val_x)[0], val_y)  # (K,) over the whole signal
            rec = {"step": step, "phase": phase, "horizon": horizon, "lr": lr, "loss": loss,
                   "restarts": curriculum.restarts,
                   "per_frequency_loss": [float(v) for v in per_freq], "val_mse": float(val.mean()),
                   "val_per_frequency_mse": [float(v) for v in val], "seconds": time.perf_counter() - t0}
            history.append(rec)
            bar.set_postfix(phase=phase, h=horizon, loss=f"{loss:.4f}")
            if on_log is not None:
                on_log(rec)
        every = cfg.train.checkpoint_every
        if every and step % every == 0 and curriculum.phase != "done":
            save_state(done=False)
    bar.close()
    save_state(done=True)
    model.eval()
    return TrainResult(model=model, optimizer=optimizer, history=history, steps=step,
                       seconds=time.perf_counter() - t0, resumed_from=saved["step"] if saved else 0)


# ---------------------------------------------------------------------------------------------- candidates
def candidate_seeds(cfg: RunConfig) -> list[int]:
    """Seeds of the candidates of a run: base seed b gives b*n .. b*n + n-1 (n = train.candidates), so
    different base seeds never share a candidate."""
    n = cfg.train.candidates
    return [cfg.train.seed * n + i for i in range(n)]


_progress: multiprocessing.Queue | None = None  # a worker's queue to the parent's progress bar


def _worker_init(queue, parent: int) -> None:
    """In each worker process: keep the progress queue, and die with the parent (on Linux), so that a
    killed run leaves no worker behind that goes on training and writing its checkpoints."""
    global _progress
    _progress = queue
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent was gone before that took effect
        os._exit(1)


def _train_one(cfg: RunConfig, device: torch.device, progress: bool | None, path: Path | None,
               on_log: Callable[[dict], None] | None = None) -> dict:
    """Train one candidate; a divergence is data (``{"seed", "diverged"}``), not an exception."""
    try:
        res = train(cfg, device=device, progress=progress, on_log=on_log, state_path=path)
    except Diverged as e:
        return {"seed": cfg.train.seed, "diverged": e.record()}
    return {"seed": cfg.train.seed, "result": res, "history": res.history, "steps": res.steps,
            "seconds": res.seconds, "resumed_from": res.resumed_from}


def _train_candidate(args) -> dict:
    """Worker: train one candidate on the CPU and hand back plain data (weights, optimiser, history).
    Every history record is also put on the progress queue (index, step, loss) for the parent's bar."""
    index, cfg, device, path = args
    r = _train_one(cfg, torch.device(device), False, path,
                   on_log=lambda rec: _progress.put((index, rec["step"], rec["loss"])))
    if "result" in r:
        res = r.pop("result")
        r.update(state_dict={k: v.cpu() for k, v in res.model.state_dict().items()},
                 optimizer=res.optimizer.state_dict())
    return r


def _train_in_workers(cfgs: list[RunConfig], paths: list[Path | None], workers: int,
                      progress: bool | None) -> list[dict]:
    """Train each config in a spawned worker process; one progress bar follows them all."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with ctx.Pool(workers, initializer=_worker_init, initargs=(queue, os.getpid())) as pool:
        pending = pool.map_async(_train_candidate, [(i, c, "cpu", p) for i, (c, p) in
                                                    enumerate(zip(cfgs, paths, strict=True))])
        total = sum(c.train.max_steps for c in cfgs)
        disable = (not progress) if progress is not None else None
        with tqdm(total=total, desc=f"train x{len(cfgs)}", disable=disable, leave=False) as bar:
            done = [0] * len(cfgs)
            while not pending.ready() or not queue.empty():
                try:
                    i, step, loss = queue.get(timeout=0.5)
                except Exception:  # queue.Empty
                    continue
                bar.update(step - done[i])
                done[i] = step
                bar.set_postfix(loss=f"{loss:.4f}")
        results = pending.get()
        pool.close()  # let the workers exit cleanly (terminating them leaks their semaphores)
        pool.join()
        return results


def train_best_of(cfg: RunConfig, device: torch.device | None = None, progress: bool | None = None,
                  echo: Callable[[str], None] = lambda s: None, on_log: Callable[[dict], None] | None = None,
                  checkpoint_dir: str | Path | None = None
                  ) -> tuple[TrainResult, list[dict], list[StatefulLSTM | None]]:
    """Train ``train.candidates`` inits (in ``train.workers`` processes on the CPU) and keep the one with
    the lowest validation MSE (signal.val_seed, never the test seed).

    Returns the kept result, one summary per candidate and every candidate's model (for reporting the
    spread over inits). With one candidate, or one worker, or a GPU, everything trains in this process.
    ``on_log``: see :func:`train`; only with one candidate (an exception it raises stops the training).

    ``checkpoint_dir``: every candidate keeps its own training state there (``resume-<seed>.pt``) and goes
    on from it when it exists, so a resumed run retrains nothing, and a finished candidate is not trained
    again. A candidate that diverges is left out (summary ``{"seed", "diverged": {...}}``, model None);
    when every candidate diverges, :class:`Diverged` is raised.
    """
    device = device or select_device(cfg.train.device)
    seeds = candidate_seeds(cfg)
    if on_log is not None and len(seeds) > 1:
        raise ValueError("on_log needs train.candidates = 1")
    cfgs = [dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=s, candidates=1)) for s in seeds]
    paths = [resume.state_path(checkpoint_dir, s) if checkpoint_dir is not None else None for s in seeds]
    workers = cfg.train.workers or os.cpu_count() or 1
    if len(cfgs) == 1 or workers == 1 or device.type != "cpu":
        results = [_train_one(c, device, progress, p, on_log) for c, p in zip(cfgs, paths, strict=True)]
    else:
        results = _train_in_workers(cfgs, paths, min(workers, len(cfgs)), progress)
    summaries = []
    for r in results:
        if "diverged" in r:
            d = r["diverged"]
            summaries.append({"seed": r["seed"], "diverged": d, "val_mse": None, "kept": False})
            echo(f"candidate seed {r['seed']}: diverged at step {d['step']} ({d['reason']})")
            continue
        last = r["history"][-1]
        summaries.append({"seed": r["seed"], "val_mse": last["val_mse"],
                          "val_per_frequency_mse": last["val_per_frequency_mse"], "steps": r["steps"],
                          "seconds": r["seconds"]})
        resumed = ""
        if r["resumed_from"]:
            summaries[-1]["resumed_from"] = r["resumed_from"]
            resumed = f" (resumed at step {r['resumed_from']})"
        echo(f"candidate seed {r['seed']}: validation MSE {last['val_mse']:.5f} after {r['steps']} steps, "
             f"{r['seconds']:.0f} s{resumed}")
    alive = [i for i, r in enumerate(results) if "diverged" not in r]
    if not alive:
        first = results[0]["diverged"]
        raise Diverged(first["reason"], step=first["step"], seed=first["seed"],
                       candidates=[r["diverged"] for r in results])
    best = min(alive, key=lambda i: summaries[i]["val_mse"])
    for i in alive:
        summaries[i]["kept"] = i == best
    kept: list[TrainResult | None] = []
    for c, r in zip(cfgs, results, strict=True):
        if "diverged" in r or "result" in r:
            kept.append(r.get("result"))
            continue
        model = build_model(c).to(device)
        model.load_state_dict(r["state_dict"])
        model.eval()
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
        optimizer.load_state_dict(r["optimizer"])
        kept.append(TrainResult(model=model, optimizer=optimizer, history=r["history"], steps=r["steps"],
                                seconds=r["seconds"], resumed_from=r["resumed_from"]))
    return kept[best], summaries, [k.model if k is not None else None for k in kept]
