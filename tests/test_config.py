"""Config: spec defaults, TOML round trip, --set overrides, bundled names, and every validation rule."""

from __future__ import annotations

import dataclasses
import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freqextract.config import (
    SECTIONS,
    EvalConfig,
    ModelConfig,
    RunConfig,
    SignalConfig,
    TrainConfig,
    bundled_configs,
    dumps,
    from_dict,
    load,
    parse_override,
    resolve_config_path,
    to_dict,
    validate,
)
from freqextract.errors import UserError


# ---------------------------------------------------------------------------------------------- defaults
def test_defaults_are_the_assignment():
    s = RunConfig().signal
    assert s.scenario == "spec"
    assert s.frequencies == (1.0, 3.0, 5.0, 7.0)
    assert s.fs == 1000.0
    assert s.duration == 10.0
    assert s.n_samples == 10_000
    assert s.amplitude == (0.8, 1.2)
    assert s.phase_scale == 1.0
    assert s.noise_sigma == 0.0
    assert (s.train_seed, s.test_seed) == (1, 2)
    assert RunConfig().model.seq_len == 1  # the assignment: L = 1 by default
    validate(RunConfig())  # the defaults are valid


def test_from_empty_dict_is_the_default():
    assert from_dict({}) == RunConfig()
    assert load() == RunConfig()


def test_configs_are_frozen():
    cfg = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.signal.fs = 5.0  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------- round trip
def _write_and_load(tmp_path, cfg: RunConfig) -> RunConfig:
    path = tmp_path / "cfg.toml"
    path.write_text(dumps(cfg), encoding="utf-8")
    return load(path)


def test_round_trip_defaults(tmp_path):
    text = dumps(RunConfig())
    assert set(tomllib.loads(text)) == set(SECTIONS)
    back = _write_and_load(tmp_path, RunConfig())
    assert back == RunConfig()
    # canonical types survive: tuples and floats, not lists and ints
    assert isinstance(back.signal.frequencies, tuple) and isinstance(back.signal.amplitude, tuple)
    assert isinstance(back.signal.fs, float)


positive = st.floats(min_value=1e-9, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def run_configs(draw) -> RunConfig:
    scenario = draw(st.sampled_from(["spec", "phase-scaled", "offsets"]))
    fs = float(draw(st.sampled_from([50, 100, 250.0, 1000, 8000, 44100])))
    n = draw(st.integers(2, 20_000))
    duration = n / fs
    nyq = fs / 2
    freqs = draw(st.lists(st.floats(min_value=1e-3, max_value=nyq * 0.999, allow_nan=False),
                          min_size=1, max_size=6, unique=True))
    lo = draw(st.floats(0.0, 2.0))
    hi = draw(st.floats(lo, 3.0))
    if scenario == "spec":
        phase_scale, sigma = 1.0, 0.0
    else:
        phase_scale = draw(st.floats(0.0, 1.0))
        sigma = draw(st.floats(0.0, 5.0)) if scenario == "offsets" else 0.0
    signal = SignalConfig(
        scenario=scenario, frequencies=tuple(freqs), fs=fs, duration=duration, amplitude=(lo, hi),
        phase_scale=phase_scale, noise_sigma=sigma,
        train_seed=draw(st.integers(0, 2**63 - 1)), test_seed=(test := draw(st.integers(0, 2**32))),
        val_seed=draw(st.integers(0, 2**32).filter(lambda v: not test <= v < test + 10)),
    )
    seq_len = draw(st.sampled_from([L for L in (1, 2, 5) if signal.n_samples % L == 0]))
    model = ModelConfig(
        hidden_size=draw(st.integers(1, 512)), num_layers=draw(st.integers(1, 4)), seq_len=seq_len,
        window_state=draw(st.sampled_from(["carry", "reset"])),
        init=draw(st.sampled_from(["forget-bias", "chrono", "default"])),
        forget_bias=draw(st.floats(-10, 10)), chrono_tmax=draw(st.floats(2.001, 1e6)),
    )
    max_h = signal.n_samples // seq_len
    train = TrainConfig(
        seed=draw(st.integers(0, 10**9)), lr=draw(positive), lr_floor=draw(st.floats(1e-6, 1.0)),
        warmup_horizon=seq_len * draw(st.integers(1, max_h)), warmup_steps=draw(st.integers(1, 10_000)),
        growth_steps=draw(st.integers(0, 10_000)), final_steps=draw(st.integers(0, 10_000)),
        focus=draw(st.floats(0, 10)),
        tbptt=draw(st.integers(0, 10_000)), clip=draw(positive),
        realisations=draw(st.integers(1, 64)),
        device=draw(st.one_of(st.sampled_from(["auto", "cpu", "cuda", "mps"]),
                              st.text(max_size=12).map(lambda s: "cuda:" + s))),
        log_every=draw(st.integers(1, 10_000)),
    )
    n_tune = draw(st.integers(1, 16))
    held_out = {*range(signal.test_seed, signal.test_seed + 10), signal.val_seed}
    ev = EvalConfig(ablations=draw(st.booleans()), shuffle_seed=draw(st.integers(0, 2**31)),
                    tune_seed=draw(st.integers(0, 2**32).filter(
                        lambda v: held_out.isdisjoint(range(v, v + n_tune)))),
                    tune_sequences=n_tune)
    cfg = RunConfig(signal=signal, model=model, train=train, eval=ev)
    validate(cfg)
    return cfg


@settings(max_examples=60, deadline=None)
@given(cfg=run_configs())
def test_round_trip_any_valid_config(tmp_path_factory, cfg):
    """dumps -> file -> load gives an equal config (floats, big ints, odd strings included)."""
    back = _write_and_load(tmp_path_factory.mktemp("rt"), cfg)
    assert back == cfg
    assert from_dict(to_dict(cfg)) == cfg


# ---------------------------------------------------------------------------------------------- overrides
@pytest.mark.parametrize("item, expected", [
    ("train.lr=0.001", ("train", "lr", 0.001)),
    ("train.seed=3", ("train", "seed", 3)),
    ("signal.frequencies=[1, 2.5, 4]", ("signal", "frequencies", [1, 2.5, 4])),
    ("train.focus=2", ("train", "focus", 2)),
    ("signal.scenario=phase-scaled", ("signal", "scenario", "phase-scaled")),  # bare string
    ('signal.scenario="offsets"', ("signal", "scenario", "offsets")),  # quoted TOML string
    ("train.device=cuda:1", ("train", "device", "cuda:1")),
    ("eval.ablations=false", ("eval", "ablations", False)),
    (" model.init = chrono ", ("model", "init", "chrono")),
    ("train.device=a=b", ("train", "device", "a=b")),  # only the first '=' splits
])
def test_parse_override(item, expected):
    assert parse_override(item) == expected


@pytest.mark.parametrize("item", ["signal.fs", "fs=3", "a.b.c=1", ".fs=3", "signal.=3", "=3"])
def test_parse_override_rejects_malformed(item):
    with pytest.raises(UserError, match=r"^--set "):
        parse_override(item)


def test_load_with_overrides_on_top_of_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[signal]\nfs = 500.0\nduration = 2.0\n[train]\nlr = 0.5\n', encoding="utf-8")
    cfg = load(path, ["signal.frequencies=[2, 4]", "signal.scenario=offsets", "signal.noise_sigma=0.25",
                      "train.warmup_horizon=100", "train.lr=0.01", "model.init=default"])
    assert cfg.signal.fs == 500.0 and cfg.signal.duration == 2.0  # from the file
    assert cfg.signal.frequencies == (2.0, 4.0)  # list override, ints coerced to floats
    assert cfg.signal.scenario == "offsets" and cfg.signal.noise_sigma == 0.25
    assert cfg.train.warmup_horizon == 100
    assert cfg.train.lr == 0.01  # the override wins over the file
    assert cfg.model.init == "default"
    # untouched values keep their defaults
    assert cfg.model.hidden_size == ModelConfig().hidden_size


def test_later_override_wins():
    assert load(None, ["train.seed=3", "train.seed=4"]).train.seed == 4


def test_override_unknown_section():
    with pytest.raises(UserError, match=r"^--set nope\.x=1: unknown section"):
        load(None, ["nope.x=1"])


def test_signal_only_skips_the_training_checks():
    """Commands that only generate data accept a signal shorter than the training horizons."""
    with pytest.raises(UserError, match=r"^train\.warmup_horizon: "):
        load(None, ["signal.duration=0.5"])
    cfg = load(None, ["signal.duration=0.5"], signal_only=True)
    assert cfg.signal.n_samples == 500 and cfg.train == TrainConfig()
    # the signal is still range-checked and every section still type-checked
    with pytest.raises(UserError, match=r"^signal\.fs: "):
        load(None, ["signal.fs=-1"], signal_only=True)
    with pytest.raises(UserError, match=r"^train\.lr: expected a number"):
        load(None, ["train.lr=fast"], signal_only=True)
    with pytest.raises(UserError, match=r"^model\.size: unknown key"):
        load(None, ["model.size=3"], signal_only=True)


# ---------------------------------------------------------------------------------------------- bundled
def test_bundled_spec_is_the_default():
    assert load("spec") == RunConfig()


def test_bundled_quick():
    cfg = load("quick")
    assert cfg.signal.scenario == "spec"
    assert cfg.signal.duration == 1.0 and cfg.signal.n_samples == 1000
    assert cfg.model.hidden_size == 16
    assert (cfg.train.warmup_horizon, cfg.train.warmup_steps, cfg.train.growth_steps) == (100, 30, 15)
    assert load("quick", ["model.hidden_size=8"]).model.hidden_size == 8


def test_unknown_bundled_name():
    with pytest.raises(UserError, match=r"^no-such-config: neither a config file nor a bundled config "
                                        r"\(bundled: .*offsets, phase-scaled, programmable, quick, spec"):
        load("no-such-config")


def test_a_misspelt_name_suggests_the_nearest_bundled_one():
    with pytest.raises(UserError, match=r"^quik: neither a config file nor a bundled config .*; did you mean "
                                        r"quick\?$"):
        load("quik")


def test_a_folder_named_like_a_bundled_config_does_not_shadow_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quick").mkdir()  # e.g. `freqextract run --config quick --out quick`
    assert load("quick") == load(str(resolve_config_path("quick")))
    assert resolve_config_path("quick").parent.name == "configs"
    (tmp_path / "mine").mkdir()
    with pytest.raises(UserError, match="^mine: neither a config file nor a bundled config"):
        load("mine")
    with pytest.raises(UserError, match="is a directory, not a config file"):
        load(str(tmp_path / "mine"))


def test_bundled_configs_lists_every_file():
    assert {"spec", "quick", "offsets", "phase-scaled"} <= set(bundled_configs())


# ---------------------------------------------------------------------------------------------- validation
def _cfg(**sections) -> dict:
    return {k: dict(v) for k, v in sections.items()}


BAD = [
    # (field prefix, data)
    ("signal.scenario", _cfg(signal={"scenario": "chirp"})),
    ("signal.fs", _cfg(signal={"fs": 0})),
    ("signal.fs", _cfg(signal={"fs": -5.0})),
    ("signal.duration", _cfg(signal={"duration": 0.0})),
    ("signal.duration", _cfg(signal={"duration": -1})),
    ("signal.duration", _cfg(signal={"duration": 0.0015})),  # 1.5 samples
    ("signal.duration", _cfg(signal={"duration": 0.001})),  # a single sample
    ("signal.frequencies", _cfg(signal={"frequencies": []})),
    ("signal.frequencies[0]", _cfg(signal={"frequencies": [0.0]})),
    ("signal.frequencies[1]", _cfg(signal={"frequencies": [1.0, -3.0]})),
    ("signal.frequencies[2]", _cfg(signal={"frequencies": [1.0, 3.0, 500.0]})),  # == Nyquist
    ("signal.frequencies[0]", _cfg(signal={"frequencies": [700.0]})),
    ("signal.frequencies", _cfg(signal={"frequencies": [3.0, 1.0, 3.0]})),
    ("signal.amplitude", _cfg(signal={"amplitude": [-0.1, 1.0]})),
    ("signal.amplitude", _cfg(signal={"amplitude": [1.2, 0.8]})),
    ("signal.phase_scale", _cfg(signal={"phase_scale": 0.5})),  # spec fixes it at 1
    ("signal.noise_sigma", _cfg(signal={"noise_sigma": 0.1})),  # spec has no AWGN
    ("signal.phase_scale", _cfg(signal={"scenario": "phase-scaled", "phase_scale": 1.5})),
    ("signal.phase_scale", _cfg(signal={"scenario": "offsets", "phase_scale": -0.1})),
    ("signal.noise_sigma", _cfg(signal={"scenario": "offsets", "noise_sigma": -1.0})),
    ("signal.train_seed", _cfg(signal={"train_seed": -1})),
    ("signal.test_seed", _cfg(signal={"test_seed": -2})),
    ("model.hidden_size", _cfg(model={"hidden_size": 0})),
    ("model.num_layers", _cfg(model={"num_layers": 0})),
    ("model.seq_len", _cfg(model={"seq_len": 0})),
    ("model.window_state", _cfg(model={"window_state": "keep"})),
    ("model.init", _cfg(model={"init": "xavier"})),
    ("model.chrono_tmax", _cfg(model={"chrono_tmax": 2.0})),
    ("train.seed", _cfg(train={"seed": -1})),
    ("train.lr", _cfg(train={"lr": 0.0})),
    ("train.lr", _cfg(train={"lr": -1e-3})),
    ("train.lr_floor", _cfg(train={"lr_floor": 0.0})),
    ("train.lr_floor", _cfg(train={"lr_floor": 1.5})),
    ("train.warmup_horizon", _cfg(train={"warmup_horizon": 0})),
    ("train.warmup_horizon", _cfg(train={"warmup_horizon": 10_001})),  # > n_samples
    ("train.warmup_steps", _cfg(train={"warmup_steps": -1})),
    ("train.growth_steps", _cfg(train={"growth_steps": -1})),
    ("train.final_steps", _cfg(train={"final_steps": -5})),
    ("train.warmup_steps", _cfg(train={"warmup_steps": 0, "growth_steps": 0, "final_steps": 0})),
    ("train.focus", _cfg(train={"focus": -1.0})),
    ("train.warmup_gate", _cfg(train={"warmup_gate": -0.1})),
    ("train.growth_gate", _cfg(train={"growth_gate": -1.0})),
    ("train.warmup_extra", _cfg(train={"warmup_extra": -1})),
    ("train.growth_max_factor", _cfg(train={"growth_max_factor": 0.5})),
    ("train.loss_ema", _cfg(train={"loss_ema": 1.0})),
    ("train.threads", _cfg(train={"threads": -1})),
    ("signal.val_seed", _cfg(signal={"val_seed": -1})),
    ("signal.val_seed", _cfg(signal={"val_seed": 3})),  # one of the test seeds 2..11
    ("signal.val_seed", _cfg(signal={"test_seed": 10})),  # test seeds 10..19 hold the default 12
    ("train.restart_gate", _cfg(train={"restart_gate": -0.1})),
    ("train.max_restarts", _cfg(train={"max_restarts": -1})),
    ("train.growth_lr_power", _cfg(train={"growth_lr_power": 3.0})),
    ("model.seq_len", _cfg(model={"seq_len": 3}, train={"warmup_horizon": 100})),
    ("train.tbptt", _cfg(train={"tbptt": -1})),
    ("train.clip", _cfg(train={"clip": 0.0})),
    ("train.realisations", _cfg(train={"realisations": 0})),
    ("train.device", _cfg(train={"device": "tpu"})),
    ("train.device", _cfg(train={"device": "CUDA"})),
    ("train.log_every", _cfg(train={"log_every": 0})),
    ("train.checkpoint_every", _cfg(train={"checkpoint_every": -1})),
    ("train.checkpoint_every", _cfg(train={"checkpoint_every": 2.5})),
    ("train.max_grad_norm", _cfg(train={"max_grad_norm": -1.0})),
    ("train.max_grad_norm", _cfg(train={"max_grad_norm": math.inf})),
    ("train.seed", _cfg(train={"seed": 2**32})),
    ("eval.shuffle_seed", _cfg(eval={"shuffle_seed": -1})),
    ("eval.tune_seed", _cfg(eval={"tune_seed": -1})),
    ("eval.tune_seed", _cfg(eval={"tune_seed": 5})),  # one of the test seeds 2..11
    ("eval.tune_seed", _cfg(eval={"tune_seed": 10, "tune_sequences": 3})),  # 10..12: test seeds and val 12
    ("eval.tune_seed", _cfg(signal={"test_seed": 1000})),  # test seeds 1000..1009 hold the default 1001
    ("eval.tune_seed", _cfg(eval={"tune_seed": 13}, signal={"val_seed": 14})),  # the validation seed
    ("eval.tune_sequences", _cfg(eval={"tune_sequences": 0})),
    ("eval.bayes_particles", _cfg(eval={"bayes_particles": -1})),
    ("eval.bayes_particles", _cfg(eval={"bayes_particles": 1})),
    # _coerce: types
    ("signal.fs", _cfg(signal={"fs": "1000"})),
    ("signal.fs", _cfg(signal={"fs": True})),
    ("signal.fs", _cfg(signal={"fs": math.nan})),
    ("signal.fs", _cfg(signal={"fs": math.inf})),
    ("train.seed", _cfg(train={"seed": 1.0})),
    ("train.seed", _cfg(train={"seed": True})),
    ("train.seed", _cfg(train={"seed": "1"})),
    ("eval.ablations", _cfg(eval={"ablations": 1})),
    ("eval.ablations", _cfg(eval={"ablations": "yes"})),
    ("signal.scenario", _cfg(signal={"scenario": 3})),
    ("signal.frequencies", _cfg(signal={"frequencies": 5.0})),
    ("signal.frequencies[1]", _cfg(signal={"frequencies": [1.0, "3"]})),
    ("signal.amplitude", _cfg(signal={"amplitude": [0.8, 1.0, 1.2]})),
    ("signal.amplitude", _cfg(signal={"amplitude": 1.0})),
    ("signal.amplitude[1]", _cfg(signal={"amplitude": [0.8, "x"]})),
    ("train.warmup_horizon", _cfg(train={"warmup_horizon": 100.0})),
    ("train.focus", _cfg(train={"focus": "high"})),
    ("train.growth_steps", _cfg(train={"growth_steps": [1]})),
    # structure
    ("signal.fss", _cfg(signal={"fss": 1000.0})),
    ("model.hidden", _cfg(model={"hidden": 3})),
    ("nosuch", _cfg(nosuch={"a": 1})),
    ("signal", {"signal": 5}),
    ("train", {"train": [1, 2]}),
]


@pytest.mark.parametrize("field, data", BAD, ids=[f"{i:02d}-{f}" for i, (f, _) in enumerate(BAD)])
def test_bad_value_names_the_field(field, data):
    with pytest.raises(UserError) as info:
        from_dict(data)
    msg = str(info.value)
    assert msg.startswith(f"{field}: "), msg
    assert "\n" not in msg


def test_from_dict_rejects_non_table():
    with pytest.raises(UserError, match=r"^config: "):
        from_dict([("signal", {})])  # type: ignore[arg-type]


def test_every_validated_field_is_covered():
    """Each field named by a validation message above is a real field of its section."""
    fields = {f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    named = {f.split("[")[0] for f, _ in BAD if "." in f and f.split("[")[0] in fields}
    # every section's range-checked fields appear at least once
    must = {"signal.scenario", "signal.fs", "signal.duration", "signal.frequencies", "signal.amplitude",
            "signal.phase_scale", "signal.noise_sigma", "signal.train_seed", "signal.test_seed",
            "model.hidden_size", "model.num_layers", "model.seq_len", "model.window_state", "model.init",
            "model.chrono_tmax", "train.seed", "train.lr", "train.lr_floor", "train.warmup_horizon",
            "train.warmup_steps",
            "train.growth_steps", "train.final_steps", "train.focus", "train.tbptt", "train.clip",
            "train.realisations", "train.device", "train.log_every", "train.checkpoint_every",
            "train.max_grad_norm", "eval.ablations", "eval.shuffle_seed"}
    assert must <= named


def test_boundary_values_are_accepted():
    """The edges of each range are valid: they must not be rejected by an off-by-one."""
    cfg = from_dict({
        "signal": {"scenario": "offsets", "phase_scale": 0.0, "noise_sigma": 0.0, "amplitude": [0.0, 0.0],
                   "fs": 10.0, "duration": 0.2, "frequencies": [4.999], "train_seed": 0, "test_seed": 0},
        "model": {"hidden_size": 1, "num_layers": 1, "seq_len": 2, "chrono_tmax": 2.5},
        "train": {"warmup_horizon": 2, "warmup_steps": 1, "growth_steps": 0, "final_steps": 0, "focus": 0.0,
                  "lr_floor": 1.0, "tbptt": 0, "realisations": 1, "log_every": 1, "device": "cuda:0",
                  "checkpoint_every": 0, "max_grad_norm": 0.0, "seed": 2**32 - 1},
        "eval": {"shuffle_seed": 0},
    })
    assert cfg.signal.n_samples == 2
    from_dict({"signal": {"scenario": "phase-scaled", "phase_scale": 1.0}})
    from_dict({"train": {"warmup_horizon": 10_000}})  # horizon == n_samples
    from_dict({"signal": {"amplitude": [1.0, 1.0]}})  # low == high
