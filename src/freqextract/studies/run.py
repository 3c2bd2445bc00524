"""The whole job: data, training, evaluation, figures, report, all in one run directory.

    RUN_DIR/
      config.toml            the effective config (defaults + file + --set)
      data/train.npz         signal.train_seed, NPZ exchange format
      data/test.npz          signal.test_seed
      checkpoints/final.pt   the trained model (checkpoint dict; extra.card: what it is, models.card)
      checkpoints/resume-<seed>.pt   each candidate's training state, for --resume (training/resume.py)
      history.json           training curve
      metrics.json           {"status": "ok", "train": {...}, "test": {...}, "ablation": {...},
                             "model_card": {...}, "verdict": {...}, ...},
                             or {"status": "diverged", "diverged": {...}} and nothing else evaluated
      predictions.npz        outputs of the model on train and test, (K, N) each
      test_predictions.csv   the K*N-row test table (t, S, C1..CK, target) plus output and error
      explain.json           the model from the inside (evaluation.explain), with explain.npz; not for mix
      figures/*.png          graphs 1 and 2, training curves, error histogram, error vs time, PSD, the
                             explanation's rings and drift
      report.html            self-contained report (figures embedded); both only with eval.report
"""

from __future__ import annotations

import contextlib
import json
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, remove_leftovers, write_json, write_text
from ..config import CONDITIONED, RunConfig, dumps, load
from ..errors import Diverged, UserError
from ..evaluation.explain import unexplainable
from ..evaluation.metrics import evaluate_signal, write_rows_csv
from ..evaluation.run_eval import evaluate_all, model_card, summary, time_to_target
from ..evaluation.verdict import verdict
from ..locks import check_free, run_lock
from ..models import checkpoint
from ..models.card import describe
from ..runtime import configure_threads, select_device
from ..signals.data import save_npz
from ..signals.scenarios import generate
from ..training import resume
from ..training.candidates import candidate_seeds, train_best_of
from ..training.progress import plan_text, steps_text
from .explain_run import explain_run

# what a run writes besides config.toml, data/ and figures/; --overwrite removes these first, so that a new
# run that is stopped early never leaves the old run's results beside its own config
RESULT_FILES = ("metrics.json", "report.html", "history.json", "predictions.npz", "test_predictions.csv",
                "explain.json", "explain.npz", "checkpoints/final.pt")


def default_run_dir(cfg: RunConfig) -> Path:
    return Path("runs") / f"{cfg.signal.scenario}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare_run_dir(out_dir: str | Path | None, cfg: RunConfig, overwrite: bool) -> Path:
    """Check that the run directory may be written: it is not a file, and it holds no results unless
    ``overwrite``. Creates nothing: a refused run leaves no directory behind."""
    run_dir = Path(out_dir) if out_dir else default_run_dir(cfg)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: exists and is not a directory")
    check_free(run_dir)  # a run in progress is named as such, not as "results"
    _refuse_results(run_dir, overwrite)
    return run_dir


def _refuse_results(run_dir: Path, overwrite: bool) -> list[str]:
    held = [n for n in ("metrics.json", "checkpoints", "report.html") if (run_dir / n).exists()]
    if held and not overwrite:
        raise UserError(f"{run_dir}: already holds results ({', '.join(held)}); use --overwrite or another "
                        f"--out (or --resume {run_dir} to go on with an interrupted run)")
    return held


@contextlib.contextmanager
def writing(run_dir: Path, overwrite: bool, what: str) -> Iterator[Path]:
    """Create the run directory and hold its lock for the ``with`` block; under the lock, check again for
    results (a writer that finished meanwhile) and, with ``overwrite``, remove the old ones."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{run_dir}: cannot create run directory ({e.strerror})") from None
    with run_lock(run_dir, what):
        if _refuse_results(run_dir, overwrite):
            for path in [*(run_dir / n for n in RESULT_FILES), *(run_dir / "checkpoints").glob("resume-*.pt")]:
                if path.is_file():
                    path.unlink()
        yield run_dir


def resumable(run_dir: str | Path, evaluate: bool = True) -> RunConfig:
    """The config of an interrupted run directory; a one-line UserError when there is nothing to resume."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    cpath = run_dir / "config.toml"
    if not cpath.is_file():
        raise UserError(f"{run_dir}: not a run directory (no config.toml)")
    try:
        cfg = load(cpath)
    except UserError as e:
        raise UserError(str(e) if str(e).startswith(str(cpath)) else f"{cpath}: {e}") from None
    mpath = run_dir / "metrics.json"
    if mpath.exists():
        try:
            status = json.loads(mpath.read_text(encoding="utf-8")).get("status")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, OSError):
            raise UserError(f"{mpath}: not a readable metrics file") from None
        if status != "diverged":
            hint = "" if (run_dir / "report.html").exists() or not cfg.eval.report else \
                f" (no report.html: freqextract report {run_dir} writes it)"
            raise UserError(f"{run_dir}: the run has finished (metrics.json); nothing to resume{hint}")
    if not evaluate and (run_dir / "checkpoints" / "final.pt").exists():
        raise UserError(f"{run_dir}: training has finished (checkpoints/final.pt); nothing to resume "
                        f"(freqextract run --resume {run_dir} evaluates it)")
    if not any(resume.state_path(run_dir / "checkpoints", s).exists() for s in candidate_seeds(cfg)):
        raise UserError(f"{run_dir}: nothing to resume: no checkpoints/resume-<seed>.pt (stopped before the "
                        f"first checkpoint, or train.checkpoint_every = 0); start it again with --overwrite")
    return cfg


def run(cfg: RunConfig, out_dir: str | Path | None = None, overwrite: bool = False, progress: bool = True,
        echo: Callable[[str], None] = lambda s: None, evaluate: bool = True,
        on_log: Callable[[dict], None] | None = None) -> Path:
    """Train (and by default evaluate and report) one config; returns the run directory.

    ``on_log``: called with every training history record (one candidate only; see training.loop.train).
    A diverging training writes ``metrics.json`` with ``{"status": "diverged"}`` and raises
    :class:`~freqextract.errors.Diverged`; the candidates' last good states stay in ``checkpoints/``.
    """
    device = select_device(cfg.train.device)
    run_dir = prepare_run_dir(out_dir, cfg, overwrite)
    with writing(run_dir, overwrite, "freqextract run" if evaluate else "freqextract train"):
        write_text(run_dir / "config.toml", dumps(cfg))
        return _complete(cfg, run_dir, device, progress, echo, evaluate, on_log)


def resume_run(run_dir: str | Path, progress: bool = True, echo: Callable[[str], None] = lambda s: None,
               evaluate: bool = True) -> Path:
    """Go on with an interrupted run in its own directory, under its own config.toml.

    Every candidate continues from its last checkpoint and a finished one is not trained again; on a CPU
    the results are bit-identical to those of a run that was never stopped.
    """
    check_free(run_dir)
    cfg = resumable(run_dir, evaluate)  # before the lock: a directory that is no run gets no lock file
    with run_lock(run_dir, "freqextract run --resume" if evaluate else "freqextract train --resume"):
        cfg = resumable(run_dir, evaluate)  # again: a writer may have finished it meanwhile
        device = select_device(cfg.train.device)
        remove_leftovers(run_dir)  # temporary files of writes that the interruption cut short
        echo(f"resuming {run_dir} from its checkpoints")
        return _complete(cfg, Path(run_dir), device, progress, echo, evaluate)


def _complete(cfg: RunConfig, run_dir: Path, device, progress: bool, echo: Callable[[str], None],
              evaluate: bool, on_log: Callable[[dict], None] | None = None) -> Path:
    """Everything after the run directory is set up: data, training, and (``evaluate``) the results."""
    train_sig = generate(cfg.signal, cfg.signal.train_seed)
    test_sig = generate(cfg.signal, cfg.signal.test_seed)
    save_npz(train_sig, run_dir / "data" / "train.npz")
    save_npz(test_sig, run_dir / "data" / "test.npz")

    echo(f"training on {device} (scenario {cfg.signal.scenario}, {plan_text(cfg)})")
    t0 = time.perf_counter()
    try:
        result, candidates, candidate_models = train_best_of(cfg, device=device, progress=progress, echo=echo,
                                                             on_log=on_log, checkpoint_dir=run_dir / "checkpoints")
    except Diverged as e:
        e.detail = record_divergence(run_dir, cfg, e)
        raise
    train_wall = time.perf_counter() - t0
    write_json(run_dir / "history.json", result.history)
    card, ablation = model_card(result.model, cfg, test_sig, device)  # what the model is, kept with it
    # final.pt last: it marks the training as finished (see resumable)
    checkpoint.save(run_dir / "checkpoints" / "final.pt", result.model, cfg, result.steps, result.optimizer,
                    extra={"train_seconds": train_wall,
                           "kept_candidate_seed": next(c["seed"] for c in candidates if c["kept"]),
                           "card": card})
    echo(f"trained in {train_wall:.1f} s (kept candidate: {steps_text(result.steps, cfg)})")
    if not evaluate:
        echo(describe(card))
        return run_dir

    if cfg.signal.scenario in CONDITIONED:
        return _complete_conditioned(cfg, run_dir, result, candidates, train_wall, device, echo, card)
    model = result.model
    for c, m in zip(candidates, candidate_models, strict=True):  # the spread over inits, not only the kept one
        c["test_mse"] = evaluate_signal(m, test_sig, device)[0]["mse"] if m is not None else None
    baselines = record = None
    if cfg.eval.baselines:  # untuned, tuned on training-side seeds, and on offsets the Bayes reference
        from ..evaluation import reference_panel

        baselines, record = reference_panel.for_run(cfg, test_sig)
    metrics, outputs = evaluate_all(model, cfg, train_sig, test_sig, device, baselines=baselines,
                                    ablation=ablation)
    metrics = {"status": "ok", **metrics, "model_card": card}
    if record is not None:
        metrics["references"] = reference_panel.run_record(cfg, record, list(baselines), metrics["multi_seed"])
    # seconds: this invocation's training wall time (after a resume: since the resume; each candidate's own
    # seconds count from its start)
    metrics["training"] = {"steps": result.steps, "seconds": train_wall, "device": str(device),
                           "resumed": any("resumed_from" in c for c in candidates),
                           "final_loss": result.history[-1]["loss"] if result.history else None,
                           "seconds_to_target": time_to_target(result.history),
                           "candidates": candidates,
                           "peak_rss_mib": max(resource.getrusage(who).ru_maxrss for who in
                                               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024}
    metrics["versions"] = checkpoint.versions()
    metrics["verdict"] = verdict(metrics)
    with atomic_path(run_dir / "predictions.npz", suffix=".npz") as tmp:
        np.savez(tmp, train=outputs["train"], test=outputs["test"], frequencies=train_sig.frequencies)
    write_rows_csv(run_dir / "test_predictions.csv", test_sig, outputs["test"])
    write_json(run_dir / "metrics.json", metrics)
    why = unexplainable(model, cfg)
    if why is None:  # how the model keeps time, free running six times the horizon
        explain_run(run_dir, seconds=6 * cfg.signal.duration, model=model, cfg=cfg)
    else:
        echo(f"explain.json not written: {why}")

    if cfg.eval.report:
        from ..reporting.report import write_report

        write_report(run_dir)
    echo(summary(metrics))
    return run_dir


def _complete_conditioned(cfg: RunConfig, run_dir: Path, result, candidates: list[dict], train_wall: float, device,
                          echo: Callable[[str], None], card: dict) -> Path:
    """The results of a frequency-conditioned model: for ``mix`` the NMSE and absent power on held-out
    mixtures against references tuned on training mixtures and the band sweep; for ``programmable`` the MSE
    at the held-out frequencies and across the band. Then the scenario's report."""
    if cfg.signal.scenario == "mix":
        from ..evaluation.mix import evaluate_mix_run as evaluate
        from ..evaluation.mix import summary as scenario_summary
    else:
        from ..evaluation.programmable import evaluate_programmable as evaluate
        from ..evaluation.programmable import summary as scenario_summary

    configure_threads(cfg.train.threads)
    metrics, outputs = evaluate(result.model.to("cpu"), cfg)
    metrics = {"status": "ok", **metrics, "model_card": card}
    metrics["training"] = {"steps": result.steps, "seconds": train_wall, "device": str(device),
                           "resumed": any("resumed_from" in c for c in candidates),
                           "final_loss": result.history[-1]["loss"] if result.history else None,
                           "candidates": candidates}
    metrics["versions"] = checkpoint.versions()
    with atomic_path(run_dir / "predictions.npz", suffix=".npz") as tmp:
        np.savez(tmp, **outputs)
    write_json(run_dir / "metrics.json", metrics)
    if cfg.eval.report:
        from ..reporting.report import write_report

        write_report(run_dir)
    echo(scenario_summary(metrics))
    echo(describe(card))
    return run_dir


def record_divergence(run_dir: Path, cfg: RunConfig, e: Diverged) -> str:
    """Write ``metrics.json`` saying the run diverged (no metrics: there is no model to measure); returns
    what the message adds: where the record is and which checkpoints hold the last good states."""
    every = cfg.train.checkpoint_every
    kept = {}
    for c in e.candidates:
        path = resume.state_path(run_dir / "checkpoints", c["seed"])
        good = (c["step"] - 1) // every * every if every and c["step"] else 0
        if path.exists() and good > 0:
            kept[str(c["seed"])] = {"path": str(path.relative_to(run_dir)), "step": good}
    write_json(run_dir / "metrics.json", {
        "status": "diverged", "scenario": cfg.signal.scenario, "diverged": e.record(),
        "candidates": e.candidates, "last_good_checkpoints": kept, "versions": checkpoint.versions()})
    where = ", ".join(f"{run_dir / k['path']} (step {k['step']})" for k in kept.values())
    return f"nothing evaluated; {run_dir / 'metrics.json'} records it; last good state: {where or 'none yet'}"
