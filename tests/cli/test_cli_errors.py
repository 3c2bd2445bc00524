"""User mistakes: `freqextract generate` with bad input, and load_npz on damaged files.

The CLI cases run the real command in subprocesses. Each one pays for importing the package (torch
included), so the subprocesses of a module are started together once and the tests inspect the results.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import MODULE, assert_same_signal, cli_env

from freqextract.cli import main
from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.signals.data import load_csv, load_npz, save_npz
from freqextract.signals.scenarios import generate

# ---------------------------------------------------------------------------------------------- CLI cases
# Each case: the arguments after `freqextract generate` ({cfg} = a folder of prepared config files,
# {out} = the empty output folder), and the text the one-line error must contain (the field or file).
# Config files the cases use, written into {cfg} before the run.
CONFIG_FILES: dict[str, bytes] = {
    "malformed.toml": b"[signal]\nfs = = 1000\n",
    "wrong_type.toml": b'[signal]\nfs = "1000"\n',
    "unknown_section.toml": b"[sgnal]\nfs = 1000.0\n",
    "not_a_table.toml": b"signal = 5\n",
    "latin1.toml": "# caf\u00e9\n[signal]\nfs = 1000.0\n".encode("latin-1"),
    "nyquist.toml": b"[signal]\nfs = 10.0\nfrequencies = [1.0, 5.0]\n",
}

OUT = ["--out", "{out}/x.npz"]

CASES: dict[str, tuple[list[str], str]] = {
    "above-nyquist": (["--set", "signal.frequencies=[1.0, 3.0, 600.0]", *OUT], "signal.frequencies[2]"),
    "at-nyquist-from-file": (["--config", "{cfg}/nyquist.toml", *OUT], "signal.frequencies[1]"),
    "zero-frequency": (["--set", "signal.frequencies=[0.0, 3.0]", *OUT], "signal.frequencies[0]"),
    "fs-zero": (["--set", "signal.fs=0", *OUT], "signal.fs"),
    "fs-negative": (["--set", "signal.fs=-1000", *OUT], "signal.fs"),
    "fs-nan": (["--set", "signal.fs=nan", *OUT], "signal.fs"),
    "duration-zero": (["--set", "signal.duration=0", *OUT], "signal.duration"),
    "duration-negative": (["--set", "signal.duration=-10.0", *OUT], "signal.duration"),
    "samples-not-whole": (["--set", "signal.duration=0.0015", *OUT], "signal.duration"),
    "amplitude-inverted": (["--set", "signal.amplitude=[1.2, 0.8]", *OUT], "signal.amplitude"),
    "amplitude-negative": (["--set", "signal.amplitude=[-1.0, 1.0]", *OUT], "signal.amplitude"),
    "amplitude-three-items": (["--set", "signal.amplitude=[0.8, 1.0, 1.2]", *OUT], "signal.amplitude"),
    "unknown-scenario": (["--set", "signal.scenario=chirp", *OUT], "signal.scenario"),
    "unknown-key": (["--set", "signal.sample_rate=1000", *OUT], "signal.sample_rate"),
    "unknown-section": (["--set", "sgnal.fs=1000", *OUT], "sgnal"),
    "unknown-section-in-file": (["--config", "{cfg}/unknown_section.toml", *OUT], "sgnal"),
    "section-not-a-table": (["--config", "{cfg}/not_a_table.toml", *OUT], "signal"),
    "fs-string": (["--set", "signal.fs=fast", *OUT], "signal.fs"),
    "fs-string-in-file": (["--config", "{cfg}/wrong_type.toml", *OUT], "signal.fs"),
    "seed-float-in-set": (["--set", "signal.test_seed=2.5", *OUT], "signal.test_seed"),
    "malformed-toml": (["--config", "{cfg}/malformed.toml", *OUT], "malformed.toml"),
    "not-utf8-toml": (["--config", "{cfg}/latin1.toml", *OUT], "latin1.toml"),
    "missing-config": (["--config", "{cfg}/missing.toml", *OUT], "missing.toml"),
    "config-is-a-directory": (["--config", "{cfg}", *OUT], "cfg"),
    "set-without-equals": (["--set", "signal.fs", *OUT], "signal.fs"),
    "set-without-section": (["--set", "fs=1000", *OUT], "fs=1000"),
    "phase-scale-above-1": (["--scenario", "phase-scaled", "--set", "signal.phase_scale=1.5", *OUT],
                            "signal.phase_scale"),
    "phase-scale-negative": (["--set", "signal.scenario=offsets", "--set", "signal.phase_scale=-0.1", *OUT],
                             "signal.phase_scale"),
    "phase-scale-in-spec": (["--set", "signal.phase_scale=0.01", *OUT], "signal.phase_scale"),
    "spec-with-noise-sigma": (["--set", "signal.noise_sigma=0.1", *OUT], "signal.noise_sigma"),
    "negative-noise-sigma": (["--scenario", "offsets", "--set", "signal.noise_sigma=-0.5", *OUT],
                             "signal.noise_sigma"),
    "duplicate-frequencies": (["--set", "signal.frequencies=[1.0, 3.0, 3.0]", *OUT], "signal.frequencies"),
    "no-frequencies": (["--set", "signal.frequencies=[]", *OUT], "signal.frequencies"),
    "negative-test-seed": (["--set", "signal.test_seed=-1", *OUT], "signal.test_seed"),
    "negative-seed": (["--seed", "-3", *OUT], "--seed"),
    "out-not-npz": (["--out", "{out}/x.csv"], "--out"),
    "out-no-suffix": (["--out", "{out}/x"], "--out"),
    "csv-not-csv": (["--out", "{out}/x.npz", "--csv", "{out}/x.txt"], "--csv"),
    "out-is-a-directory": (["--out", "{cfg}/dir.npz"], "dir.npz"),
    "csv-is-a-directory": (["--out", "{out}/x.npz", "--csv", "{cfg}/dir.csv"], "dir.csv"),
    "wrong-type-other-section": (["--set", "train.lr=fast", *OUT], "train.lr"),
    "unknown-key-other-section": (["--set", "model.size=3", *OUT], "model.size"),
}


# The subprocess runs cost about 2 s each (importing the package imports torch), so the default run sends
# this subset through the real command and every case through `main()` in-process; `-m slow` runs all cases
# as subprocesses.
SUBPROCESS_CASES = [
    "above-nyquist", "fs-zero", "duration-negative", "samples-not-whole", "amplitude-inverted",
    "unknown-scenario", "unknown-key", "unknown-section", "fs-string", "malformed-toml", "missing-config",
    "set-without-equals", "phase-scale-above-1", "spec-with-noise-sigma", "duplicate-frequencies",
    "out-not-npz",
]


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    before: set[str]
    after: set[str]
    root: Path


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _prepare(root: Path, args: list[str]) -> list[str]:
    (root / "cfg").mkdir(parents=True)
    (root / "out").mkdir()
    for name, data in CONFIG_FILES.items():
        (root / "cfg" / name).write_bytes(data)
    (root / "cfg" / "dir.npz").mkdir()  # folders where an output file should go
    (root / "cfg" / "dir.csv").mkdir()
    return [a.format(cfg=root / "cfg", out=root / "out") for a in args]


def _invoke(command: list[str], root: Path, args: list[str]) -> Result:
    args = _prepare(root, args)
    before = _listing(root)
    proc = subprocess.run([*command, "generate", *args], cwd=root, capture_output=True, text=True,
                          env=cli_env(), timeout=300)
    return Result(proc.returncode, proc.stdout, proc.stderr, before, _listing(root), root)


def _run_all(jobs: dict[str, tuple[list[str], list[str]]], base: Path) -> dict[str, Result]:
    """Run (command, args) jobs concurrently, each in its own folder under ``base``."""
    workers = min(len(jobs), max(2, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {k: pool.submit(_invoke, cmd, base / k, args) for k, (cmd, args) in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


HAPPY_ARGS = ["--seed", "2", "--out", "{out}/X.npz", "--csv", "{out}/X.csv"]


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory) -> dict[str, Result]:
    """The default subprocess runs: the subset of bad cases and the happy path (via `python -m`)."""
    jobs = {k: (cli, CASES[k][0]) for k in SUBPROCESS_CASES}
    jobs["happy"] = (MODULE, HAPPY_ARGS)
    return _run_all(jobs, tmp_path_factory.mktemp("cli"))


def _check_error(rc: int, stdout: str, stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    assert rc == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), stderr
    assert lines[0].startswith("freqextract: error: "), lines[0]
    assert expected in lines[0], lines[0]
    assert stdout == ""


def test_enough_distinct_cases():
    assert len(SUBPROCESS_CASES) >= 14 and set(SUBPROCESS_CASES) <= set(CASES)
    assert len({tuple(a) for a, _ in CASES.values()}) == len(CASES)


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_generate_rejects_bad_input(runs, case):
    res = runs[case]
    _check_error(res.rc, res.stdout, res.stderr, CASES[case][1])
    # nothing new anywhere in the working folder: no output, no half-written or temporary file
    assert res.after == res.before, res.after - res.before
    assert not any((res.root / "out").iterdir())


@pytest.mark.parametrize("case", list(CASES))
def test_generate_rejects_bad_input_in_process(tmp_path, monkeypatch, capsys, case):
    """Every case through the same `main()` the console script calls (no exception may escape it)."""
    args = _prepare(tmp_path, CASES[case][0])
    monkeypatch.chdir(tmp_path)
    before = _listing(tmp_path)
    rc = main(["generate", *args])
    captured = capsys.readouterr()
    _check_error(rc, captured.out, captured.err, CASES[case][1])
    assert _listing(tmp_path) == before


@pytest.mark.slow
def test_generate_rejects_every_bad_input_as_subprocess(cli, tmp_path):
    results = _run_all({k: (cli, args) for k, (args, _) in CASES.items()}, tmp_path)
    for case, res in results.items():
        _check_error(res.rc, res.stdout, res.stderr, CASES[case][1])
        assert res.after == res.before, (case, res.after - res.before)


def test_generate_happy_path(runs):
    """`python -m freqextract.cli generate --seed 2 --out X.npz --csv X.csv` writes the spec test signal."""
    res = runs["happy"]
    assert res.rc == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.startswith("wrote ") and "seed 2" in res.stdout
    out = res.root / "out"
    assert res.after - res.before == {"out/X.npz", "out/X.csv"}  # and no temporary files
    want = generate(SignalConfig(), 2)
    got = load_npz(out / "X.npz")
    assert_same_signal(got, want)
    assert got.meta["seed"] == 2 and got.meta["scenario"] == "spec"
    table = load_csv(out / "X.csv", frequencies=want.frequencies, fs=want.fs)
    assert_same_signal(table, want, meta=False)


def test_generate_short_signal_defaults_to_test_seed(tmp_path, capsys):
    """A signal shorter than the training curriculum's horizons is fine: generate does not train."""
    out = tmp_path / "sub" / "dir" / "o.npz"
    rc = main(["generate", "--scenario", "offsets", "--set", "signal.duration=0.5",
               "--set", "signal.noise_sigma=0.1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    cfg = SignalConfig(scenario="offsets", duration=0.5, noise_sigma=0.1)
    got = load_npz(out)
    assert_same_signal(got, generate(cfg, cfg.test_seed))
    assert got.meta["seed"] == 2 and got.meta["scenario"] == "offsets"
    assert os.listdir(out.parent) == ["o.npz"]
    # the same with the bundled quick config and an explicit seed
    rc = main(["generate", "--config", "quick", "--seed", "7", "--out", str(tmp_path / "q.npz")])
    assert rc == 0
    assert_same_signal(load_npz(tmp_path / "q.npz"), generate(SignalConfig(duration=1.0), 7))


# ---------------------------------------------------------------------------------------------- damaged NPZ
@pytest.fixture(scope="module")
def good() -> dict:
    sig = generate(SignalConfig(duration=0.1), 1)  # 100 samples, 4 frequencies
    return {"t": sig.t, "S": sig.S, "targets": sig.targets, "frequencies": sig.frequencies,
            "fs": np.float64(sig.fs), "meta": np.array(sig.meta_json())}


def _with(good: dict, **changes) -> dict:
    arrays = dict(good)
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    return arrays


def _nan_at(a, i, value=np.nan):
    a = np.array(a, dtype=np.float64)
    a.flat[i] = value
    return a


DAMAGED = {
    "missing-targets": lambda g: _with(g, targets=None),
    "missing-t-and-fs": lambda g: _with(g, t=None, fs=None),
    "S-shorter-than-t": lambda g: _with(g, S=g["S"][:-1]),
    "S-2d": lambda g: _with(g, S=g["S"][None, :]),
    "t-2d": lambda g: _with(g, t=g["t"][None, :]),
    "targets-transposed": lambda g: _with(g, targets=g["targets"].T),
    "targets-one-row-short": lambda g: _with(g, targets=g["targets"][:3]),
    "targets-1d": lambda g: _with(g, targets=g["targets"][0]),
    "nan-in-S": lambda g: _with(g, S=_nan_at(g["S"], 17)),
    "inf-in-targets": lambda g: _with(g, targets=_nan_at(g["targets"], 5, np.inf)),
    "nan-in-t": lambda g: _with(g, t=_nan_at(g["t"], 0)),
    "fs-zero": lambda g: _with(g, fs=np.float64(0.0)),
    "fs-negative": lambda g: _with(g, fs=np.float64(-1000.0)),
    "fs-not-scalar": lambda g: _with(g, fs=np.array([1000.0, 1000.0])),
    "fs-string": lambda g: _with(g, fs=np.array("1000")),
    "frequency-above-nyquist": lambda g: _with(g, frequencies=np.array([1.0, 3.0, 5.0, 700.0])),
    "frequency-zero": lambda g: _with(g, frequencies=np.array([0.0, 3.0, 5.0, 7.0])),
    "frequencies-empty": lambda g: _with(g, frequencies=np.zeros(0), targets=np.zeros((0, 100))),
    "complex-S": lambda g: _with(g, S=g["S"].astype(complex)),
    "one-sample": lambda g: _with(g, t=g["t"][:1], S=g["S"][:1], targets=g["targets"][:, :1]),
    "meta-not-json": lambda g: _with(g, meta=np.array("{scenario: spec")),
    "meta-json-list": lambda g: _with(g, meta=np.array("[1, 2]")),
    "object-array": lambda g: _with(g, S=np.array([{"a": 1}] * 100, dtype=object)),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_load_npz_rejects_damaged_arrays(tmp_path, good, case):
    path = tmp_path / f"{case}.npz"
    np.savez(path, **DAMAGED[case](good))
    with pytest.raises(UserError) as info:
        load_npz(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), msg
    assert "\n" not in msg


def _saved(tmp_path: Path, good: dict) -> bytes:
    src = tmp_path / "src.npz"
    np.savez(src, **good)
    assert load_npz(src).n_samples == 100  # the undamaged file is fine
    return src.read_bytes()


@pytest.mark.parametrize("how", ["half", "first-100-bytes", "last-byte", "end-record", "empty", "text",
                                 "zeroed-middle", "junk-member", "npy-not-npz", "directory", "missing"])
def test_load_npz_rejects_damaged_files(tmp_path, good, how):
    data = _saved(tmp_path, good)
    path = tmp_path / "bad.npz"
    if how == "half":
        path.write_bytes(data[: len(data) // 2])
    elif how == "first-100-bytes":
        path.write_bytes(data[:100])
    elif how == "last-byte":
        path.write_bytes(data[:-1])
    elif how == "end-record":
        path.write_bytes(data[:-22])  # the end-of-central-directory record is gone
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "text":
        path.write_text("t,S,C1,C2,C3,C4,target\n0,0.1,1,0,0,0,0\n", encoding="utf-8")
    elif how == "zeroed-middle":
        mid = len(data) // 2
        path.write_bytes(data[:mid] + b"\0" * 64 + data[mid + 64:])
    elif how == "junk-member":
        with zipfile.ZipFile(path, "w") as z:
            for k in ("t", "S", "targets", "frequencies", "fs"):
                z.writestr(f"{k}.npy", b"not an npy file at all")
    elif how == "npy-not-npz":
        with open(path, "wb") as fh:
            np.save(fh, good["S"])
    elif how == "directory":
        path.mkdir()
    with pytest.raises(UserError) as info:
        load_npz(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), msg
    assert "\n" not in msg


def test_load_npz_meta_is_optional_but_checked(tmp_path, good):
    path = tmp_path / "m.npz"
    np.savez(path, **_with(good, meta=None))
    assert load_npz(path).meta == {}
    np.savez(path, **good)
    assert load_npz(path).meta == json.loads(str(good["meta"]))


def test_damaged_file_does_not_hurt_an_existing_good_one(tmp_path):
    """A save that fails midway leaves the previous file intact and no temporary file behind."""
    path = tmp_path / "x.npz"
    sig = generate(SignalConfig(duration=0.05), 1)
    save_npz(sig, path)
    broken = generate(SignalConfig(duration=0.05), 2)
    object.__setattr__(broken, "meta", {"bad": object()})  # not JSON-serialisable: the save fails
    with pytest.raises(TypeError):
        save_npz(broken, path)
    assert_same_signal(load_npz(path), sig)
    assert os.listdir(tmp_path) == ["x.npz"]
