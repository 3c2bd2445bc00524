"""Run configuration: one frozen dataclass per component, composed into :class:`RunConfig`.

Configs come from TOML files (``configs/*.toml``), the embedded defaults (the exact assignment) and
``--set section.key=value`` overrides. Every value is type-checked and range-checked; a bad one raises
:class:`~freqextract.errors.UserError` naming the field, e.g. ``signal.fs: must be > 0, got -5``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

SCENARIOS = ("spec", "phase-scaled", "offsets", "mix", "programmable")
CONDITIONED = ("mix", "programmable")  # scenarios whose model is told the frequency as a number
CONDITIONINGS = ("concat", "film", "demod")  # model.conditioning of a frequency-conditioned model
INITS = ("forget-bias", "chrono", "default", "rotation")  # model.init
OUTPUTS = ("selector", "all")  # model.outputs: one value per selector stream, or all K from one stream
MAX_SEED = 2**32  # train.seed: the candidates' seeds (seed * candidates + i) must fit torch's
MAX_SAMPLES = 20_000_000  # per sequence; beyond this the (K, N) arrays stop fitting in memory comfortably


TEST_SEEDS = 10  # how many noise seeds the test is repeated on, from signal.test_seed up


@dataclass(frozen=True)
class SignalConfig:
    """The mixed signal: scenario, frequencies, sampling and noise (docs/method.md and docs/scenarios.md)."""

    scenario: str = "spec"
    frequencies: tuple[float, ...] = (1.0, 3.0, 5.0, 7.0)
    fs: float = 1000.0
    duration: float = 10.0
    amplitude: tuple[float, float] = (0.8, 1.2)
    # spec: phase ~ U(0, 2pi) (scale fixed at 1); phase-scaled: s * U(0, 2pi); offsets: jitter U(-pi s, pi s)
    phase_scale: float = 1.0
    noise_sigma: float = 0.0  # additive white Gaussian noise on S (not in the spec scenario)
    train_seed: int = 1
    test_seed: int = 2
    val_seed: int = 12  # watched during training and picks the kept init: never a test seed
    # mix (docs/extractor.md): K ~ U{components}, f ~ U(band) at least min_separation Hz apart, a level
    # a ~ U(levels) and a phase theta ~ U(0, 2 pi) per component and sequence; mix_frequencies fixes the f
    components: tuple[int, int] = (1, 6)
    band: tuple[float, float] = (0.5, 20.0)
    min_separation: float = 1.0
    levels: tuple[float, float] = (0.25, 1.0)
    mix_frequencies: tuple[float, ...] = ()
    # programmable (docs/scenarios.md): the spec's S, a requested f ~ U(band) that never comes within
    # heldout_margin Hz of a held-out frequency; the test asks for the held-out ones and a grid over the band
    heldout: tuple[float, ...] = (1.0, 3.0, 5.0, 7.0, 2.5, 8.5)
    heldout_margin: float = 0.25
    # the test seeds are test_seed .. test_seed + TEST_SEEDS - 1 (metrics.json "multi_seed")

    @property
    def n_samples(self) -> int:
        return int(round(self.fs * self.duration))


@dataclass(frozen=True)
class ModelConfig:
    """The network: a stateful LSTM stepped one sample at a time (seq_len 1) or over windows (seq_len > 1)."""

    hidden_size: int = 64
    num_layers: int = 1
    seq_len: int = 1
    window_state: str = "carry"  # seq_len > 1: "carry" state between windows, or "reset" per window
    init: str = "forget-bias"  # "forget-bias", "chrono", "default" (PyTorch's) or "rotation" (models/rotation.py)
    forget_bias: float = 5.0  # forget-gate bias for init = "forget-bias"
    chrono_tmax: float = 1000.0  # longest time constant (samples) for init = "chrono"
    # init = "rotation": each selector's oscillator planted on a circle of this radius (cell units); the
    # larger, the further its read-out o tanh(c) is from a sine
    rotation_amplitude: float = 0.1
    # mix: how the requested frequency (cycles per sample) enters: "concat" (a number beside S), "film"
    # (scale and shift of the input features and of the hidden state read out), "demod" (beside S, the
    # request's carrier cos/sin and S times it)
    conditioning: str = "demod"
    film_size: int = 16  # film: width of the frequency embedding
    # fixed frequencies: "selector" (reads [S, one-hot selector], one value per stream) or "all" (reads S
    # only, one stream returns all K components: MultiOutputLSTM)
    outputs: str = "selector"


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and horizon curriculum (see train.Curriculum).

    warm-up   ``warmup_steps`` at ``warmup_horizon`` samples, lr cosine from ``lr`` to ``lr * lr_floor``;
              then up to ``warmup_extra`` more steps at the floor until every frequency's loss (moving
              average) is below ``warmup_gate``; if one is still above ``restart_gate`` then, that
              frequency's oscillator never started: the init is discarded and training starts over from
              a fresh one (at most ``max_restarts`` times)
    growth    the horizon grows geometrically to the whole signal in ``growth_steps`` advances, one per
              step while every frequency's loss is below ``growth_gate`` (at most
              ``growth_max_factor * growth_steps`` steps);
              lr = lr * lr_floor * (warmup_horizon / horizon) ** growth_lr_power, continuous with the
              warm-up: it never jumps up
    final     ``final_steps`` on the whole signal, lr cosine-decayed to 0
    polish    up to ``polish_iters`` L-BFGS iterations on one fixed batch of ``polish_realisations`` noise
              realisations at the whole length (0 = none); the polished weights are kept only if they
              lower the validation MSE (training/polish.py)
    """

    seed: int = 0
    lr: float = 3e-3
    lr_floor: float = 0.1
    warmup_horizon: int = 1000
    warmup_steps: int = 3000
    growth_steps: int = 2500
    final_steps: int = 500
    warmup_gate: float = 0.005  # 0 = no extension
    warmup_extra: int = 1000
    restart_gate: float = 0.05  # 0 = never restart
    max_restarts: int = 2
    growth_gate: float = 0.02  # 0 = grow every step
    growth_max_factor: float = 1.5
    growth_lr_power: float = 0.5  # how fast the lr falls as the horizon grows (0 = stays at the floor)
    loss_ema: float = 0.95  # decay of the per-frequency moving average the gates read
    focus: float = 1.0  # weight each frequency's loss by (its loss / mean loss) ** focus; 0 = plain mean
    tbptt: int = 0  # truncate backprop every this many samples (0 = through the whole horizon)
    clip: float = 1.0
    realisations: int = 1  # fresh noise realisations per step (each one gives one stream per frequency)
    candidates: int = 2  # independent inits trained side by side; the lowest validation MSE is kept
    workers: int = 2  # processes for the candidates (0 = one per CPU core)
    device: str = "auto"
    threads: int = 1  # CPU threads for torch (0 = torch's default); see runtime.configure_threads
    log_every: int = 100  # steps between history records; each one also measures the MSE on signal.val_seed
    checkpoint_every: int = 250  # steps between resume checkpoints in the run directory (0 = only at the end)
    max_grad_norm: float = 1e6  # a gradient norm above this (before clipping) counts as divergence (0 = off)
    requests: int = 4  # mix: requested frequencies per mixture and step (streams reading the same S)
    absent_fraction: float = 0.4  # mix: share of the requests for a frequency not in the mixture
    absent_weight: float = 1.0  # mix: weight of the absent requests' mean in the loss (the present ones': 1)
    # mix: weight a present request by its mixture's component count over the mean count, so a mixture
    # counts as often as it does in the held-out evaluation, which requests every component
    count_weighting: bool = False
    polish_iters: int = 0  # L-BFGS iterations at the whole length after the final phase (0 = none)
    polish_realisations: int = 2  # noise realisations in the polish's fixed batch
    init_from: str = ""  # a model checkpoint whose weights start the training (a fresh init when empty)

    @property
    def max_steps(self) -> int:
        """Upper bound on optimiser steps (the gates decide how many are taken)."""
        extra = self.warmup_extra if self.warmup_gate > 0 else 0
        growth = self.growth_steps
        if self.growth_gate > 0:
            growth = int(math.ceil(self.growth_max_factor * self.growth_steps))
        restarts = self.max_restarts if self.restart_gate > 0 and self.warmup_steps else 0
        return (1 + restarts) * (self.warmup_steps + extra) + growth + self.final_steps


@dataclass(frozen=True)
class EvalConfig:
    """What the evaluation computes besides MSE on the train and test seeds."""

    ablations: bool = True
    baselines: bool = True  # run the classical baselines (evaluation/baselines.py) on the test signal beside the model
    report: bool = True  # figures/ and report.html (false: skipped; `freqextract report RUN_DIR` draws them)
    shuffle_seed: int = 12345
    absent_separation: float = 2.0  # mix: an absent request lies at least this many Hz from every component
    mix_sequences: int = 10  # mix: held-out sequences (seeds test_seed..) the metrics average over
    # the tuned references (evaluation/references.py) choose their parameters on tune_sequences sequences
    # of noise seeds tune_seed, tune_seed + 1, ...: training-side seeds, never a test or validation seed
    tune_seed: int = 1001
    tune_sequences: int = 8
    bayes_particles: int = 4096  # particles of the Bayes reference on offsets (evaluation/smc.py); 0 = none

    def tuning_seeds(self) -> list[int]:
        return list(range(self.tune_seed, self.tune_seed + self.tune_sequences))


@dataclass(frozen=True)
class RunConfig:
    signal: SignalConfig = field(default_factory=SignalConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


SECTIONS: dict[str, type] = {
    "signal": SignalConfig, "model": ModelConfig, "train": TrainConfig, "eval": EvalConfig,
}
# tables a config file may hold for another command (the run sections stay valid without them)
OTHER_SECTIONS: dict[str, str] = {"sweep": "freqextract sweep"}


# ---------------------------------------------------------------------------------------------- coercion
def _coerce(name: str, value, tp):
    """Check ``value`` against the annotation ``tp`` and return it in canonical form (tuples, floats)."""
    origin = typing.get_origin(tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise UserError(f"{name}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{name}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"{name}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise UserError(f"{name}: must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise UserError(f"{name}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise UserError(f"{name}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(f"{name}[{i}]", v, args[0]) for i, v in enumerate(value))
        if len(value) != len(args):
            raise UserError(f"{name}: expected a list of {len(args)} items, got {len(value)}")
        return tuple(_coerce(f"{name}[{i}]", v, a) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if isinstance(tp, types.UnionType):
        raise TypeError(f"unsupported annotation for {name}")
    raise TypeError(f"unsupported annotation {tp!r} for {name}")


def _build(section: str, cls: type, values: dict):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise UserError(f"{section}.{key}: unknown key (known: {', '.join(sorted(known))})")
    kwargs = {k: _coerce(f"{section}.{k}", v, hints[k]) for k, v in values.items()}
    return cls(**kwargs)


def field_types() -> dict[str, object]:
    """``section.key`` -> the type annotation of every config field (what a sweep may vary)."""
    return {f"{s}.{k}": tp for s, cls in SECTIONS.items() for k, tp in typing.get_type_hints(cls).items()}


def coerce_field(path: str, value, label: str):
    """``value`` type-checked for the field ``path`` (``section.key``), in canonical form; errors name
    ``label``."""
    return _coerce(label, value, field_types()[path])


def from_dict(data: dict, signal_only: bool = False) -> RunConfig:
    """Build and validate a :class:`RunConfig` from nested dicts (missing keys take the defaults).

    ``signal_only``: range-check only the signal section (every section is still type-checked); for
    commands that only generate data, which must not fail on a training curriculum longer than the signal.
    """
    if not isinstance(data, dict):
        raise UserError("config: expected a table of sections")
    for section in data:
        if section in OTHER_SECTIONS:
            raise UserError(f"{section}: this table is read by `{OTHER_SECTIONS[section]}`, not by this "
                            "command")
        if section not in SECTIONS:
            raise UserError(f"{section}: unknown config section (known: {', '.join(SECTIONS)})")
        if not isinstance(data[section], dict):
            raise UserError(f"{section}: expected a table, got {data[section]!r}")
    parts = {s: _build(s, cls, data.get(s, {})) for s, cls in SECTIONS.items()}
    cfg = RunConfig(**parts)
    validate(cfg, signal_only=signal_only)
    return cfg


def to_dict(cfg: RunConfig) -> dict:
    """Nested plain dicts (tuples become lists), ready for TOML or JSON."""

    def plain(v):
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        return v

    return {s: {k: plain(v) for k, v in dataclasses.asdict(getattr(cfg, s)).items()} for s in SECTIONS}


# ---------------------------------------------------------------------------------------------- validation
def _at_least(section: str, obj, name: str, low: int) -> None:
    value = getattr(obj, name)
    if value < low:
        raise UserError(f"{section}.{name}: must be >= {low}, got {value}")


def validate(cfg: RunConfig, signal_only: bool = False) -> None:
    """Range and consistency checks; raises UserError naming the first bad field."""
    s = cfg.signal
    if s.scenario not in SCENARIOS:
        raise UserError(f"signal.scenario: unknown scenario {s.scenario!r} (known: {', '.join(SCENARIOS)})")
    if s.fs <= 0:
        raise UserError(f"signal.fs: must be > 0, got {s.fs:g}")
    if s.duration <= 0:
        raise UserError(f"signal.duration: must be > 0, got {s.duration:g}")
    n = s.fs * s.duration
    if not math.isfinite(n):
        raise UserError(f"signal.duration: fs * duration = {n:g} samples is more than the {MAX_SAMPLES:g} "
                        "supported")
    if abs(n - round(n)) > 1e-6:
        raise UserError(f"signal.duration: fs * duration must be a whole number of samples, got {n:g}")
    if round(n) > MAX_SAMPLES:
        raise UserError(f"signal.duration: fs * duration = {n:g} samples is more than the {MAX_SAMPLES:g} supported")
    if round(n) < 2:
        raise UserError(f"signal.duration: fs * duration must give at least 2 samples, got {round(n)}")
    if not s.frequencies:
        raise UserError("signal.frequencies: needs at least one frequency")
    for i, f in enumerate(s.frequencies):
        if f <= 0:
            raise UserError(f"signal.frequencies[{i}]: must be > 0 Hz, got {f:g}")
        if f >= s.fs / 2:
            raise UserError(f"signal.frequencies[{i}]: {f:g} Hz is not below Nyquist (fs/2 = {s.fs / 2:g} Hz)")
    if len(set(s.frequencies)) != len(s.frequencies):
        raise UserError("signal.frequencies: frequencies must be distinct")
    lo, hi = s.amplitude
    if lo < 0 or lo > hi:
        raise UserError(f"signal.amplitude: need 0 <= low <= high, got [{lo:g}, {hi:g}]")
    if s.scenario in ("spec", "programmable"):
        if s.phase_scale != 1.0:
            raise UserError(f"signal.phase_scale: the {s.scenario} scenario fixes it at 1 (use scenario "
                            "'phase-scaled')")
        if s.noise_sigma != 0.0:
            raise UserError(f"signal.noise_sigma: the {s.scenario} scenario has no additive noise (use 'offsets')")
    if not 0.0 <= s.phase_scale <= 1.0:
        raise UserError(f"signal.phase_scale: must be in [0, 1], got {s.phase_scale:g}")
    if s.noise_sigma < 0:
        raise UserError(f"signal.noise_sigma: must be >= 0, got {s.noise_sigma:g}")
    if s.heldout_margin < 0:
        raise UserError(f"signal.heldout_margin: must be >= 0 Hz, got {s.heldout_margin:g}")
    for name in ("train_seed", "test_seed", "val_seed"):
        if getattr(s, name) < 0:
            raise UserError(f"signal.{name}: must be >= 0, got {getattr(s, name)}")
    if s.test_seed <= s.val_seed < s.test_seed + TEST_SEEDS:
        raise UserError(f"signal.val_seed: {s.val_seed} is one of the test seeds ({s.test_seed}.."
                        f"{s.test_seed + TEST_SEEDS - 1}); choosing on it would let test data pick the model")
    if s.scenario == "mix":
        _validate_mix(s)
    if s.scenario == "programmable":
        _validate_programmable(s)
    if signal_only:
        return

    m = cfg.model
    _at_least("model", m, "hidden_size", 1)
    _at_least("model", m, "num_layers", 1)
    _at_least("model", m, "seq_len", 1)
    if m.window_state not in ("carry", "reset"):
        raise UserError(f"model.window_state: must be 'carry' or 'reset', got {m.window_state!r}")
    if m.init not in INITS:
        raise UserError(f"model.init: must be one of {', '.join(INITS)}, got {m.init!r}")
    if not 0 < m.rotation_amplitude <= 0.4:  # the first sample's kick reaches at most the input gate's 0.5
        raise UserError(f"model.rotation_amplitude: must be in (0, 0.4], got {m.rotation_amplitude:g}")
    if m.init == "rotation":
        # without --config, run and train take DEFAULT_RUN, whose init this is: say how to leave it
        other = "; --config spec (or --set model.init=forget-bias) trains from a random init instead"
        if s.scenario in CONDITIONED or m.outputs != "selector" or m.num_layers != 1:
            raise UserError("model.init: 'rotation' plants one oscillator per selector: it needs a one-layer "
                            "selector model (model.outputs = 'selector', model.num_layers = 1) of a fixed-"
                            f"frequency scenario, got scenario {s.scenario!r}, outputs {m.outputs!r}, "
                            f"{m.num_layers} layer(s){other}")
        if s.scenario == "offsets":
            raise UserError("model.init: 'rotation' plants clocks started at phase 0, and the offsets scenario "
                            "draws each sequence's phases: a clock cannot follow them (--config offsets "
                            f"trains a tracker){other}")
        if m.hidden_size < 3 * len(s.frequencies):
            raise UserError(f"model.hidden_size: init 'rotation' takes 3 units per selector, "
                            f">= {3 * len(s.frequencies)} for {len(s.frequencies)} frequencies, got {m.hidden_size}")
    if m.chrono_tmax <= 2:
        raise UserError(f"model.chrono_tmax: must be > 2 samples, got {m.chrono_tmax:g}")
    if m.conditioning not in CONDITIONINGS:
        raise UserError(f"model.conditioning: must be one of {', '.join(CONDITIONINGS)}, got {m.conditioning!r}")
    _at_least("model", m, "film_size", 1)
    if s.scenario in CONDITIONED and m.seq_len != 1:
        raise UserError(f"model.seq_len: the {s.scenario} scenario's conditioned model steps one sample at a "
                        "time (1)")
    if s.scenario == "programmable" and m.conditioning == "demod":
        raise UserError("model.conditioning: 'demod' is refused for scenario programmable: it feeds the network "
                        "the request's carrier cos/sin(2 pi nu n), so the oscillator would be outside the "
                        "network (use concat or film)")
    if m.outputs not in OUTPUTS:
        raise UserError(f"model.outputs: must be one of {', '.join(OUTPUTS)}, got {m.outputs!r}")
    if m.outputs == "all" and s.scenario in CONDITIONED:
        raise UserError(f"model.outputs: 'all' needs fixed frequencies; scenario {s.scenario} is told its frequency")
    if m.outputs == "all" and m.seq_len != 1:
        raise UserError(f"model.outputs: 'all' steps one sample at a time (model.seq_len 1, got {m.seq_len})")

    t = cfg.train
    _at_least("train", t, "seed", 0)
    if t.seed >= MAX_SEED:
        raise UserError(f"train.seed: must be below {MAX_SEED}, got {t.seed}")
    if t.lr <= 0:
        raise UserError(f"train.lr: must be > 0, got {t.lr:g}")
    if not 0 < t.lr_floor <= 1:
        raise UserError(f"train.lr_floor: must be in (0, 1], got {t.lr_floor:g}")
    if not 1 <= t.warmup_horizon <= s.n_samples:
        raise UserError(f"train.warmup_horizon: must be in [1, {s.n_samples}] samples, got {t.warmup_horizon}")
    for name in ("warmup_steps", "growth_steps", "final_steps"):
        if getattr(t, name) < 0:
            raise UserError(f"train.{name}: must be >= 0, got {getattr(t, name)}")
    if t.warmup_steps + t.growth_steps + t.final_steps < 1 and t.polish_iters < 1:
        raise UserError("train.warmup_steps: warm-up, growth and final steps add up to 0 and there is no "
                        "polish (train.polish_iters); nothing to train")
    for name in ("warmup_gate", "growth_gate", "warmup_extra", "restart_gate", "max_restarts"):
        if getattr(t, name) < 0:
            raise UserError(f"train.{name}: must be >= 0, got {getattr(t, name)}")
    if t.growth_max_factor < 1:
        raise UserError(f"train.growth_max_factor: must be >= 1, got {t.growth_max_factor:g}")
    if not 0 <= t.loss_ema < 1:
        raise UserError(f"train.loss_ema: must be in [0, 1), got {t.loss_ema:g}")
    if not 0 <= t.growth_lr_power <= 2:
        raise UserError(f"train.growth_lr_power: must be in [0, 2], got {t.growth_lr_power:g}")
    if t.focus < 0:
        raise UserError(f"train.focus: must be >= 0, got {t.focus:g}")
    if m.seq_len > 1 and (t.warmup_horizon % m.seq_len or s.n_samples % m.seq_len):
        raise UserError(f"model.seq_len: {m.seq_len} must divide train.warmup_horizon and the signal length")
    _at_least("train", t, "tbptt", 0)
    if t.clip <= 0:
        raise UserError(f"train.clip: must be > 0, got {t.clip:g}")
    _at_least("train", t, "realisations", 1)
    if t.device not in ("auto", "cpu", "cuda", "mps") and not t.device.startswith("cuda:"):
        raise UserError(f"train.device: must be auto, cpu, cuda[:N] or mps, got {t.device!r}")
    _at_least("train", t, "candidates", 1)
    _at_least("train", t, "workers", 0)
    _at_least("train", t, "threads", 0)
    _at_least("train", t, "log_every", 1)
    _at_least("train", t, "checkpoint_every", 0)
    if t.max_grad_norm < 0:
        raise UserError(f"train.max_grad_norm: must be >= 0 (0 = off), got {t.max_grad_norm:g}")
    _at_least("train", t, "polish_iters", 0)
    _at_least("train", t, "polish_realisations", 1)
    _at_least("train", t, "requests", 1)
    if not 0 <= t.absent_fraction < 1:
        raise UserError(f"train.absent_fraction: must be in [0, 1), got {t.absent_fraction:g}")
    if not 0 <= t.absent_weight < math.inf:
        raise UserError(f"train.absent_weight: must be a finite number >= 0, got {t.absent_weight:g}")
    _at_least("eval", cfg.eval, "shuffle_seed", 0)
    if cfg.eval.absent_separation < 0:
        raise UserError(f"eval.absent_separation: must be >= 0 Hz, got {cfg.eval.absent_separation:g}")
    _at_least("eval", cfg.eval, "mix_sequences", 1)
    _at_least("eval", cfg.eval, "tune_seed", 0)
    _at_least("eval", cfg.eval, "tune_sequences", 1)
    _at_least("eval", cfg.eval, "bayes_particles", 0)
    if cfg.eval.bayes_particles == 1:
        raise UserError("eval.bayes_particles: a particle filter needs at least 2 particles (0 = none), got 1")
    tune = cfg.eval.tuning_seeds()
    test = range(s.test_seed, s.test_seed + max(TEST_SEEDS, cfg.eval.mix_sequences))
    clash = sorted(set(tune) & {*test, s.val_seed})
    if clash:
        raise UserError(f"eval.tune_seed: the tuning seeds {tune[0]}..{tune[-1]} include {clash[0]}, a "
                        f"{'validation' if clash[0] == s.val_seed else 'test'} seed (test seeds "
                        f"{test[0]}..{test[-1]}, validation seed {s.val_seed}); tuning on it would let "
                        "held-out data pick the references")



def _validate_band(s: SignalConfig) -> None:
    b0, b1 = s.band
    if not 0 < b0 < b1:
        raise UserError(f"signal.band: need 0 < low < high Hz, got [{b0:g}, {b1:g}]")
    if b1 >= s.fs / 2:
        raise UserError(f"signal.band: {b1:g} Hz is not below Nyquist (fs/2 = {s.fs / 2:g} Hz)")


def allowed_intervals(s: SignalConfig) -> list[tuple[float, float]]:
    """The training band less ``heldout_margin`` Hz around each held-out frequency: disjoint (low, high)
    intervals in Hz, sorted, each of positive width."""
    cuts = sorted((f - s.heldout_margin, f + s.heldout_margin) for f in s.heldout)
    out, lo = [], s.band[0]
    for a, b in cuts:
        if a > lo:
            out.append((lo, min(a, s.band[1])))
        lo = max(lo, b)
    if lo < s.band[1]:
        out.append((lo, s.band[1]))
    return [(a, b) for a, b in out if b > a]


def _validate_programmable(s: SignalConfig) -> None:
    _validate_band(s)
    b0, b1 = s.band
    for i, f in enumerate(s.heldout):
        if not b0 <= f <= b1:
            raise UserError(f"signal.heldout[{i}]: {f:g} Hz is outside the band [{b0:g}, {b1:g}] Hz")
    if len(set(s.heldout)) != len(s.heldout):
        raise UserError("signal.heldout: frequencies must be distinct")
    if not allowed_intervals(s):
        raise UserError(f"signal.heldout_margin: {s.heldout_margin:g} Hz around every held-out frequency leaves "
                        f"nothing of the band [{b0:g}, {b1:g}] Hz to train on")


def _validate_mix(s: SignalConfig) -> None:
    lo, hi = s.components
    if not 1 <= lo <= hi:
        raise UserError(f"signal.components: need 1 <= low <= high, got [{lo}, {hi}]")
    _validate_band(s)
    b0, b1 = s.band
    if s.min_separation < 0:
        raise UserError(f"signal.min_separation: must be >= 0 Hz, got {s.min_separation:g}")
    if (hi - 1) * s.min_separation > 0.5 * (b1 - b0):
        raise UserError(f"signal.min_separation: {hi} components {s.min_separation:g} Hz apart do not fit "
                        f"comfortably in the band [{b0:g}, {b1:g}] Hz (need (K-1) * separation <= half its width)")
    a0, a1 = s.levels
    if not 0 < a0 <= a1:
        raise UserError(f"signal.levels: need 0 < low <= high, got [{a0:g}, {a1:g}]")
    for i, f in enumerate(s.mix_frequencies):
        if not b0 <= f <= b1:
            raise UserError(f"signal.mix_frequencies[{i}]: {f:g} Hz is outside the band [{b0:g}, {b1:g}] Hz")
    fixed = sorted(s.mix_frequencies)
    if any(b - a < s.min_separation for a, b in zip(fixed, fixed[1:], strict=False)):
        raise UserError(f"signal.mix_frequencies: must be at least signal.min_separation = "
                        f"{s.min_separation:g} Hz apart")


# ---------------------------------------------------------------------------------------------- files
# What `freqextract run`, `train` and `sweep` train without --config: the exact assignment with each
# selector's oscillator planted and polished (configs/spec-planted.toml). The dataclass defaults above are the
# base every config file builds on: the learned recipe, written out in configs/spec.toml.
DEFAULT_RUN = "spec-planted"

CONFIG_DIRS = (
    Path(__file__).resolve().parent / "configs",  # installed wheel
    Path(__file__).resolve().parents[2] / "configs",  # source checkout
)


def bundled_configs() -> list[str]:
    """The names of the bundled configs (``configs/*.toml``), sorted."""
    return sorted({p.stem for d in CONFIG_DIRS if d.is_dir() for p in d.glob("*.toml")})


def _bundled(name: str) -> Path | None:
    for d in CONFIG_DIRS:
        cand = d / f"{name}.toml"
        if cand.is_file():
            return cand
    return None


def resolve_config_path(name: str | Path) -> Path:
    """A path as given, or a bare name like ``quick`` looked up among the bundled configs.

    A bare name that is a folder (a run directory called ``quick``, say) is never a config file: the
    bundled config of that name is meant. A bare name that is neither a file nor a bundled config is a
    one-line error listing the bundled names, with the nearest one suggested.
    """
    p = Path(name)
    bare = not p.suffix and len(p.parts) == 1
    if bare and not p.is_file():
        found = _bundled(str(name))
        if found is not None:
            return found
        if not p.exists() or p.is_dir():
            names = bundled_configs()
            near = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise UserError(f"{name}: neither a config file nor a bundled config (bundled: "
                            f"{', '.join(names)}){hint}")
    return p


def load_toml(path: str | Path) -> dict:
    p = resolve_config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read config file ({e.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{p}: invalid TOML ({e})") from None
    except RecursionError:
        raise UserError(f"{p}: invalid TOML (arrays or tables nested too deeply)") from None


def parse_override(item: str) -> tuple[str, str, object]:
    """``section.key=value`` -> (section, key, value); the value is read as TOML, else as a bare string."""
    if "=" not in item:
        raise UserError(f"--set {item}: expected section.key=value")
    lhs, rhs = item.split("=", 1)
    parts = lhs.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise UserError(f"--set {item}: expected section.key=value, e.g. train.lr=0.001")
    try:
        parsed = tomllib.loads(f"v = {rhs.strip()}")
        value = parsed["v"] if parsed.keys() == {"v"} else rhs.strip()  # one value, not more TOML lines
    except tomllib.TOMLDecodeError:
        value = rhs.strip()
    except RecursionError:
        raise UserError(f"--set {lhs.strip()}: value nested too deeply") from None
    return parts[0], parts[1], value


def load(path: str | Path | None = None, overrides: typing.Sequence[str] = (),
         signal_only: bool = False) -> RunConfig:
    """Defaults, then the TOML file (if any), then ``--set`` overrides; validated (see :func:`from_dict`)."""
    data: dict = load_toml(path) if path is not None else {}
    return from_dict(apply_overrides(data, overrides), signal_only=signal_only)


def apply_overrides(data: dict, overrides: typing.Sequence[str],
                    sections: typing.Iterable[str] = SECTIONS) -> dict:
    """Set each ``section.key=value`` of ``overrides`` in the nested dict ``data`` (in place; returned)."""
    sections = list(sections)
    for item in overrides:
        section, key, value = parse_override(item)
        if section not in sections:
            raise UserError(f"--set {item}: unknown section {section!r} (known: {', '.join(sections)})")
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            raise UserError(f"{section}: expected a table")
        data[section][key] = value
    return data


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        # TOML basic strings: escape backslash, quote and the control characters other than tab
        return '"' + "".join(
            "\\" + c if c in '\\"' else f"\\u{ord(c):04x}" if (c < " " and c != "\t") or c == "\x7f" else c
            for c in v
        ) + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def toml_table(header: str, values: dict) -> str:
    """One TOML table: ``[header]`` and a ``key = value`` line per item (keys quoted where they must be)."""
    def key(k: str) -> str:
        return k if k.replace("_", "a").replace("-", "a").isalnum() and k.isascii() else _toml_value(k)

    return "\n".join([f"[{header}]", *(f"{key(k)} = {_toml_value(v)}" for k, v in values.items()), ""])


def dumps(cfg: RunConfig) -> str:
    """TOML text that :func:`load` reads back to an equal config."""
    return "\n".join(toml_table(section, values) for section, values in to_dict(cfg).items())
