"""The page of a sweep: ``report.html`` (figures embedded) and ``summary.json``, from a summary dict.

The summary (:func:`freqextract.studies.sweep_summary.collect`: the study's trials, their states, values,
parameters and headline numbers, the best trial, the parameter importances and, for a multi-seed study,
the spread over training seeds) is all this module reads: it draws the figures and writes the files,
and never opens a study's storage.
"""

from __future__ import annotations

from pathlib import Path

from .. import fmt
from ..atomic import write_json, write_text
from . import sweep_plots
from .html import CSS, esc, img, num, table

BEST_ROWS = 10


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
            + f". {o['met_target']} of {o['n']} meet the target (mean test MSE ≤ {o['target']['overall']} over "
              f"all rows and ≤ {o['target']['each_frequency']} for every frequency).</p>"
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
        line += (f"\nover {o['n']} training seeds: test MSE {fmt.mse(o['multi_seed_mean']['mean'])} "
                 f"(95% CI {fmt.mse(lo)} to {fmt.mse(hi)})")
    return line


def write_sweep_html(sweep_dir: Path, summary: dict) -> Path:
    """Draw ``sweep_dir``/figures/, write ``summary.json`` and ``report.html``; returns the report's path."""
    figures = make_figures(sweep_dir, summary)
    write_json(sweep_dir / "summary.json", summary)
    path = sweep_dir / "report.html"
    write_text(path, render(sweep_dir, summary, figures))
    return path
