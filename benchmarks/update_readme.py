"""Rewrite the result tables of the docs pages and the README from the benchmark JSON files, so that no
number in them is typed by hand.

Each table sits between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``; NAME is a JSON file in
benchmarks/results/. Every table has its place in a page of docs/ (:data:`PAGES`); the README holds the
headline table too. A table whose JSON is missing is left as it is.

    python benchmarks/update_readme.py [--readme README.md] [--docs docs] [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def table_train_seeds(r: dict) -> str:
    lines = ["| training seed | test MSE | 1 Hz | 3 Hz | 5 Hz | 7 Hz | train MSE | S zeroed | S shuffled "
             "| training s | s to target | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        if "error" in row:
            lines.append(f"| {row['seed']} | failed | | | | | | | | | | |")
            continue
        ttt = f"{row['seconds_to_target']:.0f}" if row["seconds_to_target"] is not None else "not reached"
        per = " | ".join(f"{v:.5f}" for v in row["test_per_frequency_mse"])
        lines.append(f"| {row['seed']} | **{row['test_mse']:.5f}** | {per} | {row['train_mse']:.5f} | "
                     f"{row['test_mse_S_zeroed']:.5f} | {row['test_mse_S_shuffled']:.5f} | "
                     f"{row['train_seconds']:.0f} | "
                     f"{ttt} | {row['peak_rss_mib']:.0f} |")
    cands = [(row["seed"], c) for row in r["rows"] for c in row.get("candidates", [])]
    if cands:
        lines += ["", "Every candidate init (each run trains two side by side and keeps the lower *validation* MSE, "
                  "signal.val_seed, outside the test seeds; the test seeds play no part in the choice):", "",
                  "| run seed | candidate seed | validation MSE | test MSE | steps | training s | kept |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {seed} | {c['seed']} | {c['val_mse']:.5f} | {c['test_mse']:.5f} | {c['steps']} | "
                  f"{c['seconds']:.0f} | {'yes' if c['kept'] else ''} |" for seed, c in cands]
    s = r.get("summary") or {}
    if s:
        lines.append("")
        lines.append(f"{s['met_target']} of {s['seeds']} seeds meet the target (test MSE ≤ 0.005 overall and ≤ 0.01 "
                     f"for each frequency); median test MSE {s['test_mse_median']:.5f}, "
                     f"worst {s['test_mse_worst']:.5f}; "
                     + (f"longest training {s['wall_seconds_max']:.0f} s (runs of {r['source']}, "
                        f"{r['machine']})." if r.get("source", "").startswith("multi-seed") else
                        f"slowest whole run {s['wall_seconds_max']:.0f} s wall ({r['jobs']} runs at a time on "
                        f"{r['machine']})."))
    return "\n".join(lines)


def _run_time(r: dict, out: str, what: str) -> str:
    """One sentence: the wall time of one whole ``freqextract run`` (bench_train.py, one seed)."""
    row = next(x for x in r["rows"] if "error" not in x)
    m, s = divmod(round(row["wall_seconds"]), 60)
    cpu = f"{r['cpu_model']}, " if r.get("cpu_model") else ""
    cmd = (f"python benchmarks/bench_train.py --seeds {row['seed']} --config {r['config']} "
           f"--out benchmarks/results/{out}")
    n = len(row.get("candidates", [])) or 1
    inits = f"{n} candidate inits side by side" if n > 1 else "one init"
    return (f"On {r.get('cpus')} CPU cores ({cpu}{r['machine']}), {what} "
            f"took **{m} min {s:02d} s** wall, measured alone on the machine: "
            f"{row['train_seconds']:.0f} s of training ({inits}), "
            f"the rest evaluation on the test seeds, the references, figures and the report "
            f"(test MSE {_mse(row['test_mse'])}; `{cmd}`).")


def table_run_time(r: dict) -> str:
    """The default run (the README's first command)."""
    return _run_time(r, "run_time.json", f"the first command's `freqextract run` (config `{r['config']}`)")


def table_run_time_learned(r: dict) -> str:
    """The learned recipe's run."""
    return _run_time(r, "run_time_learned.json", f"`freqextract run --config {r['config']}` (the learned clock)")


def table_loops(r: dict) -> str:
    return "\n".join([
        "| loop | seconds per epoch (40 000 rows) |", "|---|---|",
        f"| literal: one `step` per sample | {r['literal_s_per_epoch']:.2f} |",
        f"| fused: one LSTM call per {r['window']}-sample window | {r['fused_s_per_epoch']:.3f} |",
        "",
        f"Speed-up **{r['speedup']:.1f}×** (H = {r['hidden_size']}, {r['torch_threads']} torch thread, "
        f"peak RSS {r['peak_rss_mib']:.0f} MiB).",
    ])


def table_seq_len(r: dict) -> str:
    lines = ["| L | state between windows | test MSE | 1 Hz | 3 Hz | 5 Hz | 7 Hz | steps | training s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        per = " | ".join(f"{v:.4f}" for v in row["test_per_frequency_mse"])
        lines.append(f"| {row['seq_len']} | {row['window_state']} | **{row['test_mse']:.4f}** | {per} | "
                     f"{row['steps']} | {row['train_seconds']:.0f} |")
    return "\n".join(lines)


def table_seq_len_full(r: dict) -> str:
    """The same table on the whole learned recipe (bench_seq_len.py --full)."""
    return (table_seq_len(r) + "\n\nL = 1 and the carry rows: the learned recipe with one init, never restarted ("
            + ", ".join(f"`{o}`" for o in r["overrides"]) + "); the reset rows as above. Test seed 2, whole 10 s.")


def _mse_cell(v) -> str:
    return "–" if v is None else f"{v:.5f}"


def table_scenarios(r: dict) -> str:
    names = list(r["baseline_kinds"])
    kinds = r["baseline_kinds"]
    ratios = r.get("ratio_to", [])
    head = " | ".join(f"{n} ({kinds[n]})" for n in names)
    ratio_head = "".join(f" LSTM / {n} |" for n in ratios)
    lines = [f"| scenario | LSTM (95 % CI) | {head} |{ratio_head} target | met | training s |",
             "|---|---|" + "---|" * (len(names) + len(ratios)) + "---|---|---|"]
    for row in r["rows"]:
        base = " | ".join(_mse_cell(row["baselines_mean_mse"].get(n)) for n in names)
        ratio = "".join(f" {row['ratio_to'][n]:.2f} |" if n in row["ratio_to"] else " – |" for n in ratios)
        met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['scenario']} | **{row['lstm_mean_mse']:.5f}** ± {row['lstm_ci95_halfwidth']:.5f} | "
                     f"{base} |{ratio} {row['target']} | {met} | {row['train_seconds']:.0f} |")
    seeds = r["rows"][0]["seeds"]
    lines += ["", f"Mean test MSE over noise seeds {seeds[0]}..{seeds[-1]} (one 10 s sequence each, all K×N rows); "
              f"one training run per scenario (its bundled config's recipe, base seed 0; training s: the whole "
              f"training, two candidate inits side by side on 2 cores)."]
    if ratios:
        tuning = r["rows"][0].get("tuning_seeds") or []
        lines[-1] += (" Kinds: untuned = hand-set defaults; tuned = parameters chosen by MSE on training-side "
                      f"seeds {tuning[0]}..{tuning[-1]}" if tuning else "") + (
            "; Bayes = the particle filter approximating the posterior mean (offsets only); LSTM / X: the "
            "LSTM's mean over X's (below 1: the LSTM is better).")
    timed = [row for row in r["rows"] if "error_in_time" in row]
    if timed:
        seed = timed[0]["error_in_time"]["seed"]
        methods = list(dict.fromkeys(k for row in timed for k in row["error_in_time"] if k != "seed"))
        label = {"lstm": "LSTM"}
        lines += ["", f"Where the error sits in time (test seed {seed}, MSE over the first 0.5 s after the reset / "
                  "from 1.5 s on):", "",
                  "| scenario |" + "".join(f" {label.get(m, m)} first 0.5 s | {label.get(m, m)} from 1.5 s |"
                                           for m in methods),
                  "|---|" + "---|---|" * len(methods)]
        for row in timed:
            t = row["error_in_time"]
            lines.append(f"| {row['scenario']} |" + "".join(
                f" {t[m]['first_0.5s']:.5f} | {t[m]['after_1.5s']:.5f} |" if m in t else " – | – |"
                for m in methods))
    return "\n".join(lines)


def table_multiseed(r: dict) -> str:
    o = r["over_seeds"]
    seeds = o["test_seeds"]
    freqs = " | ".join(f"{f:g} Hz" for f in r["frequencies"])
    lines = [f"| training seed | validation MSE | test MSE (seed {seeds[0]}) | test MSE, mean over seeds "
             f"{seeds[0]}..{seeds[-1]} | {freqs} | target met |",
             "|---" * (5 + len(r["frequencies"])) + "|"]
    for row in o["rows"]:
        per = " | ".join(f"{v:.5f}" for v in row["multi_seed_per_frequency_mean"])
        lines.append(f"| {row['seed']} | {row['validation_mse']:.5f} | {row['test_mse']:.5f} | "
                     f"**{row['multi_seed_mean']:.5f}** | {per} | {'yes' if row['met_target'] else ''} |")

    def ci(s: dict) -> str:
        return f"{s['ci95'][0]:.5f} to {s['ci95'][1]:.5f}" if s.get("ci95") else "–"

    per_mean = " | ".join(f"{s['mean']:.5f}" for s in o["multi_seed_per_frequency_mean"])
    per_ci = " | ".join(ci(s) for s in o["multi_seed_per_frequency_mean"])
    lines += [f"| mean | {o['validation_mse']['mean']:.5f} | {o['test_mse']['mean']:.5f} | "
              f"**{o['multi_seed_mean']['mean']:.5f}** | {per_mean} | |",
              f"| 95% CI | {ci(o['validation_mse'])} | {ci(o['test_mse'])} | {ci(o['multi_seed_mean'])} | "
              f"{per_ci} | |", "",
              f"{o['met_target']} of {o['n']} training seeds meet the target (mean test MSE ≤ "
              f"{o['target']['overall']} over all rows and ≤ {o['target']['each_frequency']} for every "
              f"frequency); {r['wall_seconds']:.0f} s wall with {r['workers']} worker(s) on {r['cpus']} "
              f"{r['machine']} cores."]
    return "\n".join(lines)


def table_stream(r: dict) -> str:
    lat = {(row["backend"], row["threads"], row["streams"]): row for row in r["latency"]}
    lines = ["| backend | threads | p50 µs, 1 stream | p99 µs, 1 stream | p50 µs, 4 streams "
             "| p99 µs, 4 streams |", "|---|---|---|---|---|---|"]
    for backend, threads in dict.fromkeys((b, t) for b, t, _ in lat):
        one, four = lat[(backend, threads, 1)], lat[(backend, threads, 4)]
        lines.append(f"| {backend} | {threads} | **{one['p50_us']:.1f}** | {one['p99_us']:.1f} | "
                     f"{four['p50_us']:.1f} | {four['p99_us']:.1f} |")
    lines += ["", "| backend | threads | bulk mode (the 40 000-row test set from the reset) | rows/s, median "
              "| rows/s, best |", "|---|---|---|---|---|"]
    lines += [f"| {row['backend']} | {row['threads']} | {row['mode']} | **{row['rows_per_s']:,.0f}** | "
              f"{row['rows'] / row['seconds_best']:,.0f} |" for row in r["batch"]]
    omp = r["OMP_NUM_THREADS"] if r["OMP_NUM_THREADS"] is not None else "unset"
    lines += ["", f"Model: {r['model']}; {r['note']}. OMP_NUM_THREADS {omp} (torch's default: "
              f"{r['torch_default_threads']} threads), {r['cpu_count']} CPUs, {r['machine']}, load average "
              f"{r['load_average_before']:.1f} when it started (a shared machine), torch {r['torch']}, "
              f"onnxruntime {r['onnxruntime']}."]
    goals = r.get("goals")
    if goals:
        p50, p50_max = lat[("onnxruntime", 1, 1)]["p50_us"], goals["onnxruntime_one_stream_p50_us_max"]
        bulk = max(r["batch"], key=lambda row: row["rows_per_s"])
        ok_lat, ok_bulk = p50 <= p50_max, bulk["rows_per_s"] >= goals["bulk_rows_per_s_min"]
        lines.append(f"Goals: onnxruntime one-stream p50 ≤ {p50_max:g} µs: "
                     f"{'met' if ok_lat else 'missed'} ({p50:.1f} µs); bulk ≥ "
                     f"{goals['bulk_rows_per_s_min']:,} rows/s on 2 cores: {'met' if ok_bulk else 'missed'} "
                     f"(fastest mode, median: {bulk['rows_per_s']:,.0f}, {bulk['mode']}).")
    t = r.get("trained")
    if t:
        lines.append(f"Trained model (`{t['checkpoint']}`), the test signal streamed one sample at a time in "
                     f"onnxruntime against eager PyTorch: largest difference {t['max_abs_diff']:.1e} over "
                     f"{t['samples']:,} samples ({t['max_abs_diff_first_1000']:.1e} over the first 1 000); "
                     f"test MSE {t['test_mse_onnxruntime']:.6f} against {t['test_mse_torch']:.6f}.")
    return "\n".join(lines)


def _offsets_label(run: dict) -> str:
    return f"offsets s={run['phase_scale']:g}" + (f" sigma={run['noise_sigma']:g}" if run["noise_sigma"] else "")


def table_lockon(r: dict) -> str:
    edges = r["bin_edges_s"]
    bins = [f"{lo:g}–{hi:g} s" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    lines = ["| scenario | method | " + " | ".join(bins) + f" | share of the 10 s MSE made in the first "
             f"{edges[-1]:g} s | 10 s MSE |", "|---" * (4 + len(bins)) + "|"]
    for run in r["runs"]:
        label = _offsets_label(run)
        for row in run["rows"]:
            cells = " | ".join(f"{b:.4f}" for b in row["bin_mse"])
            total = f"{row['mse_10s']:.5f}" if row["mse_10s"] is not None else "–"
            lines.append(f"| {label} | {row['method']} | {cells} | {row['first_0.5s_share']:.5f} | {total} |")
    seeds = r["runs"][0]["seeds"]
    secs = sum(run["posterior_seconds"] for run in r["runs"])
    lines += ["", f"MSE in each bin after the reset over test seeds {seeds[0]}..{seeds[-1]}; LSTM of "
              + ", ".join(f"`{run['run_dir']}`" for run in r["runs"]) + "."]
    if r.get("grid"):
        lines[-1] += (f" The posterior mean is computed on a grid of {r['grid']} phases per component over the "
                      f"first {r['samples']} samples only ({secs:.0f} s for all its seeds).")
    for run in r["runs"]:
        if run.get("lstm_ratio_to"):
            lines[-1] += (f" {_offsets_label(run)}: the LSTM's 10 s MSE is " + " and ".join(
                f"{v:.2f}× {n}'s" for n, v in run["lstm_ratio_to"].items())
                + f" (rls-tuned: forgetting {run['tuned']['forgetting']:g}, regularization "
                f"{run['tuned']['regularization']:g}, tuned on seeds {run['tuning_seeds'][0]}.."
                f"{run['tuning_seeds'][-1]}; bayes-smc: {run['particles']} particles, "
                f"{run['bayes_seconds']:.0f} s for its seeds).")
    return "\n".join(lines)


def table_conditioning(r: dict) -> str:
    lines = ["| conditioning | parameters | NMSE (present) | absent power | training s |", "|---|---|---|---|---|"]
    lines += [f"| {row['conditioning']} | {row['parameters']} | **{row['nmse']:.4f}** | {row['absent_power']:.4f} | "
              f"{row['train_seconds']:.0f} |" for row in r["rows"]]
    lines += [f"| *{name}* (reference) | | {v['nmse']:.4f} | {v['absent_power']:.4f} | |"
              for name, v in r["references"].items()]
    lines += ["", f"{r['steps']} steps at a {r['horizon']}-sample horizon each, same mixtures and requests; "
              f"held-out seeds {r['sequences'][0]}..{r['sequences'][-1]} (10 s each); `{r['command']}` on "
              f"{r['machine']}."]
    return "\n".join(lines)


def table_transfer(r: dict) -> str:
    lines = ["| start | validation NMSE after 1 step | s to target | held-out NMSE | absent power | steps "
             "| training s |",
             "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        ttt = f"{row['seconds_to_target']:.0f}" if row["seconds_to_target"] is not None else "not reached"
        lines.append(f"| {row['start']} | {row['first_val_nmse']:.3f} | {ttt} | **{row['nmse']:.4f}** | "
                     f"{row['absent_power']:.4f} | {row['steps']} | {row['seconds']:.0f} |")
    lines += ["", f"Task: {r['task']}; target: validation NMSE of present requests ≤ {r['target']:g}; held-out "
              f"seeds {r['held_out_seeds'][0]}..{r['held_out_seeds'][-1]}; `{r['command']}` on {r['machine']}."]
    return "\n".join(lines)


def _stages(r: dict) -> str:
    """How the bundled model was trained: its command, or each stage's config with its steps and minutes
    (every stage after the first goes on from the one before with --init-from; docs/extractor.md has the
    commands)."""
    stages = r.get("stages") or []
    if len(stages) < 2:
        return f"`{r['trained_with']}`"

    def config(cmd: str) -> str:
        words = cmd.split()
        return f"--config {words[words.index('--config') + 1]}" if "--config" in words else cmd

    first, *rest = stages
    return (f"`freqextract run {config(first['command'])}` ({first['steps']} steps, {first['seconds'] / 60:.0f} min)"
            + "".join(f", then `{config(s['command'])}` ({s['steps']} steps, {s['seconds'] / 60:.0f} min)"
                      for s in rest)
            + ", each stage from the one before (`--init-from`)")


def table_bundled_time(r: dict) -> str:
    """Where the bundled model's error is: the held-out NMSE by time since the reset, beside the references'."""
    t = r["held_out"]["test"]
    edges = t.get("time_edges_s")
    if not edges:
        return "(this card records no split by time)"
    named = [("**the model**", t["model"])] + [
        (f"{k} (oracle)" if v.get("oracle") else k, v) for k, v in t["references"].items() if v.get("nmse_by_time")]
    head = [f"{a:g}–{b:g} s" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    lines = ["| since the reset | " + " | ".join(head) + " | whole |", "|" + "---|" * (len(head) + 2)]
    for label, v in named:
        lines.append(f"| {label} | " + " | ".join(f"{x:.4f}" for x in v["nmse_by_time"]) + f" | {v['nmse']:.4f} |")
    lines += ["", f"NMSE of present requests on held-out seeds {t['sequences'][0]}..{t['sequences'][-1]}, split by "
              "time since the reset: each bin's squared error over the whole target's energy, so a row adds up to "
              "its NMSE. From the bundled model's card (`python benchmarks/bundle_model.py`)."]
    return "\n".join(lines)


def table_bundled(r: dict) -> str:
    t = r["held_out"]["test"]
    refs = t["references"]
    lines = ["| bundled `extractor` | NMSE (present) | absent power | model / it |", "|---|---|---|---|",
             f"| **the model** | **{t['model']['nmse']:.4f}** | {t['model']['absent_power']:.4f} | |"]
    for name, v in refs.items():
        if name == "zero":
            continue
        tag = " (oracle: told every true frequency)" if v.get("oracle") else " (tuned)"
        lines.append(f"| {name}{tag} | {v['nmse']:.4f} | {v['absent_power']:.4f} | {t['ratios'][name]:.2f} |")
    noisy = r["held_out"].get("test_sigma_0.1")
    checks = "; ".join(f"{k}: {'yes' if ok else 'no'}" for k, ok in t["verdict"]["checks"].items())
    lines += ["", f"Held-out mixtures, seeds {t['sequences'][0]}..{t['sequences'][-1]} (σ = 0), references tuned on "
              f"seeds {t['tune_seeds'][0]}..{t['tune_seeds'][-1]}. Target {'met' if t['verdict']['met'] else 'missed'} "
              f"({checks})."
              + (f" With white noise σ = 0.1: NMSE {noisy['model']['nmse']:.4f} (tuned band-pass "
                 f"{noisy['references']['bandpass-tuned']['nmse']:.4f}, oracle RLS "
                 f"{noisy['references']['rls-oracle-tuned']['nmse']:.4f})." if noisy else "")
              + f" Trained by {_stages(r)}: {r['training_seconds'] / 60:.0f} min in all ({r['training_steps']} "
              f"steps) on {r['machine']['cpus']} CPU cores ({r['machine']['processor']}, torch threads "
              f"{r['machine']['torch_threads']}, the cores shared with other jobs); shipped by "
              f"`python benchmarks/bundle_model.py RUN_DIR`."]
    return "\n".join(lines)


def table_extractor_levers(r: dict) -> str:
    lines = ["| from the bundled model | held-out NMSE | absent power | / tuned band-pass | training s |",
             "|---|---|---|---|---|"]
    for row in r["rows"]:
        bold = "" if row["steps"] else "**"
        secs = f"{row['seconds']:.0f}" if row["steps"] else ""
        lines.append(f"| {row['lever']} | {bold}{row['nmse']:.4f}{bold} | {row['absent_power']:.4f} | "
                     f"{row['ratio_to_bandpass']:.3f} | {secs} |")
    s = r["held_out_seeds"]
    lines += ["", f"{r['steps']} steps per lever from the bundled `{r['model']}`, the same training mixtures for "
              f"each; held-out seeds {s[0]}..{s[-1]} (the card's), tuned band-pass {r['bandpass_tuned']:.4f} (the "
              f"card's; the target is a ratio of at most 0.5); `{r['command']}` on {r['machine']}."]
    return "\n".join(lines)


def _mse(v: float) -> str:
    """An MSE with five decimals, or two significant digits below 1e-4 (where five decimals show 0)."""
    return f"{v:.5f}" if v >= 1e-4 else f"{v:.1e}"


def table_oneinit(r: dict) -> str:
    lines = ["| training seed | test MSE | 1 Hz | 3 Hz | 5 Hz | 7 Hz | seeds 2..11 | polish: validation | "
             "worst ppm | training | wall |", "|" + "---|" * 11]
    for row in r["rows"]:
        if "failed" in row:
            lines.append(f"| {row['seed']} | failed: {row['failed'][0]} |" + " |" * 9)
            continue
        pol = row.get("polish")
        pol = (f"{_mse(pol['val_before'])} → {_mse(pol['val_after'])}" + ("" if pol["kept"] else " (not kept)")
               if pol else "none")
        ppm = row.get("free_running_ppm")
        ppm = f"{max(abs(v) for v in ppm if v is not None):.0f}" if ppm else "n/a"
        lines.append(f"| {row['seed']} | **{_mse(row['test_mse'])}** | "
                     + " | ".join(_mse(v) for v in row["per_frequency_mse"])
                     + f" | {_mse(row['multi_seed_mean'])} | {pol} | {ppm} | {row['training_seconds']:.0f} s | "
                     + ("n/a |" if row["wall_seconds"] is None else f"{row['wall_seconds']:.0f} s |"))
    t = r["targets"]
    sets = " ".join(f"--set {s}" for s in r["set"])
    cmd = f"--seeds {r['seeds']} --workers {r['workers']}"
    if r["config"] != "spec":
        cmd += f" --config {r['config']} --out benchmarks/results/oneinit_{r['config'].replace('spec-', '')}.json"
    lines += ["", f"One candidate per training seed (`python benchmarks/bench_oneinit.py {cmd}"
              f"{' ' + sets if sets else ''}`; config `{r['config']}`), test MSE on "
              f"noise seed 2 and its mean over 2..11; median {_mse(r['median_test_mse'])}. Targets (every seed <= "
              f"{t['seed']:g} with every frequency <= {t['frequency']:g}, median <= {t['median']:g}): "
              f"**{'met' if r['met'] else 'missed'}**. Worst ppm: the largest free-running frequency error over "
              f"the four selectors (S = 0, 60 s). Times on {r['cpus']} CPU cores, "
              f"{'one seed at a time' if r['workers'] == 1 else str(r['workers']) + ' seeds at once'}"
              + (f"; {r['note']}" if r.get("note") else "") + "."]
    return "\n".join(lines)


def table_rotation(r: dict) -> str:
    lines = ["| model | 1 Hz | 3 Hz | 5 Hz | 7 Hz | mean |", "|---|---|---|---|---|---|"]
    for row in r["rows"]:
        what = row["what"] if row["lr"] is None else f"Adam, lr {row['lr']:g}, {row['steps']} step(s)"
        if "seconds" in row:
            what += f", {row['seconds']:.0f} s" + ("" if row.get("kept", True) else " (not kept)")
        mse = row["mse"]
        lines.append(f"| {what} | " + " | ".join(f"{v:.2g}" for v in mse) + f" | **{sum(mse) / len(mse):.2g}** |")
    ppm = ", ".join(f"{v:+.1f}" for v in r["calibrated_ppm"])
    lines += ["", f"Test MSE on noise seed {r['test_seed']} over the whole 10 s "
              f"(`python benchmarks/bench_rotation.py`; config `{r['config']}`: rotation amplitude "
              f"{r['amplitude']:g}, H = {r['hidden_size']}; Adam steps "
              "on fresh training noise at the 1 000-sample warm-up horizon, gradient clipped at 1). Calibrated "
              f"free-running error of each planted cycle (float64, its own map): {ppm} ppm; building the model "
              f"takes {r['build_seconds']:.1f} s ({r['machine']}, 1 torch thread)."]
    return "\n".join(lines)


def table_programmable(r: dict) -> str:
    lines = [f"| frequency (Hz) | | MSE {r['duration_s']:g} s | first second | last second |", "|---|---|---|---|---|"]
    lines += [f"| {row['hz']:g} | held out | **{row['mse']:.5f}** | {row['first_s']:.5f} | {row['last_s']:.5f} |"
              for row in r["heldout"]]
    lo, hi = r["band_hz"]
    seen = "–" if r["mean_seen_mse"] is None else f"{r['mean_seen_mse']:.5f}"
    seeds = r["seeds"]
    lines += ["", f"Mean MSE: held-out frequencies {r['mean_heldout_mse']:.5f}; grid every {r['grid_step_hz']:g} Hz "
              f"over {lo:g}..{hi:g} Hz {r['mean_grid_mse']:.5f} (of which the frequencies training could draw "
              f"{seen}); answering 0 scores {r['zero_mse']:g}. Test seeds {seeds[0]}..{seeds[-1]}, conditioning "
              f"{r['conditioning']}, run `{r['run_dir']}`. The MSE across the band is in "
              "[the figure](assets/programmable.png)."]
    return "\n".join(lines)


def table_outputs(r: dict) -> str:
    lines = ["| scenario | outputs | test MSE | 1 Hz | 3 Hz | 5 Hz | 7 Hz | training | fused µs/sample | "
             "step µs/sample |", "|" + "---|" * 10]
    for row in r["rows"]:
        if "failed" in row:
            lines.append(f"| {row['scenario']} | {row['outputs']} | failed: {row['failed']} |" + " |" * 7)
            continue
        i = row["inference"]
        lines.append(f"| {row['scenario']} | {row['outputs']} | **{row['test_mse']:.5f}** | "
                     + " | ".join(f"{v:.5f}" for v in row["per_frequency_mse"])
                     + f" | {row['training_seconds']:.0f} s | {i['fused_us_per_sample']:.2f} | "
                     f"{i['step_us_per_sample']:.1f} |")
    seeds = sorted({row["test_seeds"] for row in r["rows"] if "test_seeds" in row})
    lines += ["", f"`python benchmarks/bench_outputs.py --budget {r['budget']}`: one candidate per run, the same "
              f"budget for both outputs; test MSE over noise seeds {', '.join(seeds) or 'n/a'}. Inference: all "
              f"components of one sample over a {r['timed_seconds']:g} s signal, one thread (selector: one stream "
              f"per frequency; all: one stream). Times on {r['cpus']} CPU cores."]
    return "\n".join(lines)


def table_levers(r: dict) -> str:
    n = r["seeds"]
    lines = ["| lever | " + " | ".join(f"seed {i}" for i in range(n)) + " | median | seeds meeting the targets | "
             "training (mean) | seeds at once |", "|" + "---|" * (n + 5)]
    for x in r["levers"]:
        cells = [("failed" if "failed" in row else _mse(row["test_mse"])) for row in x["rows"]]
        med = "n/a" if x["median_test_mse"] is None else f"**{_mse(x['median_test_mse'])}**"
        secs = "n/a" if x["mean_training_seconds"] is None else f"{x['mean_training_seconds']:.0f} s"
        lines.append(f"| {x['lever']} | " + " | ".join(cells) + f" | {med} | {x['met']} of {len(x['rows'])} | "
                     f"{secs} | {x['workers']} |")
    t = r["targets"]
    lines += ["", f"`python benchmarks/bench_levers.py --seeds {n}`: each lever on the learned recipe (`--config "
              f"{r['config']}`) with one candidate per training seed, test MSE on noise seed 2 over the whole 10 s; "
              f"targets: every seed <= {t['seed']:g} with every frequency <= {t['frequency']:g}. The overrides of "
              "each lever: " + "; ".join(f"{x['lever']}: `{' '.join(x['set']) or 'none'}`" for x in r["levers"])
              + f". Times on {r['cpus']} CPU cores ({r['machine']})."]
    return "\n".join(lines)


TABLES = {"train_seeds": table_train_seeds, "run_time": table_run_time,
          "run_time_learned": table_run_time_learned, "loops": table_loops, "seq_len": table_seq_len,
          "seq_len_full": table_seq_len_full,
          "scenarios": table_scenarios, "multiseed": table_multiseed, "stream": table_stream,
          "lockon": table_lockon, "conditioning": table_conditioning, "transfer": table_transfer,
          "bundled-extractor": table_bundled, "oneinit": table_oneinit, "programmable": table_programmable,
          "oneinit_planted": table_oneinit, "rotation": table_rotation, "levers": table_levers,
          "outputs": table_outputs, "bundled-extractor-time": table_bundled_time,
          "extractor_levers": table_extractor_levers}
SOURCES = {"bundled-extractor-time": "bundled-extractor"}  # a table written from another table's JSON


# where each table goes: its docs page; HEADLINE also goes into the README
PAGES = {"train_seeds": "results.md", "run_time": "results.md", "run_time_learned": "results.md",
         "loops": "results.md", "multiseed": "results.md",
         "seq_len": "method.md", "seq_len_full": "method.md",
         "scenarios": "scenarios.md", "lockon": "scenarios.md", "stream": "streaming.md",
         "conditioning": "extractor.md", "transfer": "extractor.md", "bundled-extractor": "extractor.md",
         "oneinit": "results.md", "programmable": "scenarios.md", "outputs": "results.md",
         "oneinit_planted": "results.md", "rotation": "method.md", "levers": "results.md",
         "bundled-extractor-time": "extractor.md", "extractor_levers": "extractor.md"}
HEADLINE = "oneinit_planted"  # the default run (spec-planted) over training seeds 0..4
README_TABLES = (HEADLINE, "bundled-extractor", "run_time", "run_time_learned")  # also written into the README
RUNS = "benchmarks/runs/"  # the benchmarks' default --runs-dir: notes name a run relative to it


def fill(text: str, name: str, block: str) -> tuple[str, int]:
    pattern = re.compile(rf"(<!-- results:{name} -->\n).*?(\n<!-- /results:{name} -->)", re.S)
    return pattern.subn(lambda m: m.group(1) + block + m.group(2), text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readme", default="README.md")
    p.add_argument("--docs", default="docs")
    p.add_argument("--results", default="benchmarks/results")
    a = p.parse_args(argv)
    files = {Path(a.readme)} | {Path(a.docs) / page for page in PAGES.values()}
    texts = {f: f.read_text(encoding="utf-8") for f in files}
    missing = 0
    for name, fn in TABLES.items():
        path = Path(a.results) / f"{SOURCES.get(name, name)}.json"
        if not path.exists():
            continue
        block = fn(json.loads(path.read_text())).replace(RUNS, "")
        targets = [Path(a.docs) / PAGES[name]] + ([Path(a.readme)] if name in README_TABLES else [])
        for target in targets:
            texts[target], n = fill(texts[target], name, block)
            print(f"{name}: {'updated' if n else 'NO MARKER in'} {target}")
            missing += not n
    for f, text in texts.items():
        f.write_text(text, encoding="utf-8")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
