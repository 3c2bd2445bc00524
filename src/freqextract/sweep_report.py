"""The report of a sweep: summary.json and a self-contained report.html (figures embedded), from the study.

Everything comes from the study's storage (each trial keeps its parameters, its metric, the validation MSE
it reported during training and the headline numbers of its run in its user attributes), so a report can
be written on any machine that reaches the database, whichever machines ran the trials.

A study whose trials differ only in their training seed (``train.seed``; e.g. the ``multiseed`` preset)
also gets ``over_seeds``: per training seed the validation MSE, the test MSE (signal.test_seed) and the
mean test MSE over the noise seeds test_seed .. test_seed + 9, and across training seeds their mean with a
95% confidence interval (t-distribution). That is the spread of the recipe over random inits.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import sweep as engine
from .atomic import write_json, write_text
from .errors import UserError
from .evaluation.metrics import t_interval
from .reporting import sweep_plots
from .reporting.html import CSS, esc, img, num, table
from .sweep_config import dumps

TARGET_OVERALL, TARGET_EACH = 0.005, 0.01  # the training target: all rows, and each frequency
BEST_ROWS = 10
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
        "intermediate": {"steps": steps, "values": [t.intermediate_values[s] for s in steps]},
        "started": t.datetime_start.isoformat(timespec="seconds") if t.datetime_start else None,
        "seconds": (done - t.datetime_start).total_seconds() if done and t.datetime_start else None,
    }


def _importances(study, trials: list[dict], params: list[str]) -> tuple[dict | None, str]:
    """Optuna's parameter importances, or None and why not."""
    optuna = engine._optuna()
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
    optuna = engine._optuna()
    st = engine.load(storage_spec, name)
    study = optuna.load_study(study_name=st.name, storage=st.storage)
    trials = [trial_record(t) for t in study.get_trials(deepcopy=False)]
    params = [p.path for p in st.sweep.space]
    states = {s: sum(t["state"] == s for t in trials) for s in STATES}
    done = [t for t in trials if t["state"] == "complete" and t["value"] is not None]
    done.sort(key=lambda t: t["value"], reverse=st.sweep.direction == "maximize")
    importances, note = _importances(study, trials, params)
    summary = {
        "study": st.name, "storage": engine.masked(st.storage_spec), "metric": st.sweep.metric,
        "direction": st.sweep.direction, "sampler": st.sweep.sampler, "pruner": st.sweep.pruner,
        "n_trials": st.sweep.n_trials, "params": params, "states": states,
        "frequencies": [float(f) for f in st.base.signal.frequencies],
        "best": ({k: done[0][k] for k in ("number", "value", "params", "run_dir", "host")} if done else None),
        "importances": importances, "importance_note": note,
        "over_seeds": over_seeds(trials) if st.sweep.is_seed_study else None,
        "config": dumps(st.base, st.sweep), "trials": trials,
    }
    return summary, study


# ---------------------------------------------------------------------------------------------- page
def _link(run_dir: str | None, sweep_dir: Path) -> str:
    if not run_dir:
        return "–"
    p = Path(run_dir)
    try:
        rel = p.resolve().relative_to(sweep_dir.resolve())
    except ValueError:
        return f"<code>{esc(run_dir)}</code>"
    target = rel / "report.html" if (p / "report.html").exists() else rel
    return f"<a href='{esc(target.as_posix())}'><code>{esc(rel.as_posix())}</code></a>"


def _value(v) -> str:
    return num(v) if isinstance(v, float) else esc(v)


SHOWN = {"validation.mse": "validation MSE", "test.mse": "test MSE",
         "multi_seed.mean": "test MSE, mean over seeds"}


def _trials_table(trials: list[dict], summary: dict, sweep_dir: Path, table_id: str) -> str:
    params = summary["params"]
    shown = [k for k in SHOWN if k != summary["metric"]]  # the metric has its own column
    rows = []
    for t in trials:
        m = t.get("metrics") or {}
        note = t.get("error") or t.get("pruned_reason") or ""
        rows.append([str(t["number"]), esc(t["state"]), num(t["value"]),
                     *(_value(t["params"].get(p)) for p in params), *(num(m.get(k)) for k in shown),
                     num(t["seconds"], 0, sci=False), _link(t["run_dir"], sweep_dir), esc(t["host"] or ""),
                     esc(note)])
    best = (summary["best"] or {}).get("number")
    return table(["trial", "state", summary["metric"], *params, *(SHOWN[k] for k in shown), "seconds",
                   "run directory", "host", "note"], rows,
                  ["model" if t["number"] == best else "" for t in trials], table_id)


def _seeds_section(o: dict | None, freqs: list[float]) -> str:
    if not o:
        return ""

    def ci(s: dict) -> str:
        return f"{num(s['ci95'][0])} – {num(s['ci95'][1])}" if s.get("ci95") else "–"

    seeds = o["test_seeds"]
    rows = [[esc(r["seed"]), num(r["validation_mse"]), num(r["test_mse"]), num(r["multi_seed_mean"]),
             *(num(v) for v in r["multi_seed_per_frequency_mean"]), "yes" if r["met_target"] else ""]
            for r in o["rows"]]
    per = o["multi_seed_per_frequency_mean"]
    rows.append(["mean", num(o["validation_mse"]["mean"]), num(o["test_mse"]["mean"]),
                 num(o["multi_seed_mean"]["mean"]), *(num(p["mean"]) for p in per), ""])
    rows.append(["95% CI", ci(o["validation_mse"]), ci(o["test_mse"]), ci(o["multi_seed_mean"]),
                 *(ci(p) for p in per), ""])
    head = ["training seed", "validation MSE", f"test MSE (seed {seeds[0]})",
            f"test MSE, mean over seeds {seeds[0]}..{seeds[-1]}",
            *(f"{f:g} Hz, mean over seeds" for f in freqs),
            "met the target"]
    ms = o["multi_seed_mean"]
    return (f"<h2>Spread over training seeds</h2><p>The same config trained with {o['n']} training seeds; "
            f"each model tested on the noise seeds {seeds[0]}..{seeds[-1]}. Mean test MSE across training "
            f"seeds <b id='seeds-mean'>{num(ms['mean'])}</b>"
            + (f", 95% confidence interval {ci(ms)} (t-distribution, {o['n'] - 1} degrees of freedom)"
               if ms.get("ci95") else "")
            + f". {o['met_target']} of {o['n']} meet the target (mean test MSE ≤ {TARGET_OVERALL} over all "
              f"rows and ≤ {TARGET_EACH} for every frequency).</p>"
            + table(head, rows, table_id="seeds-table"))


def render(sweep_dir: Path, summary: dict, figures: list[tuple[Path, str]]) -> str:
    s = summary
    order = sorted((t for t in s["trials"] if t["state"] == "complete" and t["value"] is not None),
                   key=lambda t: t["value"], reverse=s["direction"] == "maximize")
    states = ", ".join(f"{n} {k}" for k, n in s["states"].items() if n)
    best = s["best"]
    cards = [("trials", f"{len(s['trials'])} <span class='muted' style='font-size:0.6em'>of "
                        f"{s['n_trials']}</span>"),
             (f"best {s['metric']}", f"<span id='best-value'>{num(best['value'])}</span>" if best else "–"),
             ("best trial", str(best["number"]) if best else "–"),
             ("pruned", str(s["states"]["pruned"]))]
    card_html = "".join(f"<div class='card'><div class='v'>{v}</div><div class='l'>{esc(label)}</div></div>"
                        for label, v in cards)
    imp = ""
    if s["importances"]:
        imp = table(["parameter", "importance"],
                     [[esc(k), num(v, 3)] for k, v in s["importances"].items()],
                     table_id="importance-table")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>freqextract sweep: {esc(s['study'])}</title>
<style>{CSS}</style></head><body>
<h1>freqextract sweep <code>{esc(s['study'])}</code></h1>
<p>Optuna study in <code>{esc(s['storage'])}</code>: {esc(s['direction'])} <b>{esc(s['metric'])}</b>,
sampler {esc(s['sampler'])}, pruner {esc(s['pruner'])}. Trials: {esc(states or 'none')}. Each trial is an
ordinary run directory; the metric is measured on the validation noise seed unless it names another
split, so selecting on it never looks at the test set.</p>
<div class="headline">{card_html}</div>
<h2>Best trials</h2>
{_trials_table(order[:BEST_ROWS], s, sweep_dir, "best-table") if order else "<p>No complete trial yet.</p>"}
{_seeds_section(s.get("over_seeds"), s["frequencies"])}
<h2>Parameter importance</h2>
{imp or f"<p class='note'>{esc(s['importance_note'])}</p>"}
<h2>Figures</h2>
{"".join(img(p, cap) for p, cap in figures)}
<h2>All trials</h2>
<details><summary>{len(s['trials'])} trials</summary>
{_trials_table(sorted(s['trials'], key=lambda t: t['number']), s, sweep_dir, "trials-table")}</details>
<h2>Configuration</h2>
<pre>{esc(s['config'])}</pre>
<p class="muted">Data of this page: <a href="summary.json"><code>summary.json</code></a>.</p>
</body></html>
"""


def make_figures(sweep_dir: Path, summary: dict) -> list[tuple[Path, str]]:
    figs = sweep_dir / "figures"
    trials, metric = summary["trials"], summary["metric"]
    made = [(sweep_plots.history(figs / "history.png", trials, metric, summary["direction"]),
             f"Optimisation history: {metric} of every trial by trial number, and the best so far.")]
    if any(t["intermediate"]["steps"] for t in trials):
        made.append((sweep_plots.intermediate(figs / "intermediate.png", trials),
                     "Validation MSE over the whole signal that each trial reported every train.log_every "
                     "steps, which the pruner compares."))
    if summary["importances"]:
        made.append((sweep_plots.importance(figs / "importance.png", summary["importances"]),
                     "Parameter importance (Optuna's default evaluator, over the complete trials)."))
    if len(summary["params"]) >= 2 and sum(t["state"] == "complete" for t in trials) >= 2:
        made.append((sweep_plots.parallel(figs / "parallel.png", trials, summary["params"], metric),
                     "Parallel coordinates: one line per complete trial across its parameters and its "
                     "metric."))
    return made


def headline(summary: dict) -> str:
    """One line for the terminal: the trials' states and the best trial."""
    states = ", ".join(f"{n} {k}" for k, n in summary["states"].items() if n) or "no trials"
    best = summary["best"]
    line = f"study {summary['study']}: {states}"
    if best:
        line += (f"; best trial {best['number']}: {summary['metric']} {best['value']:.5g} "
                 f"({best['run_dir']})")
    o = summary.get("over_seeds")
    if o and o["multi_seed_mean"].get("ci95"):
        lo, hi = o["multi_seed_mean"]["ci95"]
        line += (f"\nover {o['n']} training seeds: test MSE {o['multi_seed_mean']['mean']:.5f} "
                 f"(95% CI {lo:.5f} to {hi:.5f})")
    return line


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
    spec = storage_spec or engine.resolve_storage(sweep_dir)
    summary, _ = collect(spec, name)
    if sweep_dir is None:
        st = engine.load(spec, summary["study"])
        if not st.sweep_dir.is_dir():
            raise UserError(f"the study's sweep directory {st.sweep_dir} is not on this machine; give one")
        sweep_dir = st.sweep_dir
    sweep_dir = Path(sweep_dir)
    figures = make_figures(sweep_dir, summary)
    write_json(sweep_dir / "summary.json", summary)
    path = sweep_dir / "report.html"
    write_text(path, render(sweep_dir, summary, figures))
    return path, headline(summary)
