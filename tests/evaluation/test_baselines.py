"""Classical baselines: exact on clean sines, causal where they say so, RLS == the RLS recursion, the CLI."""

from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest
from conftest import MODULE, cli_env, with_new_future
from scipy import signal as sps

from freqextract.cli import main
from freqextract.config import SignalConfig
from freqextract.errors import UserError
from freqextract.evaluation import baselines as bl
from freqextract.signals.data import save_npz
from freqextract.signals.scenarios import MixedSignal, generate

FS = 200.0
FREQS = np.array([1.0, 3.0, 5.0, 7.0])
THETA = np.array([0.3, 1.7, 4.0, 5.5])


def clean(active=None, fs: float = FS, duration: float = 20.0, freqs=FREQS, theta=THETA) -> MixedSignal:
    """Noise-free mixture of the ``active`` components (default all) at 1/K amplitude; targets for all."""
    t = np.arange(int(fs * duration)) / fs
    targets = np.sin(2 * np.pi * freqs[:, None] * t + theta[:, None])  # (K, N)
    on = np.zeros(len(freqs), bool)
    on[list(range(len(freqs))) if active is None else active] = True
    S = targets[on].sum(axis=0) / len(freqs)
    return MixedSignal(t=t, S=S, targets=targets, frequencies=np.asarray(freqs, float), fs=fs)


@pytest.fixture(scope="module")
def offsets_sig():
    return generate(SignalConfig(scenario="offsets", phase_scale=0.1, duration=3.0), seed=2)


# ---------------------------------------------------------------------------------------------- registry
def test_registry_labels():
    assert list(bl.BASELINES) == ["zero", "clock-oracle", "bandpass-causal", "bandpass-zero-phase",
                                  "rls-causal"]
    assert bl.BASELINES["bandpass-zero-phase"].causal is False
    assert "NOT causal" in bl.BASELINES["bandpass-zero-phase"].description
    assert all(b.causal for n, b in bl.BASELINES.items() if n != "bandpass-zero-phase")
    assert [n for n, b in bl.BASELINES.items() if b.oracle] == ["clock-oracle"]
    assert "phase-scaled" in bl.BASELINES["clock-oracle"].description


def test_run_all_shapes(offsets_sig):
    outs = bl.run_all(offsets_sig)
    assert list(outs) == list(bl.BASELINES)
    for name, out in outs.items():
        assert out.shape == offsets_sig.targets.shape == (4, 3000), name
        assert out.dtype == np.float64 and np.isfinite(out).all(), name
        assert out.flags.c_contiguous, name
    assert list(bl.run_all(offsets_sig, ["rls-causal"])) == ["rls-causal"]


def test_zero_and_clock():
    sig = clean(theta=np.zeros(4))
    assert not bl.zero(sig).any()
    assert np.abs(bl.clock_oracle(sig) - sig.targets).max() < 1e-12
    # on offsets the clock ignores theta: it is no bound there
    sig2 = clean()
    assert np.abs(bl.clock_oracle(sig2) - sig2.targets).max() > 0.5


# ---------------------------------------------------------------------------------------------- clean sines
@pytest.mark.parametrize("k", range(4))
def test_bandpass_causal_unit_gain_and_filter_phase(k):
    """One clean component at 1/K: after the transient, unit amplitude with the filter's own phase at f."""
    sig = clean([k])
    out = bl.bandpass_causal(sig)[k]
    f = FREQS[k]
    sos = sps.butter(2, [f - 0.8, f + 0.8], btype="bandpass", output="sos", fs=FS)  # independent design
    h = sps.sosfreqz(sos, worN=[f], fs=FS)[1][0]
    expected = np.sin(2 * np.pi * f * sig.t + THETA[k] + np.angle(h))
    half = sig.n_samples // 2
    assert np.abs(out[half:] - expected[half:]).max() < 1e-3
    if k == 0:  # the arithmetic band lags 1 Hz by ~0.6 rad: it does not reproduce the target itself
        assert np.abs(out[half:] - sig.targets[k, half:]).max() > 0.3


@pytest.mark.parametrize("k", range(4))
def test_bandpass_causal_geometric_recovers_sine(k):
    """Edges centred on f after the bilinear warping (tight even at 7 Hz with fs = 200): no phase lag."""
    sig = clean([k])
    out = bl.bandpass_causal(sig, centre="geometric")[k]
    half = sig.n_samples // 2
    assert np.abs(out[half:] - sig.targets[k, half:]).max() < 1e-3


@pytest.mark.parametrize("k", range(4))
def test_bandpass_zero_phase_recovers_sine(k):
    sig = clean([k], duration=40.0)
    out = bl.bandpass_zero_phase(sig)[k]
    mid = slice(sig.n_samples // 4, 3 * sig.n_samples // 4)  # both ends carry edge transients (~8 s at 1 Hz)
    assert np.abs(out[mid] - sig.targets[k, mid]).max() < 1e-3


def test_rls_recovers_clean_mixture():
    sig = clean()
    out = bl.rls_causal(sig)
    err = np.abs(out - sig.targets)
    assert err[:, sig.n_samples // 2:].max() < 1e-4  # after 10 s (memory 1 / (1 - 0.999) = 5 s at 200 Hz)
    assert err[:, :20].max() > 0.1  # it does start from nothing


@pytest.mark.parametrize("fs", [20.0, 1000.0])
def test_geometric_edges_put_zero_phase_at_f(fs):
    for f in (0.3, 1.0, 7.0):
        lo, hi = bl.band_edges(f, 0.8, "geometric", fs)
        assert hi - lo == pytest.approx(1.6) and lo > 0
        h = bl.response(bl.design(f, fs, 2, 0.8, "geometric"), f, fs)
        assert abs(np.angle(h)) < 1e-9 and abs(abs(h) - 1) < 1e-9


def test_bandpass_falls_back_to_lowpass_below_the_bandwidth():
    """f = 0.5 Hz with the band 0.5 +- 0.8 reaching 0 Hz: a low-pass, still unit gain at f."""
    freqs = np.array([0.5, 6.0])
    sig = clean([0], freqs=freqs, theta=np.array([1.0, 0.0]), duration=30.0)
    out = bl.bandpass_causal(sig)[0]
    tail = out[sig.n_samples // 2:]
    assert abs(np.sqrt(2 * np.mean(tail ** 2)) - 1.0) < 1e-3  # RMS of a unit sine


# ---------------------------------------------------------------------------------------------- RLS
def rls_recursion(sig: MixedSignal, lam: float, delta: float) -> np.ndarray:
    """The textbook RLS recursion (P = inverse weighted covariance, P_0 = I / delta), one sample at a time."""
    K = sig.n_freqs
    P = np.eye(2 * K) / delta
    w = np.zeros(2 * K)
    out = np.empty((K, sig.n_samples))
    for n in range(sig.n_samples):
        ph = 2 * np.pi * sig.frequencies * sig.t[n]
        x = np.concatenate([np.sin(ph), np.cos(ph)])
        Px = P @ x
        g = Px / (lam + x @ Px)
        w = w + g * (sig.S[n] - x @ w)
        P = (P - np.outer(g, Px)) / lam
        out[:, n] = K * (w[:K] * np.sin(ph) + w[K:] * np.cos(ph))
    return out


def test_rls_equals_recursion(offsets_sig):
    short = MixedSignal(t=offsets_sig.t[:600], S=offsets_sig.S[:600], targets=offsets_sig.targets[:, :600],
                        frequencies=offsets_sig.frequencies, fs=offsets_sig.fs)
    for lam, delta in ((0.99, 0.1), (1.0, 1.0)):
        ref = rls_recursion(short, lam, delta)
        out = bl.rls_causal(short, forgetting=lam, regularization=delta)
        assert np.abs(out - ref).max() < 1e-6, (lam, delta)


def test_rls_converges_on_noisy_known_signal(offsets_sig):
    err = (bl.rls_causal(offsets_sig) - offsets_sig.targets) ** 2  # (K, N)
    early, late = err[:, :100].mean(), err[:, 2000:].mean()
    assert late < 0.003 and early > 10 * late


def test_rls_chunks_join_seamlessly(offsets_sig, monkeypatch):
    whole = bl.rls_causal(offsets_sig)
    monkeypatch.setattr(bl, "RLS_CHUNK", 777)
    assert np.abs(bl.rls_causal(offsets_sig) - whole).max() < 1e-9


def test_rls_constant_term_absorbs_dc(offsets_sig):
    shifted = MixedSignal(t=offsets_sig.t, S=offsets_sig.S + 0.5, targets=offsets_sig.targets,
                          frequencies=offsets_sig.frequencies, fs=offsets_sig.fs)
    late = slice(500, 2000)
    with_c = ((bl.rls_causal(shifted, constant=True) - shifted.targets)[:, late] ** 2).mean()
    without = ((bl.rls_causal(shifted) - shifted.targets)[:, late] ** 2).mean()
    assert with_c < 0.001 and without > 0.01


# ---------------------------------------------------------------------------------------------- causality
def test_causal_baselines_ignore_the_future(offsets_sig):
    m = 1234
    changed = with_new_future(offsets_sig, m, seed=0)
    a, b = bl.run_all(offsets_sig), bl.run_all(changed)
    for name, spec in bl.BASELINES.items():
        past_same = np.array_equal(a[name][:, :m], b[name][:, :m])
        if spec.causal:
            assert past_same, name
            if name not in ("zero", "clock-oracle"):
                assert not np.array_equal(a[name][:, m:], b[name][:, m:]), name  # it does read S
        else:  # the flag is truthful: the zero-phase filter's past moves with its future
            assert not past_same and np.abs(a[name][:, :m] - b[name][:, :m]).max() > 1e-3, name


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("kwargs, field", [
    ({"order": 0}, "order"), ({"order": 2.5}, "order"), ({"bandwidth": -1.0}, "bandwidth"),
    ({"bandwidth": float("nan")}, "bandwidth"), ({"centre": "middle"}, "centre"),
    ({"forgetting": 0.0}, "forgetting"), ({"forgetting": 1.5}, "forgetting"),
    ({"regularization": 0.0}, "regularization"),
])
def test_bad_parameters_name_the_field(offsets_sig, kwargs, field):
    with pytest.raises(UserError, match=f"^{field}:"):
        bl.run_all(offsets_sig, **kwargs)


def test_band_covering_everything_is_refused():
    sig = clean(fs=10.0, freqs=np.array([1.0, 3.0]), theta=np.zeros(2))
    with pytest.raises(UserError, match="^bandwidth:.*Nyquist"):
        bl.bandpass_causal(sig, bandwidth=5.0)


def test_compare_uses_the_mse_of_all_rows(offsets_sig):
    res = bl.compare(offsets_sig, names=["zero", "rls-causal"])
    assert list(res["baselines"]) == ["zero", "rls-causal"]
    assert res["baselines"]["zero"]["mse"] == pytest.approx(float((offsets_sig.targets ** 2).mean()))
    r = res["baselines"]["rls-causal"]
    assert r["mse"] == pytest.approx(np.mean(r["per_frequency_mse"]))
    assert r["causal"] is True and res["params"]["forgetting"] == 0.999 and res["scenario"] == "offsets"
    json.dumps(res)  # JSON-ready


# ---------------------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def data_file(tmp_path_factory, offsets_sig):
    path = tmp_path_factory.mktemp("bl") / "offsets.npz"
    save_npz(offsets_sig, path)
    return path


def test_cli_table_and_csv(data_file, tmp_path, capsys):
    out = tmp_path / "sub" / "table.csv"
    assert main(["baselines", "--data", str(data_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for name in bl.BASELINES:
        assert name in text
    assert "offsets, seed 2" in text and f"wrote {out}" in text
    rows = list(csv.DictReader(out.open()))
    assert [r["baseline"] for r in rows] == [*bl.BASELINES, "rls-tuned", "bandpass-tuned", "bayes-smc"]
    assert {r["baseline"]: r["kind"] for r in rows}["rls-causal"] == "untuned"
    zp = next(r for r in rows if r["baseline"] == "bandpass-zero-phase")
    assert zp["causal"] == "false" and float(zp["mse"]) < 0.1
    rls = next(r for r in rows if r["baseline"] == "rls-causal")
    assert float(rls["mse"]) < float(next(r for r in rows if r["baseline"] == "bandpass-causal")["mse"])
    assert [p.name for p in out.parent.iterdir()] == ["table.csv"]  # no temporary left


def test_cli_json_subprocess(data_file, tmp_path):
    """The real command, with parameters: --json prints the same JSON that --out writes."""
    out = tmp_path / "b.json"
    proc = subprocess.run([*MODULE, "baselines", "--data", str(data_file), "--json", "--out", str(out),
                           "--forgetting", "0.99", "--order", "3", "--tune-on", "1001", "1002",
                           "--bayes-particles", "512"],
                          capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed == json.loads(out.read_text())
    assert printed["params"]["forgetting"] == 0.99 and printed["params"]["order"] == 3
    assert set(printed["baselines"]) == {*bl.BASELINES, "rls-tuned", "bandpass-tuned", "bayes-smc"}


@pytest.mark.parametrize("args, expected", [
    (["--data", "{d}/missing.npz"], "missing.npz"),
    (["--data", "{d}/junk.npz"], "junk.npz"),
    (["--data", "{data}", "--out", "{d}/table.txt"], "--out"),
    (["--data", "{data}", "--out", "{d}"], "--out"),
    (["--data", "{data}", "--order", "0"], "order"),
    (["--data", "{data}", "--forgetting", "1.5"], "forgetting"),
    (["--data", "{data}", "--bandwidth", "nan"], "bandwidth"),
    (["--data", "{data}", "--order", "two"], "--order"),
])
def test_cli_bad_input_one_line(data_file, tmp_path, monkeypatch, capsys, args, expected):
    d = tmp_path / "w"
    d.mkdir()
    (d / "junk.npz").write_bytes(b"not a zip")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in d.iterdir())
    argv = ["baselines", *[a.format(d=d, data=data_file) for a in args]]
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        rc = e.code
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    lines = cap.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("freqextract: error: ") and expected in lines[0], cap.err
    assert "Traceback" not in cap.err
    assert sorted(p.name for p in d.iterdir()) == before


# ---------------------------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("name, scenario", [("offsets", "offsets"), ("phase-scaled", "phase-scaled")])
def test_scenario_configs_validate(name, scenario):
    from freqextract.config import load

    cfg = load(name)  # every section validated, [train] included
    assert cfg.signal.scenario == scenario and cfg.signal.phase_scale == 0.1 and cfg.signal.noise_sigma == 0.0


def test_offsets_reference_numbers():
    """The references' ordering (docs/scenarios.md) on `offsets` s = 0.1 (seed 2, the whole 10 s), roughly."""
    from freqextract.config import load

    sig = generate(load("offsets").signal, seed=2)
    m = {n: r["mse"] for n, r in bl.compare(sig)["baselines"].items()}
    assert 0.003 < m["rls-causal"] < 0.015
    assert 0.01 < m["bandpass-zero-phase"] < 0.04
    assert 0.05 < m["bandpass-causal"] < 0.15
    assert m["zero"] == pytest.approx(0.5, abs=1e-3) and m["clock-oracle"] > 0.3
