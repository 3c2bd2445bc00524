"""The ``[sweep]`` table of a config file: what a study varies, what it optimises, how it samples and prunes.

A sweep config is a run config (``[signal]``, ``[model]``, ``[train]``, ``[eval]``: the base every trial
starts from) plus a ``[sweep]`` table::

    [sweep]
    name = "lr-size"              # the study's name in its storage
    metric = "validation.mse"     # what a trial scores (default: MSE on signal.val_seed, never the test seed)
    direction = "minimize"
    n_trials = 20                 # trials in the study in all (freqextract sweep --trials)
    sampler = "tpe"               # tpe, random, or grid: every point of the space once, in order
    seed = 0                      # sampler seed; trial n samples with seed + n
    startup_trials = 5            # tpe: random trials before it models good and bad regions
    pruner = "median"             # median, threshold or none (reads the validation MSE of train.log_every)
    prune_startup_trials = 4      # median: trials that finish before any is pruned
    prune_warmup_steps = 3000     # no pruning before this training step (default: base train.warmup_steps)
    prune_threshold = 0.45        # threshold: prune once the validation MSE is above this
    heartbeat_interval = 60       # seconds between the heartbeats of a running trial
    grace_period = 180            # a running trial whose heartbeat is older than this (seconds) is failed
                                  # (its worker died) and run again by another worker

    [sweep.space."train.lr"]      # a key of the run config, section.key
    type = "float"                # float, int or categorical
    low = 1e-4
    high = 1e-2
    log = true                    # optional: sample on a log scale (float, int)
    # step = ...                  # optional: a grid step (float, int; not with log)

    [sweep.space."model.hidden_size"]
    type = "categorical"
    choices = [32, 64, 128]

Every entry is checked against the run config: the key must exist, the type must fit the field, low <= high,
and each end of a range (and each choice) must give a valid run config on its own. A mistake raises
:class:`~freqextract.errors.UserError` naming ``sweep.space."key".field``.

Trials train one init each (``train.candidates = 1``: one process per trial, and pruning sees its
validation MSE) unless the config sets ``train.candidates`` itself.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import re
import tomllib
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import (
    SECTIONS,
    RunConfig,
    apply_overrides,
    coerce_field,
    field_types,
    from_dict,
    load_toml,
    to_dict,
    toml_table,
)
from ..config import dumps as run_dumps
from ..errors import UserError

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "threshold", "none")
PARAM_TYPES = ("float", "int", "categorical")
SEED_KEYS = ("train.seed",)  # a study that varies only these measures the spread over training seeds

# What a trial can score: metrics.json of its run directory plus "validation" (the kept init's MSE on
# signal.val_seed, which is what training watched). Test-seed metrics are there to study, not to select on.
METRIC_PATTERNS = (
    r"validation\.mse", r"validation\.per_frequency_mse\.\d+",
    r"(train|test)\.(mse|rmse|r2|pearson_r|snr_db)", r"(train|test)\.per_frequency_mse\.\d+",
    r"multi_seed\.(mean|std)", r"generalization_gap",
    r"ablation\.test_mse_S_(zeroed|shuffled)", r"training\.(seconds|steps)",
)


@dataclass(frozen=True)
class Param:
    """One dimension of the search space: the run-config key it sets and its distribution."""

    path: str  # section.key
    type: str  # float, int or categorical
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple = ()

    def grid(self) -> list:
        """The values a grid visits, in order (validated so that this is finite)."""
        if self.type == "categorical":
            return list(self.choices)
        step = self.step if self.step is not None else 1
        n = int(round((self.high - self.low) / step)) + 1
        values = [self.low + i * step for i in range(n)]
        return [int(v) for v in values] if self.type == "int" else [float(v) for v in values]

    def table(self) -> dict:
        """The TOML entry of this parameter (defaults left out)."""
        if self.type == "categorical":
            return {"type": self.type, "choices": list(self.choices)}
        entry = {"type": self.type, "low": self.low, "high": self.high}
        if self.log:
            entry["log"] = True
        if self.step is not None:
            entry["step"] = self.step
        return entry


@dataclass(frozen=True)
class SweepConfig:
    """The ``[sweep]`` table, validated (see the module docstring for every field)."""

    space: tuple[Param, ...]
    name: str = "freqextract"
    metric: str = "validation.mse"
    direction: str = "minimize"
    n_trials: int = 20
    sampler: str = "tpe"
    seed: int = 0
    startup_trials: int = 5
    pruner: str = "median"
    prune_startup_trials: int = 4
    prune_warmup_steps: int = 0
    prune_threshold: float = 0.45
    heartbeat_interval: int = 60
    grace_period: int = 180

    @property
    def is_seed_study(self) -> bool:
        """True when the trials differ only in their training seeds (their spread is then a CI)."""
        return all(p.path in SEED_KEYS for p in self.space)

    def grid_points(self) -> Iterator[dict]:
        """Every point of the space as {key: value}, the first parameter varying slowest."""
        names = [p.path for p in self.space]
        for values in itertools.product(*(p.grid() for p in self.space)):
            yield dict(zip(names, values, strict=True))

    def grid_size(self) -> int:
        return math.prod(len(p.grid()) for p in self.space)


# ---------------------------------------------------------------------------------------------- parsing
def _typed(label: str, value, tp: type):
    ok = isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        raise UserError(f"{label}: expected {tp.__name__}, got {value!r}")
    return float(value) if tp is float else value


def _one_of(label: str, value, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise UserError(f"{label}: must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _check_in_config(base: RunConfig, path: str, value, label: str) -> None:
    """A value of the space must give a valid run config on its own."""
    try:
        trial_config(base, {path: value})
    except UserError as e:
        raise UserError(f"{label}: {value!r} makes an invalid run config ({e})") from None


def parse_param(path: str, entry, base: RunConfig) -> Param:
    """One ``[sweep.space."section.key"]`` entry, checked against the run config's field."""
    where = f'sweep.space."{path}"'
    types_ = field_types()
    if path not in types_:
        close = difflib.get_close_matches(path, types_, n=1)
        hint = (f"; did you mean {close[0]}?" if close
                else f" (section.key, section one of {', '.join(SECTIONS)})")
        raise UserError(f"{where}: not a key of the run config{hint}")
    if not isinstance(entry, dict):
        raise UserError(f"{where}: expected a table such as {{type = \"float\", low = 0.001, high = 0.01}}")
    allowed = {"type", "low", "high", "log", "step", "choices"}
    for key in entry:
        if key not in allowed:
            raise UserError(f"{where}.{key}: unknown field (known: {', '.join(sorted(allowed))})")
    kind = _one_of(f"{where}.type", entry.get("type"), PARAM_TYPES)
    field_tp = types_[path]
    if typing.get_origin(field_tp) is tuple:
        raise UserError(f"{where}: {path} holds a list; a sweep can vary only single values")
    if kind == "categorical":
        for key in ("low", "high", "log", "step"):
            if key in entry:
                raise UserError(f"{where}.{key}: not a field of a categorical parameter (use choices)")
        choices = entry.get("choices")
        if not isinstance(choices, list) or not choices:
            raise UserError(f"{where}.choices: expected a non-empty list, got {choices!r}")
        values = tuple(coerce_field(path, v, f"{where}.choices[{i}]") for i, v in enumerate(choices))
        if len(set(values)) != len(values):
            raise UserError(f"{where}.choices: the choices must be distinct")
        for i, v in enumerate(values):
            _check_in_config(base, path, v, f"{where}.choices[{i}]")
        return Param(path, kind, choices=values)

    want = float if kind == "float" else int
    if field_tp is not want:
        name = getattr(field_tp, "__name__", str(field_tp))
        hint = ' (use type = "categorical")' if field_tp in (str, bool) else f' (use type = "{name}")'
        raise UserError(f"{where}.type: {kind!r} does not fit {path}, a {name} field{hint}")
    if "choices" in entry:
        raise UserError(f"{where}.choices: only a categorical parameter has choices")
    for key in ("low", "high"):
        if key not in entry:
            raise UserError(f"{where}.{key}: missing (a {kind} parameter needs low and high)")
    low = _typed(f"{where}.low", entry["low"], want)
    high = _typed(f"{where}.high", entry["high"], want)
    log = _typed(f"{where}.log", entry.get("log", False), bool)
    step = _typed(f"{where}.step", entry["step"], want) if "step" in entry else None
    if low > high:
        raise UserError(f"{where}: low must be <= high, got low {low!r} > high {high!r}")
    if log and low <= 0:
        raise UserError(f"{where}.low: a log scale needs low > 0, got {low!r}")
    if step is not None:
        if log:
            raise UserError(f"{where}.step: not together with log = true")
        if step <= 0:
            raise UserError(f"{where}.step: must be > 0, got {step!r}")
        n = (high - low) / step
        if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
            raise UserError(f"{where}.step: high - low ({high - low!r}) must be a whole number of steps")
    for key, v in (("low", low), ("high", high)):
        _check_in_config(base, path, v, f"{where}.{key}")
    return Param(path, kind, low, high, log, step)


def parse_sweep(table, base: RunConfig) -> SweepConfig:
    """The ``[sweep]`` table (a dict from TOML) -> a validated :class:`SweepConfig`."""
    if not isinstance(table, dict):
        raise UserError(f"sweep: expected a table, got {table!r}")
    defaults = SweepConfig(space=())
    fields = {f.name: f for f in dataclasses.fields(SweepConfig)}
    for key in table:
        if key not in fields:
            raise UserError(f"sweep.{key}: unknown key (known: {', '.join(sorted(fields))})")
    space = table.get("space")
    if not isinstance(space, dict) or not space:
        raise UserError('sweep.space: needs at least one parameter, e.g. [sweep.space."train.lr"]')
    params = tuple(parse_param(path, entry, base) for path, entry in space.items())

    values: dict = {"space": params}
    for key, f in fields.items():
        if key == "space" or key not in table:
            continue
        values[key] = _typed(f"sweep.{key}", table[key], {"str": str, "int": int, "float": float}[f.type])
    values.setdefault("prune_warmup_steps", base.train.warmup_steps)
    sweep = dataclasses.replace(defaults, **values)

    if not sweep.name.strip():
        raise UserError("sweep.name: must not be empty")
    if not any(re.fullmatch(p, sweep.metric) for p in METRIC_PATTERNS):
        raise UserError(f"sweep.metric: unknown metric {sweep.metric!r} (e.g. validation.mse, test.mse, "
                        "multi_seed.mean, test.r2, training.seconds)")
    _one_of("sweep.direction", sweep.direction, ("minimize", "maximize"))
    _one_of("sweep.sampler", sweep.sampler, SAMPLERS)
    _one_of("sweep.pruner", sweep.pruner, PRUNERS)
    for key, low in (("n_trials", 1), ("startup_trials", 0), ("prune_startup_trials", 0), ("seed", 0),
                     ("prune_warmup_steps", 0)):
        if getattr(sweep, key) < low:
            raise UserError(f"sweep.{key}: must be >= {low}, got {getattr(sweep, key)}")
    if sweep.heartbeat_interval < 1:
        raise UserError(f"sweep.heartbeat_interval: must be >= 1 (seconds), got {sweep.heartbeat_interval}")
    if sweep.grace_period <= sweep.heartbeat_interval:
        raise UserError(f"sweep.grace_period: must be more than sweep.heartbeat_interval "
                        f"({sweep.heartbeat_interval} s; a few intervals), got {sweep.grace_period}")
    if sweep.pruner != "none" and sweep.direction == "maximize":
        raise UserError('sweep.pruner: pruning compares validation MSEs (lower is better); use '
                        'pruner = "none" with direction = "maximize"')
    if sweep.pruner == "threshold" and sweep.prune_threshold <= 0:
        raise UserError(f"sweep.prune_threshold: must be > 0, got {sweep.prune_threshold:g}")
    if sweep.sampler == "grid":
        for p in params:
            if p.type == "float" and p.step is None:
                raise UserError(f'sweep.space."{p.path}".step: the grid sampler needs a step for a float '
                                'range')
        if sweep.n_trials > sweep.grid_size():
            raise UserError(f"sweep.n_trials: {sweep.n_trials} is more than the {sweep.grid_size()} "
                            "points of the grid")
    return sweep


# ---------------------------------------------------------------------------------------------- files
def _merge(into: dict, data: dict) -> dict:
    """Table by table: the keys of ``data`` replace those of ``into`` (one level deep)."""
    for section, values in data.items():
        if isinstance(values, dict) and isinstance(into.get(section), dict):
            into[section] = {**into[section], **values}
        else:
            into[section] = values
    return into


def from_data(data: dict, source: str = "config") -> tuple[RunConfig, SweepConfig]:
    """Split a parsed sweep config into the base run config and the sweep (both validated)."""
    data = dict(data)
    table = data.pop("sweep", None)
    if table is None:
        raise UserError(f"{source}: no [sweep] table (see configs/sweep.toml for an example)")
    if not isinstance(data.get("train", {}), dict):
        raise UserError("train: expected a table")
    if "candidates" not in data.get("train", {}):  # one init per trial unless the config asks for more
        data["train"] = {**data.get("train", {}), "candidates": 1}
    base = from_dict(data)
    return base, parse_sweep(table, base)


def load(path: str | Path | None = None, overrides: Sequence[str] = (),
         preset: str | Path | None = None) -> tuple[RunConfig, SweepConfig]:
    """Defaults, then ``preset`` (a sweep design, e.g. ``multiseed``), then the config file, then ``--set``
    overrides (``sweep.key=value`` sets a key of the [sweep] table); validated."""
    data: dict = {}
    if preset is not None:
        _merge(data, load_toml(preset))
    if path is not None:
        _merge(data, load_toml(path))
    apply_overrides(data, overrides, sections=[*SECTIONS, "sweep"])
    source = str(path or preset or "config")
    return from_data(data, source)


def loads(text: str, source: str = "sweep config") -> tuple[RunConfig, SweepConfig]:
    """Parse the text :func:`dumps` wrote (e.g. the copy a study keeps for its workers)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{source}: invalid TOML ({e})") from None
    return from_data(data, source)


def dumps(base: RunConfig, sweep: SweepConfig) -> str:
    """TOML text of the whole sweep config (every default written out); :func:`loads` reads it back."""
    table = {f.name: getattr(sweep, f.name) for f in dataclasses.fields(SweepConfig) if f.name != "space"}
    parts = [run_dumps(base), toml_table("sweep", table)]
    parts += [toml_table(f'sweep.space."{p.path}"', p.table()) for p in sweep.space]
    return "\n".join(parts)


def trial_config(base: RunConfig, params: dict) -> RunConfig:
    """The base config with a trial's parameters (``section.key -> value``) set; validated."""
    data = to_dict(base)
    for path, value in params.items():
        section, key = path.split(".", 1)
        data[section][key] = value
    return from_dict(data)
