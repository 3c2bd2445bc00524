"""The self-contained HTML report of a run directory (figures embedded as data URIs, no network).

``write_report(run_dir)`` redraws the figures from the run's files (metrics.json, predictions.npz,
data/test.npz, history.json, config.toml) and writes ``report.html``; it can be rerun at any time
(``freqextract report RUN_DIR``). Sections of metrics.json that a run does not have (an older run, no
ablations, no baselines) are left out of the page rather than failing it; so is "Inside the model" for a
run without explain.json.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..atomic import write_text
from ..errors import UserError
from ..evaluation.metrics import error_vs_time, phase_track
from ..evaluation.run_eval import reference_kind
from ..evaluation.verdict import verdict
from ..locks import run_lock
from ..models.card import describe
from ..signals.data import load_npz
from . import explain_section, plots
from .html import CSS, esc, headline, img, num, run_head, table  # noqa: F401  (CSS: the old freqextract.report had it)


# ---------------------------------------------------------------------------------------------- helpers
def _db(v) -> str:
    return "–" if v is None else f"{v:+.1f}"


def _freq_head(freqs) -> list[str]:
    return [f"{f:g} Hz" for f in freqs]


# ---------------------------------------------------------------------------------------------- inputs
def _load_run(run_dir: Path) -> tuple[dict, object, np.ndarray]:
    """metrics, test signal and test outputs (K, N) of a run directory; one-line errors otherwise."""
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a directory")
    mpath = run_dir / "metrics.json"
    if not mpath.exists():
        raise UserError(f"{run_dir}: no metrics.json (is it a run directory of a finished run?)")
    try:
        metrics = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{mpath}: not valid JSON") from None
    if isinstance(metrics, dict) and metrics.get("status") == "diverged":
        d = metrics.get("diverged") if isinstance(metrics.get("diverged"), dict) else {}
        raise UserError(f"{run_dir}: training diverged (step {d.get('step')}: {d.get('reason')}); there are "
                        "no results to report")
    if not isinstance(metrics, dict) or not all(
            isinstance(metrics.get(k), dict) and "mse" in metrics[k] for k in ("train", "test")):
        raise UserError(f"{mpath}: not a freqextract metrics file (no train/test MSE)")
    test = load_npz(run_dir / "data" / "test.npz")
    ppath = run_dir / "predictions.npz"
    if not ppath.exists():
        raise UserError(f"{ppath}: file not found (the run's model outputs)")
    try:
        with np.load(ppath, allow_pickle=False) as p:
            out = np.asarray(p["test"], dtype=np.float64)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
        raise UserError(f"{ppath}: not a readable predictions file ({e.__class__.__name__})") from None
    if out.shape != test.targets.shape:
        raise UserError(f"{ppath}: test outputs have shape {out.shape}, the test data {test.targets.shape}")
    for split in ("train", "test"):
        per = metrics[split].get("per_frequency_mse")
        if not isinstance(per, list) or len(per) != test.n_freqs:
            raise UserError(f"{mpath}: {split}.per_frequency_mse must list {test.n_freqs} values, one per "
                            "frequency of data/test.npz")
    if "frequencies" not in metrics:
        metrics["frequencies"] = [float(f) for f in test.frequencies]
    return metrics, test, out


def make_figures(run_dir: Path, metrics: dict, test=None, out=None) -> list[tuple[Path, str]]:
    """Draw the figures of a run into run_dir/figures; returns (path, caption) pairs."""
    if test is None or out is None:
        metrics, test, out = _load_run(run_dir)
    figs = run_dir / "figures"
    freqs = [float(f) for f in test.frequencies]
    per_mse = metrics["test"]["per_frequency_mse"]
    k2 = 1 if len(freqs) > 1 else 0
    made = [
        (plots.graph1(figs / "graph1.png", test.t, test.S, test.targets[k2], out[k2], freqs[k2], per_mse[k2]),
         f"Graph 1: f = {freqs[k2]:g} Hz on the test set. Pure target (blue line), LSTM output (orange "
         "dots), noisy input S (grey). Top: the whole signal (shaded: the zooms); bottom: its first and "
         "last periods."),
        (plots.graph2(figs / "graph2.png", test.t, test.S, test.targets, out, freqs, per_mse),
         "Graph 2: every frequency on the test set, each panel with its MSE over the whole signal; all panels "
         "show the same window at the end of the signal."),
    ]
    hist_path = run_dir / "history.json"
    if hist_path.exists():
        try:
            history = json.loads(hist_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(f"{hist_path}: not valid JSON") from None
        keys = ("step", "horizon", "per_frequency_loss")
        if isinstance(history, list) and history and all(isinstance(h, dict) and all(k in h for k in keys)
                                                          for h in history):
            made.append((plots.training_curve(figs / "training.png", history, freqs),
                         "Training: loss per frequency on the current horizon, validation MSE over the whole "
                         "signal (validation seed), and the horizon curriculum with its learning rate. The "
                         "dotted 0.5 line is the score of answering 0. Early on the validation MSE can sit near "
                         "1: training has seen only the first samples after the reset, and past them the output "
                         "is a sine of drifting phase (two unrelated unit sines differ by MSE 1)."))
    evt = metrics.get("error_vs_time") or error_vs_time(out, test.targets, test.fs)
    track = phase_track(out, test.targets, freqs, test.fs)
    made += [
        (plots.error_vs_time(figs / "error_time.png", evt, track, freqs),
         "Error against time since the reset (top) and the phase error of the output (bottom): the warm-up "
         "after t = 0 and any drift of the oscillator over the signal. A half-period error reads as ±180°."),
        (plots.error_histogram(figs / "error_hist.png", out - test.targets, freqs),
         "Distribution of the error (output − target) on the test set, per frequency, log count."),
        (plots.psd(figs / "psd.png", test.S, test.targets, out, test.fs, freqs),
         "Which frequencies each signal holds: the power spectrum (Welch) of the input S, the target and the "
         "LSTM output, per selected frequency (dotted: the target frequency). A clean output has one peak, "
         "at the dotted line."),
    ]
    return made


# ---------------------------------------------------------------------------------------------- sections
def _mse_table(metrics: dict, freqs) -> str:
    rows, cls = [], []

    def add(label, total, per, c=""):
        rows.append([esc(label), num(total), *(num(v) for v in per)])
        cls.append(c)

    tr, te = metrics["train"], metrics["test"]
    seeds = metrics.get("data_seeds") or {}

    def seed(split):
        return f"{split} (noise seed {seeds[split]})" if seeds.get(split) is not None else split

    add(seed("train"), tr["mse"], tr["per_frequency_mse"])
    add(seed("test"), te["mse"], te["per_frequency_mse"], "model")
    ms = metrics.get("multi_seed")
    if ms and ms.get("mse"):
        per = [p.get("mean") for p in ms.get("per_frequency", [])]
        add(f"test, mean over {len(ms['mse'])} noise seeds", ms.get("mean"), per)
    a = metrics.get("ablation")
    if a:
        add("test, S zeroed", a["test_mse_S_zeroed"], a.get("per_frequency_mse_S_zeroed", []))
        add("test, S shuffled in time", a["test_mse_S_shuffled"], a.get("per_frequency_mse_S_shuffled", []))
    z = metrics.get("baseline_zero_output")
    if isinstance(z, dict):
        add("zero output (reference)", z["mse"], z["per_frequency_mse"])
    mix = metrics.get("input_mixture")
    if mix:
        add("input mixture S as the estimate", mix["mse"], mix["per_frequency_mse"])
    gap = metrics.get("generalization_gap")
    rel = metrics.get("generalization_gap_relative")
    note = ""
    if gap is not None:
        per_gap = metrics.get("per_frequency_generalization_gap")
        if per_gap:
            add("generalization gap (test − train)", gap, per_gap)
            cls[-1] = ""
            rows[-1][1:] = [num(gap, signed=True), *(num(v, signed=True) for v in per_gap)]
        note = (f"<p>Generalization gap (test − train): <b id='gap'>{num(gap, signed=True)}</b>"
                + (f" ({100 * rel:+.1f} % of the train MSE)" if rel is not None else "")
                + ". Generalization holds when the test MSE is close to the train MSE.</p>")
    return table(["MSE", "all rows", *_freq_head(freqs)], rows, cls, "mse-table") + note


def _quality_table(metrics: dict, freqs) -> str:
    te = metrics["test"]
    if "r2" not in te:
        return ""
    imp = (metrics.get("improvement") or {}).get("over_input_mixture") or {}
    drift = {d["frequency_hz"]: d for d in (metrics.get("phase_drift") or {}).get("per_frequency", [])}
    evt = metrics.get("error_vs_time") or {}
    settle = evt.get("per_frequency_settle_time_s")
    rows = [
        ["R²", num(te["r2"], 4), *(num(v, 4) for v in te["per_frequency_r2"])],
        ["Pearson r", num(te["pearson_r"], 4), *(num(v, 4) for v in te["per_frequency_pearson_r"])],
        ["SNR of the output (dB)", _db(te["snr_db"]), *(_db(v) for v in te["per_frequency_snr_db"])],
    ]
    if imp:
        rows.append(["improvement over the input S (dB)", _db(imp.get("db")),
                     *(_db(v) for v in imp.get("per_frequency_db", []))])
    if drift:
        def dcol(key, fmt):
            return [fmt(drift.get(float(f), {}).get(key)) for f in freqs]

        def deg(v):
            return num(v, 1, True, sci=False)

        def absdeg(v):
            return num(v, 1, sci=False)

        rows += [
            ["phase error at the start (°)", "", *dcol("phase_error_start_deg", deg)],
            ["phase error at the end (°)", "", *dcol("phase_error_end_deg", deg)],
            ["largest |phase error| (°)", "", *dcol("max_abs_phase_error_deg", absdeg)],
            ["frequency error (mHz)", "",
             *dcol("frequency_error_hz", lambda v: "–" if v is None else f"{1000 * v:+.2f}")],
            ["amplitude ratio at the end", "", *dcol("amplitude_ratio_end", lambda v: num(v, 3))],
        ]
    if settle:
        rows.append([f"settled after (s; MSE < {evt.get('settle_threshold', 0.01):g} per "
                     f"{evt.get('settle_block_seconds', 0.1):g} s from then on)", "",
                     *("never" if v is None else f"{v:g}" for v in settle)])
    rows = [[esc(r[0]), *r[1:]] for r in rows]
    return ("<h3>Quality of the test outputs</h3>"
            + table(["metric", "all rows", *_freq_head(freqs)], rows, table_id="quality-table")
            + "<p class='note'>SNR = 10 log10(Σ target² / Σ error²). Improvement over S: the same, "
              "relative to using the mixture S itself as the estimate of every component. Phase and "
              "frequency error: a least-squares fit of a sinusoid at the known frequency in sliding "
              "one-period windows of output and target; the frequency error is the slope of the phase "
              "error over the signal; “–” where the output does not oscillate (amplitude below a tenth of "
              "the target's), and the end value is the last window where it does.</p>")


def _multi_seed_section(metrics: dict, freqs) -> str:
    ms = metrics.get("multi_seed")
    if not ms or not ms.get("mse"):
        return ""
    ci = ms.get("ci95")
    head = (f"<p>Test MSE on {len(ms['mse'])} noise seeds ({ms['seeds'][0]}..{ms['seeds'][-1]}): mean "
            f"<b id='multi-seed-mean'>{num(ms['mean'])}</b>"
            + (f", 95% confidence interval {num(ci[0])} to {num(ci[1])} (t-distribution, "
               f"{len(ms['mse']) - 1} degrees of freedom)" if ci else "") + ".</p>")
    rows = [[esc(s), num(m), *(num(v) for v in per)]
            for s, m, per in zip(ms["seeds"], ms["mse"], ms["per_frequency_mse"], strict=True)]
    per = ms.get("per_frequency", [])
    if ci:
        rows.append(["mean", num(ms["mean"]), *(num(p.get("mean")) for p in per)])
        rows.append(["95% CI", f"{num(ci[0])} – {num(ci[1])}",
                     *(f"{num(p['ci95'][0])} – {num(p['ci95'][1])}" if p.get("ci95") else "–"
                       for p in per)])
    return ("<h2>Test MSE across noise seeds</h2>" + head
            + table(["noise seed", "all rows", *_freq_head(freqs)], rows, table_id="multi-seed-table"))


def _what_it_is(name: str, kind: str | None) -> str:
    """A reference's label: an oracle or a non-causal one says so; the others say how they were set
    (tuned, untuned, Bayes, trivial: metrics.json's references.kinds), or that they are causal."""
    label = reference_kind(name)
    if kind is None or label.startswith(("ORACLE", "NOT causal")):
        return f"reference, {label}"
    return f"reference, {kind}"


def _baselines_section(metrics: dict, freqs) -> str:
    base = metrics.get("baselines")
    if not base:
        return ""
    imp = (metrics.get("improvement") or {}).get("over_baselines") or {}
    refs = metrics.get("references") or {}
    kinds = refs.get("kinds") or {}
    te = metrics["test"]
    rows = [["LSTM (this run)", "the model", num(te["mse"]), _db(te.get("snr_db")), num(te.get("r2"), 4), "",
             *(num(v) for v in te["per_frequency_mse"])]]
    for name, b in base.items():
        rows.append([esc(name), esc(_what_it_is(name, kinds.get(name))), num(b["mse"]), _db(b.get("snr_db")),
                     num(b.get("r2"), 4), _db((imp.get(name) or {}).get("db")),
                     *(num(v) for v in b["per_frequency_mse"])])
    notes = ["Same test signal and metrics for every estimator. “LSTM better by” = 10 log10(MSE of the "
             "baseline / MSE of the LSTM). <b>untuned</b> = the hand-set defaults; <b>tuned</b> = "
             "parameters chosen by MSE on training-side seeds; <b>Bayes</b> = a particle filter approximating "
             "the posterior mean, the best any causal estimate can do on average; <b>oracle</b> never reads "
             "S; <b>non-causal</b> reads the future."]
    if refs.get("tuning"):
        from ..evaluation.references import describe

        notes.append("<br>".join(esc(line) for line in describe(refs["tuning"])))
    over = refs.get("over_seeds")
    if over:
        seeds = over["seeds"]
        ratio = over.get("model_ratio") or {}
        notes.append(f"Over test seeds {seeds[0]}..{seeds[-1]}, mean MSE and the LSTM's ratio to it: "
                     + "; ".join(f"{esc(n)} {num(v)}" + (f" (LSTM {ratio[n]:.2f}×)" if n in ratio else "")
                                 for n, v in over["mean"].items() if kinds.get(n) in ("tuned", "Bayes")) + ".")
    return ("<h2>Comparison with the baselines</h2>"
            + table(["estimator", "what it is", "MSE", "SNR (dB)", "R²", "LSTM better by (dB)",
                      *(f"MSE {h}" for h in _freq_head(freqs))], rows, ["model"] + [""] * len(base),
                     "baselines-table")
            + "".join(f"<p class='note'>{n}</p>" for n in notes))


def _ablation_text(metrics: dict) -> str:
    a = metrics.get("ablation")
    if not a:
        return ""
    te = metrics["test"]["mse"]
    spec = metrics.get("scenario") == "spec"
    why = ("Under the spec scenario S is i.i.d. noise that carries no information about the targets, so a "
           "model that wins must be a clock started at the reset. " if spec else "")
    return (f"<h2>Ablation: does the model use S?</h2><p class='note'>{why}With S shuffled in time (same "
            f"values, order destroyed) the test MSE is <b id='ablation-shuffled'>"
            f"{num(a['test_mse_S_shuffled'])}</b>, "
            f"with S replaced by zeros <b>{num(a['test_mse_S_zeroed'])}</b>, against "
            f"{num(te)} with the real S. Equal numbers mean the output does not depend on the order of S; a "
            "large increase means the model reads S.</p>")


def _training_text(metrics: dict) -> str:
    tr = metrics.get("training") or {}
    if not tr:
        return ""
    rows = [["optimiser steps", esc(tr.get("steps", "?"))],
            ["training time (s)", num(tr.get("seconds"), 1, sci=False)],
            ["device", esc(tr.get("device", "?"))],
            ["final training loss", num(tr.get("final_loss"))],
            ["training seconds from which the validation MSE stayed ≤ 0.005 (each frequency ≤ 0.01)",
             "not reached" if tr.get("seconds_to_target") is None
             else num(tr.get("seconds_to_target"), 1, sci=False)],
            ["peak memory (MiB)", num(tr.get("peak_rss_mib"), 0, sci=False)]]
    v = metrics.get("versions") or {}
    if v:
        rows.append(["versions", esc(", ".join(f"{k} {x}" for k, x in v.items()))])
    page = "<h2>Training</h2>" + table(None, rows, table_id="training-table")
    cands = [c for c in tr.get("candidates") or [] if isinstance(c, dict)]
    if len(cands) > 1:
        crows = [[esc(c.get("seed", "?")), esc(c.get("steps", "?")), num(c.get("seconds"), 0, sci=False),
                  num(c.get("val_mse")), num(c.get("test_mse")), "kept" if c.get("kept") else ""]
                 for c in cands]
        page += ("<p class='note'>Independent initialisations trained side by side; the one with the lowest "
                 "validation MSE (validation seed, never the test seed) is the model of this run. Their test "
                 "MSE shows the spread over inits.</p>"
                 + table(["init seed", "steps", "seconds", "validation MSE", "test MSE", ""], crows,
                          ["model" if c.get("kept") else "" for c in cands], "candidates-table"))
    return page


def _first_screen(metrics: dict) -> str:
    """The verdict on the scenario's target and one sentence on what the model does (clock or tracker)."""
    v = metrics.get("verdict") or verdict(metrics)
    colour = {True: "#e3f4e1", False: "#fbe3e1"}.get(v.get("met"), "#f3f3f3")
    word = {True: "Target met", False: "Target missed"}.get(v.get("met"), "No verdict")
    page = (f"<div id='verdict' style='background:{colour};border-radius:6px;padding:0.7em 1em;margin:1em 0'>"
            f"<b style='font-size:1.25em'>{word}</b> for scenario {esc(v.get('scenario'))}: "
            f"{esc(v.get('numbers'))}.<br><span class='muted'>Target: {esc(v.get('target'))}.</span></div>")
    card = metrics.get("model_card")
    if card:
        sentence = describe(card).removeprefix("model: ")
        page += f"<p id='model-role'><b>What this model does:</b> {esc(sentence[:1].upper() + sentence[1:])}.</p>"
    return page


SHUFFLED_NOTE = ("<p class='note' id='shuffled-note'>“Test MSE, S shuffled”: the same test signal with the samples "
                 "of the input S put in a random order (the same values, their order in time destroyed). About "
                 "equal to the test MSE: the model does not use S, it keeps time from the reset (a clock). Much "
                 "larger: it reads S (a tracker).</p>")


# ---------------------------------------------------------------------------------------------- page
def render(run_dir: Path, metrics: dict, figures: list[tuple[Path, str]], config: str, inside: str = "") -> str:
    """The page; ``inside``: the HTML of the section "Inside the model" (reporting.explain_section)."""
    freqs = metrics["frequencies"]
    te, tr = metrics["test"], metrics["train"]
    ms = metrics.get("multi_seed") or {}
    cards = [
        ("test MSE (all rows)", f"<span id='test-mse'>{num(te['mse'])}</span>"),
        ("train MSE", num(tr["mse"])),
    ]
    if ms.get("ci95"):
        cards.append((f"test MSE, {len(ms['mse'])} seeds (95% CI)",
                      f"{num(ms['mean'])} <span class='muted' style='font-size:0.6em'>"
                      f"± {num(ms['ci95_halfwidth'])}</span>"))
    if te.get("snr_db") is not None:
        cards.append(("test SNR", f"{te['snr_db']:.1f} dB"))
    if te.get("r2") is not None:
        cards.append(("test R²", f"{te['r2']:.4f}"))
    if "ablation" in metrics:
        cards.append(("test MSE, S shuffled", num(metrics['ablation']['test_mse_S_shuffled'])))
    card_html = headline(cards)
    files = [n for n in ("metrics.json", "test_predictions.csv", "predictions.npz", "history.json",
                         "config.toml", "checkpoints/final.pt", "data/train.npz", "data/test.npz")
             if (run_dir / n).exists()]
    file_links = ", ".join(f"<a href='{esc(n)}'><code>{esc(n)}</code></a>" for n in files)
    return f"""{run_head(run_dir.name)}
<p>Scenario <b>{esc(metrics.get("scenario", "?"))}</b>, frequencies {", ".join(f"{f:g}" for f in freqs)} Hz.
A stateful LSTM reads one sample of S and the one-hot selector per step, its (h, c) state carried from the
reset at t = 0, and outputs the selected pure sine. MSE is over every row of the
{len(freqs)}-frequency table.</p>
{_first_screen(metrics)}
<div class="headline">{card_html}</div>
{SHUFFLED_NOTE if "ablation" in metrics else ""}
<h2>Mean squared error</h2>
{_mse_table(metrics, freqs)}
{_quality_table(metrics, freqs)}
{_multi_seed_section(metrics, freqs)}
{_ablation_text(metrics)}
{_baselines_section(metrics, freqs)}
<h2>Figures</h2>
{"".join(img(p, cap) for p, cap in figures)}
{inside}
{_training_text(metrics)}
<h2>Configuration</h2>
<pre>{esc(config)}</pre>
<p class="muted">Files of this run: {file_links}.</p>
</body></html>
"""


def write_report(run_dir: str | Path) -> Path:
    """Redraw the figures and write ``run_dir/report.html``; returns its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        _load_run(run_dir)  # its one-line error; no lock file is made where there is no run
    with run_lock(run_dir, "freqextract report"):
        mpath = run_dir / "metrics.json"
        if mpath.is_file():
            try:
                head = json.loads(mpath.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                head = None
            if isinstance(head, dict) and head.get("kind") == "conditioned" and head.get("status") == "ok":
                from .mix_report import write_mix_report

                return write_mix_report(run_dir, head)
            if isinstance(head, dict) and head.get("kind") == "programmable" and head.get("status") == "ok":
                from .programmable_report import write_programmable_report

                return write_programmable_report(run_dir, head)
        metrics, test, out = _load_run(run_dir)
        figures = make_figures(run_dir, metrics, test, out)
        cpath = run_dir / "config.toml"
        config = cpath.read_text(encoding="utf-8", errors="replace") if cpath.exists() else "(no config.toml)"
        path = run_dir / "report.html"
        write_text(path, render(run_dir, metrics, figures, config, explain_section.section(run_dir)))
    return path
