"""Property tests: malformed TOML, wrong types, out-of-range values, damaged NPZ, CSV and checkpoint files
thrown at the CLI. Every case ends with exit 2 and one line ``freqextract: error: ...``: no traceback,
nothing on stdout, no file left behind. (A change to a file that leaves it valid may also succeed: then
the library reads it too.)

Most examples call ``cli.main`` in this process (the console script costs a second or two per call for
importing torch); a handful of fixed cases built by the same functions go through the real command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import random
import subprocess
import tempfile
import typing
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli_env
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from freqextract.cli import main
from freqextract.config import SECTIONS, SignalConfig, load, resolve_config_path
from freqextract.errors import UserError
from freqextract.models import checkpoint
from freqextract.signals.data import REQUIRED_ARRAYS, load_signal, save_csv, save_npz
from freqextract.signals.scenarios import generate


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


QUICK_TOML = resolve_config_path("quick").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- running
@dataclasses.dataclass
class Outcome:
    rc: int
    out: str
    err: str


def call(argv: list[str]) -> Outcome:
    """``freqextract ARGV`` in this process, as the console script runs it (``sys.exit(main())``); the
    warnings a console would show (Python's default filters) count as lines on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for quiet in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", quiet)
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code
    shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    return Outcome(rc, out.getvalue(), shown + err.getvalue())


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def assert_one_line_error(res: Outcome, *names: str) -> str:
    """Exit 2, one line on stderr naming one of ``names`` (when given), nothing on stdout."""
    assert "Traceback" not in res.err, res.err
    assert res.rc == 2, (res.rc, res.err)
    assert res.err.endswith("\n") and len(res.err.splitlines()) == 1, res.err
    assert res.err.startswith("freqextract: error: "), res.err
    assert res.out == "", res.out
    if names:
        assert any(n in res.err for n in names), (names, res.err)
    return res.err


@contextlib.contextmanager
def workdir():
    """A fresh folder per example (pytest's tmp_path is per test, not per example)."""
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


# ---------------------------------------------------------------------------------------------- values
def toml_literal(v) -> str:
    """A Python value as a TOML value (strings quoted, so they stay strings)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        # JSON's escapes are TOML's; TOML also wants DEL escaped
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_literal(x) for x in v) + "]"
    raise TypeError(v)


FIELDS = {(s, f.name): typing.get_type_hints(cls)[f.name] for s, cls in SECTIONS.items()
          for f in dataclasses.fields(cls)}
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False))


def wrong_types(tp) -> st.SearchStrategy:
    """Values that are not of the annotated type (what _coerce must reject)."""
    if tp is bool:
        return st.one_of(st.integers(), words, st.lists(st.booleans(), max_size=2))
    if tp is int:
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.booleans(), words,
                         st.lists(st.integers(), max_size=2))
    if tp is float:
        return st.one_of(st.booleans(), words, st.lists(numbers, max_size=2))
    if tp is str:
        return st.one_of(numbers, st.booleans(), st.lists(words, max_size=2))
    # tuples: a scalar, or a list with a non-number in it (or of the wrong length for pairs)
    pair = typing.get_args(tp)[-1] is not Ellipsis
    bad_lists = st.lists(st.one_of(words, st.booleans()), min_size=1, max_size=3).map(lambda xs: [1.0, *xs])
    options = [numbers, words, st.booleans(), bad_lists]
    if pair:
        options.append(st.sampled_from([[], [1.0], [0.8, 1.0, 1.2]]))
    return st.one_of(*options)


def below(x, inclusive=True) -> st.SearchStrategy:
    return st.floats(max_value=x, exclude_max=not inclusive, allow_nan=False, allow_infinity=False, width=64)


def ints_below(x) -> st.SearchStrategy:
    return st.integers(-10**12, x)


VALID_NAMES = {"spec", "phase-scaled", "offsets", "mix", "programmable", "carry", "reset", "forget-bias", "chrono",
               "default", "rotation", "auto", "cpu", "cuda", "mps", "concat", "film", "demod", "selector", "all"}
bad_names = words.filter(lambda s: s not in VALID_NAMES and not s.startswith("cuda:"))
# for each checked field: values that are out of range with every other setting at its default
OUT_OF_RANGE: dict[str, st.SearchStrategy] = {
    "signal.scenario": bad_names,
    "signal.frequencies": st.one_of(
        st.just([]), st.lists(below(0.0), min_size=1, max_size=4),
        st.lists(st.floats(500.0, 1e300), min_size=1, max_size=4), st.just([3.0, 3.0])),
    "signal.fs": st.one_of(below(14.0), st.just(math.inf), st.just(math.nan)),  # 7 Hz needs fs > 14
    "signal.duration": st.one_of(below(0.0), st.floats(20_000.5, 1e300), st.just(0.0015)),
    "signal.amplitude": st.one_of(st.tuples(below(0.0, inclusive=False), st.floats(0, 2)),
                                  st.tuples(st.floats(1.0, 2.0), st.floats(0.0, 0.99))).map(list),
    "signal.phase_scale": st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 1.0),
    "signal.noise_sigma": st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 0.0),
    "signal.train_seed": ints_below(-1), "signal.test_seed": ints_below(-1),
    "signal.val_seed": ints_below(-1), "signal.heldout_margin": below(0.0, inclusive=False),
    "model.hidden_size": ints_below(0), "model.num_layers": ints_below(0),
    "model.seq_len": ints_below(0),
    "model.window_state": bad_names, "model.init": bad_names, "model.chrono_tmax": below(2.0),
    "model.forget_bias": st.just(math.inf),
    "model.rotation_amplitude": st.one_of(below(0.0), st.floats(0.4, 1e300, exclude_min=True)),
    "train.seed": st.one_of(ints_below(-1), st.integers(2**32, 2**70)),
    "train.lr": below(0.0), "train.lr_floor": st.one_of(below(0.0), st.floats(1.0, 1e9, exclude_min=True)),
    "train.warmup_horizon": st.one_of(ints_below(0), st.integers(10_001, 10**9)),
    "train.warmup_steps": ints_below(-1), "train.growth_steps": ints_below(-1),
    "train.final_steps": ints_below(-1), "train.warmup_gate": below(0.0, inclusive=False),
    "train.warmup_extra": ints_below(-1), "train.growth_gate": below(0.0, inclusive=False),
    "train.growth_max_factor": below(1.0, inclusive=False),
    "train.loss_ema": st.one_of(below(0.0, inclusive=False), st.floats(1.0, 1e9)),
    "train.focus": below(0.0, inclusive=False), "train.tbptt": ints_below(-1), "train.clip": below(0.0),
    "train.realisations": ints_below(0), "train.polish_iters": ints_below(-1),
    "train.polish_realisations": ints_below(0), "train.candidates": ints_below(0), "train.workers": ints_below(-1),
    "train.device": bad_names, "train.threads": ints_below(-1), "train.log_every": ints_below(0),
    "train.checkpoint_every": ints_below(-1), "train.max_grad_norm": below(0.0, inclusive=False),
    "train.restart_gate": below(0.0, inclusive=False), "train.max_restarts": ints_below(-1),
    "train.growth_lr_power": st.one_of(below(0.0, inclusive=False), st.floats(2.0, 1e9, exclude_min=True)),
    "eval.shuffle_seed": ints_below(-1),
    "model.conditioning": bad_names, "model.film_size": ints_below(0), "model.outputs": bad_names,
    "train.requests": ints_below(0),
    "train.absent_fraction": st.one_of(below(0.0, inclusive=False), st.floats(1.0, 1e9)),
    "train.absent_weight": st.one_of(below(0.0, inclusive=False), st.just(math.inf)),
    "eval.absent_separation": below(0.0, inclusive=False), "eval.mix_sequences": ints_below(0),
    "eval.tune_seed": st.one_of(ints_below(-1), st.integers(-6, 11)),  # 1001.. by default; 2..11 are test seeds
    "eval.tune_sequences": ints_below(0), "eval.bayes_particles": st.one_of(ints_below(-1), st.just(1)),
}
# where the message names the field the value conflicts with rather than the one that was set
RELATED = {"signal.fs": ("signal.frequencies", "signal.duration")}
# booleans: every value of the right type is valid
UNCHECKED = {"eval.ablations", "eval.baselines", "eval.report", "train.count_weighting"}
# range-checked only under scenario mix (tests/signals/test_mix.py) or programmable
# (tests/test_config_programmable.py), or when training starts (init_from: a file)
MIX_ONLY = {"signal.components", "signal.band", "signal.min_separation", "signal.levels", "signal.mix_frequencies",
            "signal.heldout", "train.init_from"}


def test_the_fuzz_tables_match_the_config():
    names = {f"{s}.{k}" for s, k in FIELDS}
    assert set(OUT_OF_RANGE) | UNCHECKED | MIX_ONLY == names


def _override(field: str, value) -> str:
    return f"{field}={toml_literal(value)}"


def _expect_config_error(overrides: list[str], config: str | None = None, signal_only: bool = False) -> None:
    """Guard: the case must really be a mistake (a valid config would start a long training)."""
    try:
        load(config, overrides, signal_only=signal_only)
    except UserError:
        return
    assume(False)


# ---------------------------------------------------------------------------------------------- configs
@fuzz(60)
@given(data=st.data())
def test_wrong_types_are_one_line_errors(data):
    (section, key), tp = data.draw(st.sampled_from(sorted(FIELDS.items(), key=str)), label="field")
    value = data.draw(wrong_types(tp), label="value")
    field = f"{section}.{key}"
    item = _override(field, value)
    _expect_config_error([item])
    with workdir() as d:
        res = call(["train", "--set", item, "--out", str(d / "run"), "--quiet"])
        assert_one_line_error(res, field)
        # generate type-checks every section too (it range-checks only the signal)
        res = call(["generate", "--set", item, "--out", str(d / "x.npz")])
        assert_one_line_error(res, field)
        assert listing(d) == set()


@fuzz(60)
@given(data=st.data())
def test_out_of_range_values_are_one_line_errors(data):
    field = data.draw(st.sampled_from(sorted(OUT_OF_RANGE)), label="field")
    value = data.draw(OUT_OF_RANGE[field], label="value")
    item = _override(field, value)
    _expect_config_error([item])
    with workdir() as d:
        named = (field, *RELATED.get(field, ()))
        res = call(["train", "--set", item, "--out", str(d / "run"), "--quiet"])
        assert_one_line_error(res, *named)
        if field.startswith("signal."):
            res = call(["generate", "--set", item, "--out", str(d / "x.npz"), "--csv", str(d / "x.csv")])
            assert_one_line_error(res, *named)
        assert listing(d) == set()


@fuzz(40)
@given(field=st.sampled_from(sorted(FIELDS)), text=st.text(max_size=30), raw=st.booleans())
def test_arbitrary_override_text_is_a_one_line_error(field, text, raw):
    item = text if raw else f"{field[0]}.{field[1]}={text}"
    _expect_config_error([item])
    with workdir() as d:
        assert_one_line_error(call(["train", "--set", item, "--out", str(d / "run"), "--quiet"]))
        assert listing(d) == set()


def mutate_text(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (position, delete count, insert) edits, positions taken modulo the current length."""
    for pos, cut, ins in edits:
        pos %= len(text) + 1
        text = text[:pos] + ins + text[pos + cut:]
    return text


toml_edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 8),
                                st.text(alphabet='[]{}="\'.,#\n\\ 0123456789abcxyz-+_', max_size=6)),
                      min_size=1, max_size=4)


@fuzz(60)
@given(text=st.one_of(st.text(max_size=200), toml_edits.map(lambda e: mutate_text(QUICK_TOML, e))))
def test_malformed_config_files_are_one_line_errors(text):
    with workdir() as d:
        path = d / "cfg" / "bad.toml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        _expect_config_error([], config=str(path))
        before = listing(d)
        res = call(["train", "--config", str(path), "--out", str(d / "run"), "--quiet"])
        assert_one_line_error(res)
        assert listing(d) == before


# ---------------------------------------------------------------------------------------------- data files
@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """A model checkpoint (untrained, spec frequencies) and good NPZ and CSV files to damage."""
    d = tmp_path_factory.mktemp("fuzz")
    cfg = load("quick")
    checkpoint.save(d / "model.pt", checkpoint.build_model(cfg), cfg, 0)
    short = generate(SignalConfig(duration=0.2), 2)  # 200 samples
    save_npz(short, d / "good.npz")
    save_csv(generate(SignalConfig(duration=1.0), 2), d / "good.csv")  # 1 s: the frequencies can be estimated
    arrays = {"t": short.t, "S": short.S, "targets": short.targets, "frequencies": short.frequencies,
              "fs": np.float64(short.fs), "meta": np.array(short.meta_json())}
    return {"model": d / "model.pt", "npz": (d / "good.npz").read_bytes(), "arrays": arrays,
            "csv": (d / "good.csv").read_text(encoding="utf-8"), "ckpt": (d / "model.pt").read_bytes()}


def test_the_undamaged_files_are_accepted(files):
    with workdir() as d:
        for name, data in (("x.npz", files["npz"]), ("x.csv", files["csv"].encode())):
            (d / name).write_bytes(data)
            res = call(["evaluate", "--checkpoint", str(files["model"]), "--data", str(d / name)])
            assert res.rc == 0, res.err
            res = call(["baselines", "--data", str(d / name), "--out", str(d / "table.csv")])
            assert res.rc == 0 and (d / "table.csv").exists(), res.err


def check_data_file(files: dict, d: Path, path: Path, may_be_valid: bool) -> None:
    """evaluate and baselines on ``path``: one-line error naming it and no output file; or, where the
    damage may have left the file valid, success only if the library reads it."""
    results = [call(["evaluate", "--checkpoint", str(files["model"]), "--data", str(path), "--no-ablations"]),
               call(["baselines", "--data", str(path), "--out", str(d / "table.csv")])]
    for res in results:
        if may_be_valid and res.rc == 0:
            load_signal(path)
            continue
        assert_one_line_error(res, str(path))
    if not (may_be_valid and results[1].rc == 0):
        assert not (d / "table.csv").exists()
    assert not [p for p in d.rglob(".*")], "no temporary file left"


def damage_arrays(arrays: dict, how: str, key: str, index: int, value) -> dict:
    """One change to the arrays of a good file that no reader may accept."""
    a = dict(arrays)
    k = key if key in REQUIRED_ARRAYS else "S"
    if how == "missing":
        a.pop(key if key in REQUIRED_ARRAYS else "targets")
    elif how == "non-finite":
        k = key if key in ("t", "S", "targets", "frequencies", "fs") else "S"
        v = np.array(a[k], dtype=np.float64)
        v.flat[index % v.size] = value
        a[k] = v
    elif how == "shape":
        changes = {"t": a["t"][None, :], "S": a["S"][: index % 199 + 1], "targets": a["targets"].T,
                   "frequencies": a["frequencies"][: index % 4], "fs": np.array([1000.0, 1000.0])}
        a[k] = changes[k]
    elif how == "dtype":
        a[k] = np.asarray(a[k]).astype(str) if index % 2 else np.asarray(a[k]).astype(complex) + 1j
    elif how == "order":
        a["t"] = a["t"][::-1].copy()
    elif how == "fs":
        a["fs"] = np.float64(-abs(value) if math.isfinite(value) else 0.0)
    return a


@fuzz(50)
@given(how=st.sampled_from(["missing", "non-finite", "shape", "dtype", "order", "fs"]),
       key=st.sampled_from([*REQUIRED_ARRAYS, "meta"]), index=st.integers(0, 10**6),
       value=st.sampled_from([math.nan, math.inf, -math.inf, 5.0]))
def test_damaged_npz_arrays_are_one_line_errors(files, how, key, index, value):
    if how == "non-finite":
        assume(math.isnan(value) or math.isinf(value))
    with workdir() as d:
        path = d / "bad.npz"
        np.savez(path, **damage_arrays(files["arrays"], how, key, index, value))
        check_data_file(files, d, path, may_be_valid=False)


@fuzz(50)
@given(data=st.data(), how=st.sampled_from(["truncate", "flip", "random"]))
def test_damaged_npz_bytes_are_one_line_errors(files, data, how):
    good = files["npz"]
    if how == "truncate":
        raw = good[: data.draw(st.integers(0, len(good) - 1), label="keep")]
    elif how == "flip":
        flips = data.draw(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)), min_size=1,
                                   max_size=8), label="flips")
        raw = bytearray(good)
        for pos, x in flips:
            raw[pos] ^= x
        raw = bytes(raw)
    else:
        raw = data.draw(st.binary(max_size=2000), label="bytes")
    with workdir() as d:
        path = d / "bad.npz"
        path.write_bytes(raw)
        check_data_file(files, d, path, may_be_valid=how == "flip")


def damage_csv(text: str, how: str, line: int, col: int, junk: str) -> str:
    lines = text.splitlines()
    i = 1 + line % (len(lines) - 1)  # a data row
    cells = lines[i].split(",")
    if how == "header":
        head = lines[0].split(",")
        head[col % len(head)] = junk or "x"
        lines[0] = ",".join(head) if head != lines[0].split(",") else "t,S,target"
    elif how == "cell":
        cells[col % len(cells)] = junk
        lines[i] = ",".join(cells)
    elif how == "ragged":
        lines[i] = ",".join(cells[:-1] if col % 2 else [*cells, "0"])
    elif how == "drop-column":
        lines = [",".join(c for j, c in enumerate(row.split(",")) if j != col % len(cells)) for row in lines]
    return "\n".join(lines) + "\n"


@fuzz(40)
@given(how=st.sampled_from(["header", "cell", "ragged", "drop-column"]), line=st.integers(0, 10**6),
       col=st.integers(0, 100),
       junk=st.one_of(st.sampled_from(["nan", "inf", "-inf", "", "abc", "1,2", "0x1"]),
                      st.text(alphabet="abcxyz!?;\"' ", min_size=1, max_size=5)))
def test_damaged_csv_tables_are_one_line_errors(files, how, line, col, junk):
    with workdir() as d:
        path = d / "bad.csv"
        path.write_text(damage_csv(files["csv"], how, line, col, junk), encoding="utf-8")
        check_data_file(files, d, path, may_be_valid=False)


@fuzz(30)
@given(data=st.data(), how=st.sampled_from(["truncate", "random", "flip"]))
def test_damaged_csv_bytes_are_one_line_errors(files, data, how):
    good = files["csv"].encode()
    if how == "truncate":
        raw = good[: data.draw(st.integers(0, len(good) - 1), label="keep")]
    elif how == "random":
        raw = data.draw(st.binary(max_size=500), label="bytes")
    else:
        pos = data.draw(st.integers(0, len(good) - 1), label="pos")
        raw = good[:pos] + bytes([good[pos] ^ data.draw(st.integers(1, 255), label="x")]) + good[pos + 1:]
    with workdir() as d:
        path = d / "bad.csv"
        path.write_bytes(raw)
        check_data_file(files, d, path, may_be_valid=how != "random")


@fuzz(30)
@given(data=st.data(), how=st.sampled_from(["truncate", "flip"]))
def test_damaged_checkpoints_are_one_line_errors(files, data, how):
    good = files["ckpt"]
    raw = bytearray(good)
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(good) - 1), label="keep")]
    else:
        for pos, x in data.draw(st.lists(st.tuples(st.integers(0, len(good) - 1), st.integers(1, 255)),
                                         min_size=1, max_size=4), label="flips"):
            raw[pos] ^= x
    with workdir() as d:
        path = d / "final.pt"
        path.write_bytes(bytes(raw))
        (d / "x.npz").write_bytes(files["npz"])
        res = call(["evaluate", "--checkpoint", str(path), "--data", str(d / "x.npz"), "--no-ablations"])
        if how == "flip" and res.rc == 0:
            model = checkpoint.load_model(path)[0]  # the change left it valid: the library agrees
            ref = checkpoint.load_model(files["model"])[0]
            assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                         ref.state_dict().values(), strict=True))
        else:
            assert_one_line_error(res, str(path))


# ---------------------------------------------------------------------------------------------- subprocess
def _subprocess_cases(files: dict, root: Path) -> dict[str, tuple[list[str], str]]:
    """A few fixed cases, made by the functions above, for the real console script."""
    rng = random.Random(8)
    cases = {}
    bad_toml = root / "bad.toml"
    bad_toml.write_text(mutate_text(QUICK_TOML, [(QUICK_TOML.index("[train]"), rng.randrange(3), "[[=")]),
                        encoding="utf-8")
    cases["malformed-toml"] = (["train", "--config", str(bad_toml), "--out", str(root / "run")], "bad.toml")
    cases["wrong-type"] = (["train", "--set", _override("train.lr", "fast"), "--out", str(root / "run")],
                           "train.lr")
    cases["out-of-range"] = (["generate", "--set", _override("signal.fs", -3.0), "--out",
                              str(root / "x.npz")], "signal.fs")
    trunc = root / "truncated.npz"
    trunc.write_bytes(files["npz"][: rng.randrange(len(files["npz"]))])
    cases["truncated-npz"] = (["evaluate", "--checkpoint", str(files["model"]), "--data", str(trunc)],
                              str(trunc))
    nan = root / "nan.npz"
    np.savez(nan, **damage_arrays(files["arrays"], "non-finite", "targets", rng.randrange(800), math.nan))
    cases["nan-npz"] = (["baselines", "--data", str(nan), "--out", str(root / "table.csv")], str(nan))
    ragged = root / "ragged.csv"
    ragged.write_text(damage_csv(files["csv"], "ragged", rng.randrange(4000), 1, ""), encoding="utf-8")
    cases["ragged-csv"] = (["evaluate", "--checkpoint", str(files["model"]), "--data", str(ragged)],
                           str(ragged))
    return cases


def test_fuzz_cases_through_the_console_script(cli, files, tmp_path):
    cases = _subprocess_cases(files, tmp_path)
    before = listing(tmp_path)

    def invoke(args):
        proc = subprocess.run([*cli, *args], capture_output=True, text=True, env=cli_env(), timeout=300)
        return Outcome(proc.returncode, proc.stdout, proc.stderr)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(cases, pool.map(invoke, [args for args, _ in cases.values()]), strict=True))
    for name, res in results.items():
        assert_one_line_error(res, cases[name][1])
    assert listing(tmp_path) == before
