"""The self-contained HTML report of a run directory (figures embedded as data URIs, no network).

``write_report(run_dir)`` rebuilds figures from the run's files (metrics.json, predictions.npz,
data/test.npz, history.json, config.toml) and writes ``report.html``; it can be rerun at any time.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from . import plots
from .atomic import write_text
from .data import load_npz
from .errors import UserError


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _fmt(v) -> str:
    return f"{v:.5f}" if isinstance(v, float) else html.escape(str(v))


def make_figures(run_dir: Path, metrics: dict) -> list[tuple[Path, str]]:
    """Draw the figures of a run into run_dir/figures; returns (path, caption) pairs."""
    figs = run_dir / "figures"
    test = load_npz(run_dir / "data" / "test.npz")
    with np.load(run_dir / "predictions.npz") as p:
        out = p["test"]
    freqs = [float(f) for f in test.frequencies]
    k2 = 1 if len(freqs) > 1 else 0
    made = [
        (plots.graph1(figs / "graph1.png", test.t, test.S, test.targets[k2], out[k2], freqs[k2],
                      metrics["test"]["per_frequency_mse"][k2]),
         f"Graph 1: f = {freqs[k2]:g} Hz on the test set: pure target (line), LSTM output (dots), noisy S (grey)"),
        (plots.graph2(figs / "graph2.png", test.t, test.S, test.targets, out, freqs,
                      metrics["test"]["per_frequency_mse"]),
         "Graph 2: every frequency on the test set, each with its MSE over the whole signal"),
    ]
    hist_path = run_dir / "history.json"
    if hist_path.exists():
        history = json.loads(hist_path.read_text())
        if history:
            made.append((plots.training_curve(figs / "training.png", history, freqs),
                         "Training loss per frequency on the current horizon, and the horizon curriculum"))
    return made


def write_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    mpath = run_dir / "metrics.json"
    if not mpath.exists():
        raise UserError(f"{run_dir}: no metrics.json (is it a run directory of a finished run?)")
    try:
        metrics = json.loads(mpath.read_text())
    except json.JSONDecodeError:
        raise UserError(f"{mpath}: not valid JSON") from None
    figures = make_figures(run_dir, metrics)
    freqs = metrics["frequencies"]
    rows = []
    for name in ("train", "test"):
        m = metrics[name]
        rows.append((f"{name} (seed)", m["mse"], *m["per_frequency_mse"]))
    if "ablation" in metrics:
        a = metrics["ablation"]
        rows.append(("test, S zeroed", a["test_mse_S_zeroed"], *a["per_frequency_mse_S_zeroed"]))
        rows.append(("test, S shuffled in time", a["test_mse_S_shuffled"], *a["per_frequency_mse_S_shuffled"]))
    z = metrics.get("baseline_zero_output")
    if z:
        rows.append(("zero output (reference)", z["mse"], *z["per_frequency_mse"]))
    head = "".join(f"<th>{f:g} Hz</th>" for f in freqs)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    config = (run_dir / "config.toml").read_text() if (run_dir / "config.toml").exists() else ""
    training = metrics.get("training", {})
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>freqextract run: {html.escape(run_dir.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
pre {{ background: #f5f5f5; padding: 1em; overflow-x: auto; }}
</style></head><body>
<h1>freqextract run <code>{html.escape(run_dir.name)}</code></h1>
<p>Scenario <b>{html.escape(str(metrics.get("scenario")))}</b>. Test MSE over all {len(freqs)} × N rows:
<b id="test-mse">{metrics["test"]["mse"]:.5f}</b>; train MSE {metrics["train"]["mse"]:.5f}.
Trained {training.get("steps", "?")} steps in {training.get("seconds", float("nan")):.1f} s on {html.escape(str(training.get("device", "?")))}.</p>
<h2>Mean squared error</h2>
<table><tr><th>data</th><th>all rows</th>{head}</tr>{body}</table>
<p>Under the spec scenario S carries no information about the targets: a model that wins is a clock started at the
reset. If the S-zeroed and S-shuffled rows match the test row, the model does not rely on S.</p>
<h2>Figures</h2>
{"".join(_img(p, cap) for p, cap in figures)}
<h2>Configuration</h2>
<pre>{html.escape(config)}</pre>
</body></html>
"""
    out = run_dir / "report.html"
    write_text(out, page)
    return out
