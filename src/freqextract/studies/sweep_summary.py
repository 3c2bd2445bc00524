"""A sweep's summary, read from its study: what ``summary.json`` and the report page show.

Everything comes from the study's storage (each trial keeps its parameters, its metric, the validation MSE
it reported during training and the headline numbers of its run in its user attributes), so a report can
be written on any machine that reaches the database, whichever machines ran the trials.

A study whose trials differ only in their training seed (``train.seed``; e.g. the ``multiseed`` preset)
also gets ``over_seeds``: per training seed the validation MSE, the test MSE (signal.test_seed) and the
mean test MSE over the noise seeds test_seed .. test_seed + 9, and across training seeds their mean with a
95% confidence interval (t-distribution). That is the spread of the recipe over random inits.

:func:`write_sweep_report` collects the summary and hands it to :mod:`freqextract.reporting.sweep_report`,
which draws and writes the page.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..evaluation.metrics import t_interval
from ..reporting.sweep_report import headline, write_sweep_html
from . import storage
from .sweep_config import dumps

TARGET_OVERALL, TARGET_EACH = 0.005, 0.01  # the training target: all rows, and each frequency
STATES = ("complete", "pruned", "fail", "running", "waiting")


# ---------------------------------------------------------------------------------------------- data
def trial_record(t) -> dict:
    """A FrozenTrial as plain JSON data."""
    steps = sorted(t.intermediate_values)
    done = t.datetime_complete
    return {
        "number": t.number, "state": t.state.name.lower(), "value": t.value, "params": dict(t.params),
        "run_dir": t.user_attrs.get("run_dir"), "host": t.user_attrs.get("host"),
        "metrics": t.user_attrs.get("metrics"), "error": t.user_attrs.get("error"),
        "pruned_reason": t.user_attrs.get("pruned_reason"),
        "retry_of": (t.system_attrs.get("retry_history") or [None])[-1],  # the trial whose worker died
        "intermediate": {"steps": steps, "values": [t.intermediate_values[s] for s in steps]},
        "started": t.datetime_start.isoformat(timespec="seconds") if t.datetime_start else None,
        "seconds": (done - t.datetime_start).total_seconds() if done and t.datetime_start else None,
    }


def _importances(study, trials: list[dict], params: list[str]) -> tuple[dict | None, str]:
    """Optuna's parameter importances, or None and why not."""
    optuna = storage._optuna()
    n_done = sum(t["state"] == "complete" for t in trials)
    varying = [p for p in params if len({json.dumps(t["params"].get(p)) for t in trials
                                         if t["state"] == "complete"}) > 1]
    if n_done < 2 or len(varying) < 2:
        return None, (f"Parameter importance needs at least 2 complete trials that vary at least 2 "
                      f"parameters (this study: {n_done} complete, {len(varying)} varying).")
    try:
        imp = optuna.importance.get_param_importances(study, params=varying)
    except (ValueError, RuntimeError) as e:
        return None, f"Parameter importance could not be computed ({e})."
    return {k: float(v) for k, v in imp.items()}, ""


def over_seeds(trials: list[dict]) -> dict | None:
    """Spread over training seeds of the complete trials (each one the same config, another train.seed)."""
    rows = []
    for t in sorted(trials, key=lambda t: t["params"].get("train.seed", t["number"])):
        m = t.get("metrics")
        if t["state"] != "complete" or not m or "multi_seed.mean" not in m:
            continue
        per = m["multi_seed.per_frequency_mean"]
        rows.append({"trial": t["number"], "seed": t["params"].get("train.seed"),
                     "validation_mse": m["validation.mse"], "test_mse": m["test.mse"],
                     "multi_seed_mean": m["multi_seed.mean"], "multi_seed_per_frequency_mean": per,
                     "met_target": m["multi_seed.mean"] <= TARGET_OVERALL and max(per) <= TARGET_EACH,
                     "run_dir": t["run_dir"]})
    if not rows:
        return None
    per = [list(col) for col in zip(*(r["multi_seed_per_frequency_mean"] for r in rows), strict=True)]
    return {
        "n": len(rows), "rows": rows,
        "test_seeds": next(t["metrics"]["multi_seed.seeds"] for t in trials
                           if t["number"] == rows[0]["trial"]),
        "validation_mse": t_interval([r["validation_mse"] for r in rows]),
        "test_mse": t_interval([r["test_mse"] for r in rows]),
        "multi_seed_mean": t_interval([r["multi_seed_mean"] for r in rows]),
        "multi_seed_per_frequency_mean": [t_interval(col) for col in per],
        "met_target": sum(r["met_target"] for r in rows),
        "target": {"overall": TARGET_OVERALL, "each_frequency": TARGET_EACH,
                   "on": "mean test MSE over the test noise seeds"},
    }


def collect(storage_spec: str, name: str | None = None) -> tuple[dict, object]:
    """summary.json's content for a study, and the Optuna study itself."""
    optuna = storage._optuna()
    st = storage.load(storage_spec, name)
    study = optuna.load_study(study_name=st.name, storage=st.storage)
    trials = [trial_record(t) for t in study.get_trials(deepcopy=False)]
    retries = {t["retry_of"]: t["number"] for t in trials if t["retry_of"] is not None}
    for t in trials:  # failed by another worker once its heartbeat stopped: say so, and where it went on
        if t["state"] == "fail" and not t["error"] and t["number"] in retries:
            t["error"] = f"its worker stopped (no heartbeat); retried as trial {retries[t['number']]}"
    params = [p.path for p in st.sweep.space]
    states = {s: sum(t["state"] == s for t in trials) for s in STATES}
    done = [t for t in trials if t["state"] == "complete" and t["value"] is not None]
    done.sort(key=lambda t: t["value"], reverse=st.sweep.direction == "maximize")
    importances, note = _importances(study, trials, params)
    summary = {
        "study": st.name, "storage": storage.masked(st.storage_spec), "metric": st.sweep.metric,
        "direction": st.sweep.direction, "sampler": st.sweep.sampler, "pruner": st.sweep.pruner,
        "n_trials": st.sweep.n_trials, "params": params, "states": states,
        "frequencies": [float(f) for f in st.base.signal.frequencies],
        "best": ({k: done[0][k] for k in ("number", "value", "params", "run_dir", "host")} if done else None),
        "importances": importances, "importance_note": note,
        "over_seeds": over_seeds(trials) if st.sweep.is_seed_study else None,
        "config": dumps(st.base, st.sweep), "trials": trials,
    }
    return summary, study


# ---------------------------------------------------------------------------------------------- report
def write_sweep_report(sweep_dir: str | Path | None = None, storage_spec: str | None = None,
                       name: str | None = None) -> tuple[Path, str]:
    """Write ``sweep_dir``/summary.json, figures/ and report.html; returns the report's path and a
    one-line :func:`headline`.

    ``storage_spec`` defaults to the study of the sweep directory; ``sweep_dir`` to the directory the study
    was created with (when it exists on this machine).
    """
    if sweep_dir is None and storage_spec is None:
        raise UserError("sweep report: give a sweep directory or --storage")
    if sweep_dir is not None and not Path(sweep_dir).is_dir():
        raise UserError(f"{sweep_dir}: no such sweep directory")
    spec = storage_spec or storage.resolve_storage(sweep_dir)
    summary, _ = collect(spec, name)
    if sweep_dir is None:
        st = storage.load(spec, summary["study"])
        if not st.sweep_dir.is_dir():
            raise UserError(f"the study's sweep directory {st.sweep_dir} is not on this machine; give one")
        sweep_dir = st.sweep_dir
    path = write_sweep_html(Path(sweep_dir), summary)
    return path, headline(summary)
