"""Sweeps and multi-seed studies on Optuna: one study, any number of worker processes on any machines.

    SWEEP_DIR/
      sweep.toml       the effective sweep config: base run config + [sweep] (the study keeps a copy)
      study.json       where the study lives: {"storage": ..., "study": ...}
      study.journal    the default storage (absent when --storage names a database)
      trials/<n>/      one ordinary run directory per trial (config.toml, metrics.json, report.html, ...)
      report.html, summary.json, figures/     freqextract sweep report

How trials are handed out. The process that creates the study (``freqextract sweep``) also puts the N
trials in it, as Optuna *waiting* trials (for a grid: each with its fixed point of the grid). A worker
takes a waiting trial by moving it to *running*, which the storage grants to exactly one process (a row
lock in a database; the order of the log in a journal file), samples its parameters at that moment (so
the sampler sees every trial finished so far), runs it, and takes the next; it stops when none is left.
So a study holds exactly N trials however many workers join and whenever they start, and creating the
study once, before any worker, avoids two processes racing to create it.

Storage: a journal file in the sweep directory by default, or a database (:mod:`.storage`).

Pruning. With one init per trial, the validation MSE that training measures every ``train.log_every``
steps is reported to Optuna (``trial.report``); the pruner stops a trial that is hopeless against the
trials before it (``optuna.TrialPruned``). A training run that diverges counts as pruned too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..atomic import write_json, write_text
from ..config import RunConfig
from ..errors import Diverged, UserError
from .storage import (
    ATTR_CONFIG,
    ATTR_DIR,
    ATTR_VERSION,
    JOURNAL,
    Study,
    _optuna,
    is_url,
    load,
    masked,
    open_storage,
)
from .sweep_config import SweepConfig, dumps, loads, trial_config


# ---------------------------------------------------------------------------------------------- study
def _study_count(study) -> int:
    """Trials that count towards n_trials: all but the failed ones (those are run again)."""
    optuna = _optuna()
    return sum(t.state != optuna.trial.TrialState.FAIL for t in study.get_trials(deepcopy=False))


def create(base: RunConfig, sweep: SweepConfig, sweep_dir: str | Path,
           storage_spec: str | None = None) -> Study:
    """Create the study (or open it, if it exists with the same config), write the sweep directory's
    sweep.toml and study.json, and top the study up to ``sweep.n_trials`` waiting trials."""
    optuna = _optuna()
    sweep_dir = Path(sweep_dir)
    if sweep_dir.exists() and not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir}: exists and is not a directory")
    spec = storage_spec or str(sweep_dir / JOURNAL)
    if not is_url(spec) and Path(spec).is_dir():
        raise UserError(f"--storage {spec}: is a directory; give a database URL or a journal file")
    storage = open_storage(spec, create=True) if is_url(spec) else None  # a database first: it may refuse
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{sweep_dir}: cannot create the sweep directory ({e.strerror})") from None
    storage = storage or open_storage(spec, create=True)
    text = dumps(base, sweep)
    study = optuna.create_study(study_name=sweep.name, storage=storage, direction=sweep.direction,
                                load_if_exists=True)
    stored = study.user_attrs.get(ATTR_CONFIG)
    if stored is None:
        study.set_user_attr(ATTR_DIR, str(sweep_dir.resolve()))
        study.set_user_attr(ATTR_VERSION, __version__)
    else:
        old_base, old_sweep = loads(stored)
        if (old_base, dataclasses.replace(old_sweep, n_trials=sweep.n_trials)) != (base, sweep):
            raise UserError(f"--study {sweep.name}: the study exists with another config; choose another "
                            "name (--study or sweep.name) or the config it was created with (sweep.toml)")
    if stored != text:  # new, or only n_trials changed (more trials, or fewer: none is taken back)
        study.set_user_attr(ATTR_CONFIG, text)
    write_text(sweep_dir / "sweep.toml", text)
    local = not is_url(spec) and Path(spec).resolve().parent == sweep_dir.resolve()
    write_json(sweep_dir / "study.json", {"storage": Path(spec).name if local else masked(spec),
                                          "study": sweep.name})
    _enqueue(study, sweep)
    return Study(spec, sweep.name, base, sweep, sweep_dir, storage)


def _enqueue(study, sweep: SweepConfig) -> int:
    """Add waiting trials until the study holds ``sweep.n_trials`` (grid: the first points not there)."""
    optuna = _optuna()
    if sweep.sampler != "grid":
        missing = max(0, sweep.n_trials - _study_count(study))
        for _ in range(missing):
            study.enqueue_trial({})
        return missing
    fail = optuna.trial.TrialState.FAIL
    there = [t.system_attrs.get("fixed_params", t.params) for t in study.get_trials(deepcopy=False)
             if t.state != fail]
    added = 0
    for i, point in enumerate(sweep.grid_points()):
        if i >= sweep.n_trials:
            break
        if point not in there:
            study.enqueue_trial(point)
            added += 1
    return added


# ---------------------------------------------------------------------------------------------- trials
def _sampler(sweep: SweepConfig, number: int):
    """The sampler of trial ``number``: seeded with seed + number, so two workers never draw alike."""
    optuna = _optuna()
    seed = sweep.seed + number
    if sweep.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=sweep.startup_trials,
                                          constant_liar=True)
    return optuna.samplers.RandomSampler(seed=seed)  # random; grid trials arrive with their point fixed


def _pruner(sweep: SweepConfig):
    optuna = _optuna()
    if sweep.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=sweep.prune_startup_trials,
                                           n_warmup_steps=sweep.prune_warmup_steps)
    if sweep.pruner == "threshold":
        return optuna.pruners.ThresholdPruner(upper=sweep.prune_threshold,
                                              n_warmup_steps=sweep.prune_warmup_steps)
    return optuna.pruners.NopPruner()


def claim(st: Study):
    """Take one waiting trial (None when there is none left): (optuna study, trial)."""
    optuna = _optuna()
    storage = st.storage
    study_id = storage.get_study_id_from_name(st.name)
    for frozen in storage.get_all_trials(study_id, deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
        try:
            if not storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.RUNNING):
                continue  # another worker took it first
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        study = optuna.load_study(study_name=st.name, storage=storage,
                                  sampler=_sampler(st.sweep, frozen.number), pruner=_pruner(st.sweep))
        return study, optuna.Trial(study, trial_id)
    return None


def _suggest(trial, p):
    if p.type == "categorical":
        return trial.suggest_categorical(p.path, list(p.choices))
    if p.type == "int":
        return trial.suggest_int(p.path, p.low, p.high, step=p.step or 1, log=p.log)
    return trial.suggest_float(p.path, p.low, p.high, step=p.step, log=p.log)


def trial_metrics(metrics: dict) -> dict:
    """metrics.json of a run plus ``validation``: the kept init's MSE on signal.val_seed."""
    kept = next(c for c in metrics["training"]["candidates"] if c.get("kept"))
    return {**metrics, "validation": {"mse": kept["val_mse"],
                                      "per_frequency_mse": kept["val_per_frequency_mse"]}}


def lookup(metrics: dict, path: str) -> float:
    """The number at a dotted path (``test.per_frequency_mse.0``) of a metrics dict."""
    v = metrics
    for part in path.split("."):
        v = v[int(part)] if isinstance(v, list) else v[part]
    return float(v)


def summary_attrs(m: dict) -> dict:
    """The numbers a sweep report shows, kept in the trial itself (workers elsewhere write their run
    directories on their own disks)."""
    ms = m.get("multi_seed") or {}
    out = {"validation.mse": m["validation"]["mse"],
           "validation.per_frequency_mse": m["validation"]["per_frequency_mse"],
           "train.mse": m["train"]["mse"], "test.mse": m["test"]["mse"],
           "test.per_frequency_mse": m["test"]["per_frequency_mse"],
           "training.seconds": m["training"]["seconds"], "training.steps": m["training"]["steps"]}
    if ms.get("mse"):
        out.update({"multi_seed.mean": ms["mean"], "multi_seed.seeds": ms["seeds"],
                    "multi_seed.per_frequency_mean": [p["mean"] for p in ms["per_frequency"]]})
    return out


def run_trial(st: Study, study, trial, out_root: Path, progress: bool = False,
              echo: Callable[[str], None] = print) -> str:
    """Run one claimed trial as an ordinary run directory, tell Optuna how it ended; returns its state."""
    optuna = _optuna()
    run_dir = (out_root / "trials" / str(trial.number)).resolve()
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    t0 = time.perf_counter()
    params = {p.path: _suggest(trial, p) for p in st.sweep.space}
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
    state, value, note = "fail", None, ""
    try:
        from .run import run

        cfg = trial_config(st.base, params)
        on_log = None
        if st.sweep.pruner != "none" and cfg.train.candidates == 1:
            def on_log(rec: dict) -> None:
                trial.report(rec["val_mse"], rec["step"])
                if trial.should_prune():
                    raise optuna.TrialPruned(f"validation MSE {rec['val_mse']:.5f} at step {rec['step']}")
        run(cfg, out_dir=run_dir, progress=progress, on_log=on_log)
        m = trial_metrics(json.loads((run_dir / "metrics.json").read_text(encoding="utf-8")))
        trial.set_user_attr("metrics", summary_attrs(m))
        value = lookup(m, st.sweep.metric)
        if not math.isfinite(value):
            raise UserError(f"sweep.metric: {st.sweep.metric} is {value}")
        study.tell(trial, value)
        state, note = "complete", f"{st.sweep.metric} {value:.5g}"
    except optuna.TrialPruned as e:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        state, note = "pruned", str(e)
    except Diverged as e:  # training diverged: as hopeless as it gets
        trial.set_user_attr("pruned_reason", str(e))
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        state, note = "pruned", str(e)
    except optuna.exceptions.UpdateFinishedTrialError:
        raise  # another worker took the trial over (its heartbeat had stopped): see work()
    except KeyboardInterrupt:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    except Exception as e:  # a bad combination of values (UserError) or a bug: record it, go on
        note = str(e) if isinstance(e, UserError) else f"{e.__class__.__name__}: {e}"
        if not isinstance(e, UserError):
            traceback.print_exc()
        trial.set_user_attr("error", note)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    echo(f"trial {trial.number} {state} in {time.perf_counter() - t0:.0f} s ({shown}): {note}")
    return state


def work(storage_spec: str, name: str | None = None, out_dir: str | Path | None = None,
         progress: bool = False, echo: Callable[[str], None] = print) -> dict[str, int]:
    """A worker: take waiting trials of the study one by one and run them until none is left.

    Run directories go to ``out_dir``/trials/<n> (default: the sweep directory the study was created
    with). Returns how many trials ended in each state.

    A worker stays until no trial of the study is running either: a running trial whose heartbeat stops
    (its worker died) is failed after ``sweep.grace_period`` and its retry is taken like any waiting trial.
    """
    optuna = _optuna()
    from . import heartbeat  # imports Optuna: after _optuna() has said which extra brings it

    st = load(storage_spec, name)
    out_root = Path(out_dir) if out_dir else st.sweep_dir
    counts = {"complete": 0, "pruned": 0, "fail": 0, "taken over": 0}
    study = optuna.load_study(study_name=st.name, storage=st.storage)
    while True:
        heartbeat.reap(study)
        claimed = claim(st)
        if claimed is None:
            if not heartbeat.running(st.storage, st.storage.get_study_id_from_name(st.name)):
                return counts
            time.sleep(st.sweep.heartbeat_interval)  # wait: a running trial may turn out stale
            continue
        trial_study, trial = claimed
        try:
            with heartbeat.beating(st.storage, trial._trial_id):
                counts[run_trial(st, trial_study, trial, out_root, progress, echo)] += 1
        except optuna.exceptions.UpdateFinishedTrialError:
            echo(f"trial {trial.number}: failed by another worker meanwhile (no heartbeat for "
                 f"sweep.grace_period = {st.sweep.grace_period} s); its retry counts instead")
            counts["taken over"] += 1


def worker_command(storage_spec: str, name: str, out_dir: str | Path | None = None) -> list[str]:
    """The command line of a worker process (what ``--workers K`` starts K times)."""
    cmd = [sys.executable, "-m", "freqextract.cli", "sweep", "worker", "--storage", storage_spec,
           "--study", name]
    return cmd + (["--out", str(out_dir)] if out_dir else [])


def check_workers(workers: int, storage_spec: str | None) -> None:
    if workers < 0:
        raise UserError(f"--workers: must be >= 0, got {workers}")
    if workers > 1 and (storage_spec or "").startswith("sqlite"):
        raise UserError("--workers: SQLite cannot hand trials to several workers safely (no row locks); use "
                        "the default journal file or a PostgreSQL URL")


def start_workers(st: Study, workers: int, echo: Callable[[str], None] = print) -> list[int]:
    """Run ``workers`` worker processes on this machine until the study has no waiting trial; returns
    their exit statuses. With one worker, it runs in this process (status 0)."""
    check_workers(workers, st.storage_spec)
    if workers == 1:
        work(st.storage_spec, st.name, st.sweep_dir, echo=echo)
        return [0]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen(worker_command(st.storage_spec, st.name, st.sweep_dir), env=env)
             for _ in range(workers)]
    try:
        return [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        raise


@dataclass
class SweepRun:
    study: Study
    codes: list[int]  # exit statuses of the local workers
    report: Path | None = None  # None when no worker ran here
    headline: str = ""


def sweep(base: RunConfig, sweep_cfg: SweepConfig, sweep_dir: str | Path | None = None,
          storage_spec: str | None = None, workers: int = 1, echo: Callable[[str], None] = print) -> SweepRun:
    """Create the study, run ``workers`` local workers (0: none, for workers started elsewhere), then
    write the report."""
    check_workers(workers, storage_spec)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    sweep_dir = Path(sweep_dir) if sweep_dir else Path("sweeps") / f"{sweep_cfg.name}-{stamp}"
    st = create(base, sweep_cfg, sweep_dir, storage_spec)
    echo(f"study {st.name} in {masked(st.storage_spec)}: {sweep_cfg.n_trials} trials, "
         f"sweep directory {sweep_dir}")
    if workers == 0:
        return SweepRun(st, [])
    codes = start_workers(st, workers, echo)
    from .sweep_summary import write_sweep_report

    report, headline = write_sweep_report(sweep_dir, st.storage_spec, st.name)
    return SweepRun(st, codes, report, headline)
