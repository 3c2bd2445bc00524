"""Several inits of one config, kept by validation MSE: ``train.candidates`` trainings, in worker processes.

Each candidate is an ordinary :func:`~freqextract.training.loop.train` with its own seed (base seed b
gives b*n .. b*n + n-1) and its own resume state; on the CPU they run in ``train.workers`` spawned
processes that die with their parent. The one with the lowest validation MSE (``signal.val_seed``, never a
test seed) is kept; a candidate that diverges is left out.
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
from functools import partial
from pathlib import Path

import torch

from .. import fmt
from ..config import RunConfig
from ..errors import Diverged
from ..models.checkpoint import build_model
from ..models.lstm import StatefulLSTM
from ..runtime import select_device
from . import resume
from .loop import TrainResult, WorkFn, train
from .progress import WorkBar, planned_work, steps_text


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
               on_log: Callable[[dict], None] | None = None, on_work: WorkFn | None = None) -> dict:
    """Train one candidate; a divergence is data (``{"seed", "diverged"}``), not an exception."""
    try:
        res = train(cfg, device=device, progress=progress, on_log=on_log, state_path=path, on_work=on_work)
    except Diverged as e:
        return {"seed": cfg.train.seed, "diverged": e.record()}
    return {"seed": cfg.train.seed, "result": res, "history": res.history, "steps": res.steps,
            "seconds": res.seconds, "resumed_from": res.resumed_from}


class _QueueWork:
    """A worker's ``on_work``: (index, done, remaining, loss) onto the progress queue, at most every
    ``every`` seconds and always at the end."""

    def __init__(self, index: int, every: float = 0.5):
        self.index, self.every, self.last = index, every, -math.inf

    def __call__(self, done: int, remaining: int, loss: float) -> None:
        now = time.monotonic()
        if remaining == 0 or now - self.last >= self.every:
            self.last = now
            _progress.put((self.index, done, remaining, loss))


def _train_candidate(args) -> dict:
    """Worker: train one candidate on the CPU and hand back plain data (weights, optimiser, history).
    Its work is put on the progress queue for the parent's bar (``_QueueWork``)."""
    index, cfg, device, path = args
    r = _train_one(cfg, torch.device(device), False, path, on_work=_QueueWork(index))
    if "result" in r:
        res = r.pop("result")
        r.update(state_dict={k: v.cpu() for k, v in res.model.state_dict().items()},
                 optimizer=res.optimizer.state_dict())
    return r


def work_bar(cfgs: list[RunConfig], progress: bool | None) -> WorkBar:
    """One bar over the planned work of every candidate (:mod:`.progress`), their losses side by side."""
    return WorkBar([planned_work(c) for c in cfgs], [f"seed {c.train.seed}" for c in cfgs], progress,
                   desc=f"train x{len(cfgs)}" if len(cfgs) > 1 else "train")


def _train_in_workers(cfgs: list[RunConfig], paths: list[Path | None], workers: int,
                      progress: bool | None) -> list[dict]:
    """Train each config in a spawned worker process; one progress bar follows them all."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with ctx.Pool(workers, initializer=_worker_init, initargs=(queue, os.getpid())) as pool:
        pending = pool.map_async(_train_candidate, [(i, c, "cpu", p) for i, (c, p) in
                                                    enumerate(zip(cfgs, paths, strict=True))])
        bar = work_bar(cfgs, progress)
        try:
            while not pending.ready() or not queue.empty():
                try:
                    bar.report(*queue.get(timeout=0.5))
                except Exception:  # queue.Empty
                    continue
        finally:
            bar.close()
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
        bar = work_bar(cfgs, progress)
        try:
            results = [_train_one(c, device, progress, p, on_log, partial(bar.report, i))
                       for i, (c, p) in enumerate(zip(cfgs, paths, strict=True))]
        finally:
            bar.close()
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
        echo(f"candidate seed {r['seed']}: validation MSE {fmt.mse(last['val_mse'])} after "
             f"{steps_text(r['steps'], cfg)}, "
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
        model = build_model(c, init=False).to(device)
        model.load_state_dict(r["state_dict"])
        model.eval()
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
        optimizer.load_state_dict(r["optimizer"])
        kept.append(TrainResult(model=model, optimizer=optimizer, history=r["history"], steps=r["steps"],
                                seconds=r["seconds"], resumed_from=r["resumed_from"]))
    return kept[best], summaries, [k.model if k is not None else None for k in kept]
