"""Sweeps on Optuna: trials handed out exactly once to concurrent workers, run directories, pruning,
failures, top-ups, the multi-seed preset, and one-line errors through the real command."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
from conftest import MODULE, TINY_SWEEP, cli_env

from freqextract.errors import UserError
from freqextract.studies import storage
from freqextract.studies import sweep as engine
from freqextract.studies.sweep_config import from_data
from freqextract.studies.sweep_config import load as load_sweep

State = optuna.trial.TrialState
TINY_TRAIN = ["train.warmup_steps=10", "train.growth_steps=5", "train.final_steps=5", "train.log_every=5",
              "eval.baselines=false", "eval.ablations=false", "eval.report=false", 'train.device="cpu"']


def trials_of(sweep_dir: Path) -> list[optuna.trial.FrozenTrial]:
    st = storage.load(str(sweep_dir))
    return optuna.load_study(study_name=st.name, storage=st.storage).get_trials()


# ---------------------------------------------------------------------------------------------- two workers
@pytest.fixture(scope="module")
def two_workers(tiny_sweep, tmp_path_factory):
    """``freqextract sweep --workers 2`` on the default storage (a journal file in the sweep directory)."""
    out = tmp_path_factory.mktemp("sweeps") / "tiny"
    cmd = [*MODULE, "sweep", "--config", str(tiny_sweep), "--out", str(out), "--workers", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_two_local_workers_record_every_trial_exactly_once(two_workers):
    out, proc = two_workers
    assert (out / "study.journal").is_file() and json.loads((out / "study.json").read_text()) == {
        "storage": "study.journal", "study": "tiny"}
    trials = trials_of(out)
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]  # n_trials, no more, none twice
    assert all(t.state == State.COMPLETE for t in trials)
    assert proc.stdout.count("worker done:") == 2  # two processes took part in the study
    run_dirs = [Path(t.user_attrs["run_dir"]) for t in trials]
    assert len(set(run_dirs)) == 4
    for t, d in zip(trials, run_dirs, strict=True):
        assert d == (out / "trials" / str(t.number)).resolve()
        metrics = json.loads((d / "metrics.json").read_text())  # an ordinary run directory
        kept = next(c for c in metrics["training"]["candidates"] if c["kept"])
        assert t.value == pytest.approx(kept["val_mse"])  # the metric is the validation MSE
        assert t.user_attrs["metrics"]["test.mse"] == pytest.approx(metrics["test"]["mse"])
        assert (d / "config.toml").is_file() and (d / "checkpoints" / "final.pt").is_file()
        assert not (d / "report.html").exists()  # eval.report = false: no per-trial figures
    lrs = [t.params["train.lr"] for t in trials]
    assert len(set(lrs)) == 4 and all(1e-3 <= v <= 1e-2 for v in lrs)


def test_sweep_report_embeds_the_figures(two_workers):
    out, _ = two_workers
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    images = dict(re.findall(r'<figure id="fig-([a-z]+)"><img src="data:image/png;base64,([^"]+)"', html))
    assert set(images) >= {"history", "importance", "parallel"}
    for data in images.values():
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    values = {t["number"]: t["value"] for t in summary["trials"]}
    assert summary["best"]["value"] == min(values.values())
    assert Path(summary["best"]["run_dir"]).is_dir()
    assert set(summary["importances"]) == {"train.lr", "model.hidden_size"}
    assert summary["states"] == {"complete": 4, "pruned": 0, "fail": 0, "running": 0, "waiting": 0}
    assert 'id="best-table"' in html and f"trials/{summary['best']['number']}" in html


def test_more_trials_tops_up_and_a_changed_config_is_refused(two_workers, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(two_workers[0], copy)
    base, sweep = load_sweep(copy / "sweep.toml")
    st = engine.create(base, sweep, copy)  # the same config: opened again, nothing added
    assert len(trials_of(copy)) == 4 and engine.claim(st) is None
    changed, _ = load_sweep(copy / "sweep.toml", ["model.hidden_size=6"])
    with pytest.raises(UserError, match=r"^--study tiny: the study exists with another config"):
        engine.create(changed, sweep, copy)
    base, sweep = load_sweep(copy / "sweep.toml", ["sweep.n_trials=5"])
    engine.create(base, sweep, copy)
    counts = engine.work(str(copy), echo=lambda s: None)
    trials = trials_of(copy)
    assert counts == {"complete": 1, "pruned": 0, "fail": 0, "taken over": 0}
    assert sorted(t.number for t in trials) == [0, 1, 2, 3, 4]
    assert all(t.state == State.COMPLETE for t in trials)


# ---------------------------------------------------------------------------------------------- in process
def tiny(extra: dict | None = None, sweep: dict | None = None):
    import tomllib

    data = tomllib.loads(TINY_SWEEP)
    for section, values in (extra or {}).items():
        data[section] = {**data.get(section, {}), **values}
    data["sweep"] = {**data["sweep"], **(sweep or {})}
    return from_data(data)


def test_pruner_stops_hopeless_trials_early(tmp_path):
    base, sweep = tiny(sweep={"pruner": "threshold", "prune_threshold": 1e-6, "prune_warmup_steps": 5,
                              "n_trials": 2})
    result = engine.sweep(base, sweep, tmp_path / "s", workers=1, echo=lambda s: None)
    trials = trials_of(tmp_path / "s")
    assert [t.state for t in trials] == [State.PRUNED, State.PRUNED]
    for t in trials:
        assert t.last_step == 5  # the first report after prune_warmup_steps; training stopped there
        assert not (Path(t.user_attrs["run_dir"]) / "metrics.json").exists()
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["states"]["pruned"] == 2 and summary["best"] is None
    assert summary["importances"] is None and "at least 2 complete trials" in summary["importance_note"]
    assert "intermediate" in (result.report.read_text())


def test_failed_combination_is_recorded_and_the_grid_reruns_it(tmp_path):
    # each value is valid alone; seq_len 4 with a warm-up horizon of 102 samples is not
    base, sweep = tiny(sweep={"sampler": "grid", "space": {
        "model.seq_len": {"type": "categorical", "choices": [1, 4]},
        "train.warmup_horizon": {"type": "categorical", "choices": [100, 102]}}})
    engine.sweep(base, sweep, tmp_path / "s", workers=1, echo=lambda s: None)
    trials = trials_of(tmp_path / "s")
    assert len(trials) == 4 and sorted(t.state.name for t in trials) == ["COMPLETE"] * 3 + ["FAIL"]
    failed = next(t for t in trials if t.state == State.FAIL)
    assert failed.params == {"model.seq_len": 4, "train.warmup_horizon": 102}
    assert failed.user_attrs["error"].startswith("model.seq_len: 4 must divide")
    engine.create(base, sweep, tmp_path / "s")  # opened again: the failed point is queued again
    waiting = [t for t in trials_of(tmp_path / "s") if t.state == State.WAITING]
    assert [t.system_attrs["fixed_params"] for t in waiting] == [failed.params]


def test_multiseed_preset_quick_variant_gives_a_confidence_interval(tmp_path):
    base, sweep = load_sweep("quick", [*TINY_TRAIN, "sweep.n_trials=3"], preset="multiseed")
    result = engine.sweep(base, sweep, tmp_path / "ms", workers=1, echo=lambda s: None)
    trials = trials_of(tmp_path / "ms")
    assert sorted(t.params["train.seed"] for t in trials) == [0, 1, 2]
    o = json.loads((tmp_path / "ms" / "summary.json").read_text())["over_seeds"]
    assert o["n"] == 3 and [r["seed"] for r in o["rows"]] == [0, 1, 2]
    assert o["test_seeds"] == list(range(2, 12))
    means = []
    for t in sorted(trials, key=lambda t: t.params["train.seed"]):
        m = json.loads((Path(t.user_attrs["run_dir"]) / "metrics.json").read_text())
        assert m["multi_seed"]["seeds"] == list(range(2, 12))
        means.append(m["multi_seed"]["mean"])
    assert [r["multi_seed_mean"] for r in o["rows"]] == pytest.approx(means)
    s = o["multi_seed_mean"]
    assert s["mean"] == pytest.approx(sum(means) / 3) and s["ci95"][0] < s["mean"] < s["ci95"][1]
    assert len(o["multi_seed_per_frequency_mean"]) == 4
    assert "seeds-table" in result.report.read_text() and "95% CI" in result.headline


# ---------------------------------------------------------------------------------------------- CLI errors
BAD_SPACE = TINY_SWEEP.replace('[sweep.space."train.lr"]', '[sweep.space."train.lrate"]')
NO_SWEEP = TINY_SWEEP.split("[sweep]")[0]

# arguments after `freqextract` ({d} = a folder with tiny.toml, bad.toml, nosweep.toml; {o} = a path that
# must stay absent) and what the one-line error names
CLI_CASES = {
    "unknown-key-in-space": (["sweep", "--config", "{d}/bad.toml", "--out", "{o}"],
                             'sweep.space."train.lrate"'),
    "no-sweep-table": (["sweep", "--config", "{d}/nosweep.toml", "--out", "{o}"], "no [sweep] table"),
    "bad-trials": (["sweep", "--config", "{d}/tiny.toml", "--trials", "0", "--out", "{o}"], "sweep.n_trials"),
    "bad-workers": (["sweep", "--config", "{d}/tiny.toml", "--workers", "-1", "--out", "{o}"], "--workers"),
    "sqlite-many-workers": (["sweep", "--config", "{d}/tiny.toml", "--storage", "sqlite:///{o}.db",
                             "--workers", "2", "--out", "{o}"], "SQLite"),
    "database-down": (["sweep", "--config", "{d}/tiny.toml", "--storage", "postgresql://u:pw@127.0.0.1:1/x",
                       "--out", "{o}"], "postgresql://u:***@127.0.0.1:1/x: cannot open"),
    "run-with-sweep-table": (["run", "--config", "{d}/tiny.toml", "--out", "{o}"], "sweep: this table"),
    "worker-no-journal": (["sweep", "worker", "--storage", "{o}.journal"], "no such study journal"),
    "report-no-dir": (["sweep", "report", "{o}"], "no such sweep directory"),
}


def _cli(args: list[str], root: Path) -> tuple[subprocess.CompletedProcess, bool]:
    root.mkdir()
    for name, text in (("tiny.toml", TINY_SWEEP), ("bad.toml", BAD_SPACE), ("nosweep.toml", NO_SWEEP)):
        (root / name).write_text(text)
    out = root / "out"
    proc = subprocess.run([*MODULE, *(a.format(d=root, o=out) for a in args)], capture_output=True, text=True,
                          env=cli_env(), timeout=300, cwd=root)
    return proc, any(root.glob("out*"))


def test_cli_mistakes_are_one_line_and_leave_nothing(tmp_path):
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {k: pool.submit(_cli, args, tmp_path / k) for k, (args, _) in CLI_CASES.items()}
        results = {k: f.result() for k, f in futures.items()}
    for name, (proc, left) in results.items():
        expected = CLI_CASES[name][1]
        assert proc.returncode == 2, (name, proc.stderr)
        assert proc.stderr.count("\n") == 1, (name, proc.stderr)
        assert proc.stderr.startswith("freqextract: error: "), (name, proc.stderr)
        assert expected in proc.stderr, (name, proc.stderr)
        assert not left, name
