"""Data layouts and files: the 40 000-row table, NPZ/CSV round trips, foreign NPZ files, streams."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from conftest import assert_same_signal
from hypothesis import given, settings
from hypothesis import strategies as st

from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.signals.data import (
    from_table,
    load_csv,
    load_npz,
    load_signal,
    save_csv,
    save_npz,
    streams_from,
    table_columns,
    to_streams,
    to_table,
)
from freqextract.signals.scenarios import draw, generate


# ---------------------------------------------------------------------------------------------- table
def test_table_columns():
    assert table_columns(4) == ["t", "S", "C1", "C2", "C3", "C4", "target"]
    assert table_columns(1) == ["t", "S", "C1", "target"]


def test_spec_table_layout(spec_train):
    sig = spec_train
    tab = to_table(sig)
    assert tab.shape == (40_000, 7)
    assert tab.dtype == np.float64
    # the assignment: rows 1-10 000 (1-based) are f1 with C=[1,0,0,0]; row 10 001 is f2 at t = 0
    assert tab[10_000].tolist() == [0.0, sig.S[0], 0.0, 1.0, 0.0, 0.0, 0.0]
    assert tab[0].tolist() == [0.0, sig.S[0], 1.0, 0.0, 0.0, 0.0, 0.0]
    assert tab[9_999].tolist() == [9.999, sig.S[9_999], 1.0, 0.0, 0.0, 0.0, np.sin(2 * np.pi * 1.0 * 9.999)]
    assert tab[39_999, 2:6].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert tab[30_250, 0] == 0.25 and tab[30_250, 6] == np.sin(2 * np.pi * 7.0 * 0.25)
    # every row: row k*N + n = [t_n, S_n, one-hot k, target_k(t_n)]
    N = 10_000
    for k in range(4):
        block = tab[k * N:(k + 1) * N]
        assert np.array_equal(block[:, 0], sig.t)  # t repeats per block
        assert np.array_equal(block[:, 1], sig.S)  # S repeats per block
        onehot = np.zeros(4)
        onehot[k] = 1
        assert (block[:, 2:6] == onehot).all()
        assert np.array_equal(block[:, 6], sig.targets[k])
        f = sig.frequencies[k]
        assert np.array_equal(block[:, 6], np.sin(2 * np.pi * f * (np.arange(N) / 1000.0)))
    # the network input is the 5-vector [S, C1..C4]
    assert (tab[:, 2:6].sum(axis=1) == 1).all()


@st.composite
def signals(draw_, max_k: int = 5):
    scenario = draw_(st.sampled_from(["spec", "phase-scaled", "offsets"]))
    k = draw_(st.integers(1, max_k))
    fs = draw_(st.sampled_from([20.0, 100.0, 1000.0]))
    n = draw_(st.integers(2, 300))
    freqs = tuple(sorted(draw_(st.lists(st.floats(0.05, fs / 2 * 0.99), min_size=k, max_size=k,
                                        unique=True))))
    cfg = SignalConfig(scenario=scenario, frequencies=freqs, fs=fs, duration=n / fs,
                       phase_scale=1.0 if scenario == "spec" else 0.3,
                       noise_sigma=0.2 if scenario == "offsets" else 0.0)
    return generate(cfg, draw_(st.integers(0, 2**32)))


@settings(max_examples=30, deadline=None)
@given(sig=signals())
def test_npz_table_npz_round_trip(tmp_path_factory, sig):
    d = tmp_path_factory.mktemp("rt")
    save_npz(sig, d / "a.npz")
    a = load_npz(d / "a.npz")
    assert_same_signal(a, sig)
    back = from_table(to_table(a), frequencies=a.frequencies, fs=a.fs, meta=a.meta)
    assert_same_signal(back, sig)
    save_npz(back, d / "b.npz")
    assert_same_signal(load_npz(d / "b.npz"), sig)
    assert sorted(os.listdir(d)) == ["a.npz", "b.npz"]  # no temporary files left


@settings(max_examples=30, deadline=None)
@given(sig=signals())
def test_from_table_estimates_fs(sig):
    back = from_table(to_table(sig), frequencies=sig.frequencies)
    assert back.fs == pytest.approx(sig.fs, rel=1e-6)
    assert np.array_equal(back.S, sig.S) and np.array_equal(back.targets, sig.targets)


def test_from_table_estimates_frequencies(spec_train):
    back = from_table(to_table(spec_train))  # neither frequencies nor fs given
    assert back.fs == 1000.0
    np.testing.assert_allclose(back.frequencies, [1.0, 3.0, 5.0, 7.0], atol=1e-9)
    assert back.meta == {}


def test_from_table_rejects_bad_layouts(spec_train):
    tab = to_table(generate(SignalConfig(duration=0.1), 1))  # 4 x 100 rows
    bad = tab.copy()
    bad[150, 1] += 1.0  # S of block 2 differs
    with pytest.raises(UserError, match=r"^table: block 2 \(rows 101-200\)"):
        from_table(bad)
    bad = tab.copy()
    bad[[0, 100]] = bad[[100, 0]]  # a row with the wrong one-hot
    with pytest.raises(UserError, match=r"^table: block 1"):
        from_table(bad)
    bad = tab.copy()
    bad[3, 6] = np.nan
    with pytest.raises(UserError, match="NaN"):
        from_table(bad)
    with pytest.raises(UserError, match="multiple"):
        from_table(tab[:-1])
    with pytest.raises(UserError, match="columns"):
        from_table(tab[:, :3])


# ---------------------------------------------------------------------------------------------- CSV
@settings(max_examples=20, deadline=None)
@given(sig=signals(max_k=4))
def test_csv_round_trip_exact(tmp_path_factory, sig):
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    save_csv(sig, path)
    back = load_csv(path, frequencies=sig.frequencies, fs=sig.fs)
    assert_same_signal(back, sig, meta=False)
    assert np.array_equal(np.loadtxt(path, delimiter=",", skiprows=1), to_table(sig))


def test_csv_spec_file(tmp_path, spec_test):
    path = tmp_path / "spec.csv"
    save_csv(spec_test, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "t,S,C1,C2,C3,C4,target"
    assert len(lines) == 40_001
    assert lines[10_001].split(",")[2:6] == ["0", "1", "0", "0"]  # data row 10 001 (1-based): f2, t = 0
    back = load_signal(path)  # by extension; fs and frequencies estimated
    assert back.fs == 1000.0
    np.testing.assert_allclose(back.frequencies, spec_test.frequencies, atol=1e-9)
    assert np.array_equal(back.S, spec_test.S) and np.array_equal(back.targets, spec_test.targets)
    assert os.listdir(tmp_path) == ["spec.csv"]


def test_csv_bad_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c,d\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"x\.csv: header"):
        load_csv(path)


# ---------------------------------------------------------------------------------------------- foreign NPZ
def _foreign_arrays(sig, dtype=np.float64) -> dict:
    return {"t": sig.t.astype(dtype), "S": sig.S.astype(dtype), "targets": sig.targets.astype(dtype),
            "frequencies": sig.frequencies.astype(dtype)}


@pytest.mark.parametrize("meta", ["json", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("writer", [np.savez, np.savez_compressed])
def test_npz_written_by_another_program(tmp_path, spec_test, meta, dtype, writer):
    arrays = _foreign_arrays(spec_test, dtype)
    meta_obj = {"scenario": "spec", "seed": 2, "generator": "other"}
    extra = {"meta": json.dumps(meta_obj)} if meta == "json" else {}
    path = tmp_path / "other.npz"
    writer(path, fs=1000.0, **arrays, **extra)  # fs as a python float, meta as a python str
    sig = load_npz(path)
    for key in ("t", "S", "targets", "frequencies"):
        got = getattr(sig, key)
        assert got.dtype == np.float64
        assert np.array_equal(got, arrays[key].astype(np.float64))
    if dtype == np.float64:
        assert np.array_equal(sig.S, spec_test.S)
    else:
        np.testing.assert_allclose(sig.S, spec_test.S, rtol=1e-6, atol=1e-7)
    assert sig.fs == 1000.0 and isinstance(sig.fs, float)
    assert sig.meta == (meta_obj if meta == "json" else {})
    assert sig.n_samples == 10_000 and sig.n_freqs == 4


def test_npz_foreign_extras_are_tolerated(tmp_path, spec_test):
    """Integer fs, a (1,)-shaped fs, integer t and unrelated extra arrays are fine."""
    path = tmp_path / "o.npz"
    np.savez(path, t=np.arange(10), S=np.zeros(10), targets=np.zeros((2, 10)),
             frequencies=np.array([1, 2]), fs=np.array([10]), notes=np.array("hello"))
    sig = load_npz(path)
    assert sig.fs == 10.0 and sig.frequencies.tolist() == [1.0, 2.0] and sig.t.dtype == np.float64


def test_saved_npz_holds_the_spec_arrays(tmp_path, spec_train):
    path = tmp_path / "x.npz"
    save_npz(spec_train, path)
    with np.load(path, allow_pickle=False) as z:  # readable by plain numpy, no pickles
        assert {"t", "S", "targets", "frequencies", "fs", "meta"} <= set(z.files)
        assert z["fs"].shape == () and float(z["fs"]) == 1000.0
        assert json.loads(str(z["meta"])) == spec_train.meta
        assert z["targets"].shape == (4, 10_000)


def test_saved_files_follow_the_umask(tmp_path, spec_train):
    """Files written atomically get the same permissions as a plain open() would give them."""
    plain = tmp_path / "plain"
    plain.write_text("x")
    save_npz(spec_train, tmp_path / "x.npz")
    save_csv(generate(SignalConfig(duration=0.01), 1), tmp_path / "x.csv")
    want = stat.S_IMODE(plain.stat().st_mode)
    assert stat.S_IMODE((tmp_path / "x.npz").stat().st_mode) == want
    assert stat.S_IMODE((tmp_path / "x.csv").stat().st_mode) == want


def test_save_replaces_existing_file_atomically(tmp_path):
    path = tmp_path / "x.npz"
    a, b = (generate(SignalConfig(duration=0.05), s) for s in (1, 2))
    save_npz(a, path)
    save_npz(b, path)
    assert_same_signal(load_npz(path), b)
    assert os.listdir(tmp_path) == ["x.npz"]


# ---------------------------------------------------------------------------------------------- streams
def test_to_streams_spec(spec_train):
    x, y = to_streams(spec_train)
    assert x.shape == (4, 10_000, 5) and y.shape == (4, 10_000)
    assert x.dtype == np.float32 and y.dtype == np.float32
    for k in range(4):
        assert np.array_equal(x[k, :, 0], spec_train.S.astype(np.float32))
        onehot = np.zeros(4, dtype=np.float32)
        onehot[k] = 1
        assert (x[k, :, 1:] == onehot).all()
        assert np.array_equal(y[k], spec_train.targets[k].astype(np.float32))
    # the streams are the table, regrouped: row k*N + n of the table is x[k, n] / y[k, n]
    tab = to_table(spec_train).astype(np.float32)
    assert np.array_equal(tab[:, 1:6], x.reshape(-1, 5))
    assert np.array_equal(tab[:, 6], y.reshape(-1))
    x64, y64 = to_streams(spec_train, dtype=np.float64)
    assert np.array_equal(x64[2, :, 0], spec_train.S) and np.array_equal(y64, spec_train.targets)


@settings(max_examples=20, deadline=None)
@given(R=st.integers(1, 4), K=st.integers(1, 5), T=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_streams_from_many_sequences(R, K, T, seed):
    cfg = SignalConfig(scenario="offsets", frequencies=tuple(float(i + 1) for i in range(K)), fs=100.0,
                       duration=1.0, phase_scale=0.2)
    S, targets = draw(cfg, np.random.default_rng(seed), n_seq=R, n_samples=T)
    x, y = streams_from(S, targets, dtype=np.float64)
    assert x.shape == (R * K, T, 1 + K) and y.shape == (R * K, T)
    for r in range(R):
        for k in range(K):
            i = r * K + k  # stream r*K + k is sequence r with selector k
            assert np.array_equal(x[i, :, 0], S[r])
            assert np.array_equal(x[i, :, 1:], np.tile(np.eye(K)[k], (T, 1)))
            assert np.array_equal(y[i], targets[r, k])
