"""Sweep configs: the [sweep] table, strict validation of the search space, round trip, presets."""

from __future__ import annotations

import tomllib

import pytest
from conftest import TINY_SWEEP

from freqextract.config import RunConfig, from_dict, load
from freqextract.errors import UserError
from freqextract.studies.sweep_config import Param, dumps, from_data, loads, parse_sweep, trial_config
from freqextract.studies.sweep_config import load as load_sweep


def space(**entries) -> dict:
    """A [sweep] table over ``entries`` (keys with __ for the dot: train__lr -> train.lr)."""
    return {"space": {k.replace("__", "."): v for k, v in entries.items()}}


LR = {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}


def test_tiny_config_parses_with_defaults():
    base, sweep = from_data(tomllib.loads(TINY_SWEEP))
    assert base.signal.duration == 1.0 and base.train.candidates == 1  # one init per trial by default
    assert sweep.name == "tiny" and sweep.metric == "validation.mse" and sweep.direction == "minimize"
    assert [p.path for p in sweep.space] == ["train.lr", "model.hidden_size"]
    assert sweep.space[1].choices == (4, 8)
    assert sweep.prune_warmup_steps == base.train.warmup_steps  # no pruning during the warm-up


def test_round_trip_through_toml():
    base, sweep = from_data(tomllib.loads(TINY_SWEEP))
    assert loads(dumps(base, sweep)) == (base, sweep)


def test_config_that_sets_candidates_keeps_them():
    data = {"train": {"candidates": 2}, "sweep": space(train__lr=LR)}
    assert from_data(data)[0].train.candidates == 2


# (space entry or sweep keys, the start of the one-line message)
BAD_SPACE = [
    (space(train__lrx=LR), 'sweep.space."train.lrx": not a key of the run config; did you mean train.lr?'),
    (space(nothing__here=LR), 'sweep.space."nothing.here": not a key of the run config'),
    (space(train__lr={**LR, "low": 0.1, "high": 0.01}), 'sweep.space."train.lr": low must be <= high'),
    (space(train__lr={"type": "int", "low": 1, "high": 2}), 'sweep.space."train.lr".type: \'int\' does not'),
    (space(train__lr={"type": "uniform", "low": 1, "high": 2}), 'sweep.space."train.lr".type: must be one'),
    (space(train__lr={"type": "float", "high": 2.0}), 'sweep.space."train.lr".low: missing'),
    (space(train__lr={**LR, "low": "small"}), 'sweep.space."train.lr".low: expected float'),
    (space(train__lr={**LR, "low": -1.0, "log": False}), 'sweep.space."train.lr".low: -1.0 makes an invalid'),
    (space(train__lr={**LR, "low": 0.0, "log": True}), 'sweep.space."train.lr".low: a log scale needs'),
    (space(train__lr={**LR, "step": 0.001}), 'sweep.space."train.lr".step: not together with log'),
    (space(train__lr={**LR, "colour": "red"}), 'sweep.space."train.lr".colour: unknown field'),
    (space(train__lr=[1e-3, 1e-2]), 'sweep.space."train.lr": expected a table'),
    (space(train__warmup_steps={"type": "int", "low": 1.5, "high": 3}),
     'sweep.space."train.warmup_steps".low: expected int'),
    (space(train__warmup_steps={"type": "int", "low": 10, "high": 25, "step": 10}),
     'sweep.space."train.warmup_steps".step: high - low'),
    (space(model__init={"type": "categorical", "choices": ["default", "xavier"]}),
     'sweep.space."model.init".choices[1]: \'xavier\' makes an invalid run config (model.init:'),
    (space(model__init={"type": "categorical", "choices": []}), 'sweep.space."model.init".choices: expected'),
    (space(model__hidden_size={"type": "categorical", "choices": [8, 8]}),
     'sweep.space."model.hidden_size".choices: the choices must be distinct'),
    (space(model__hidden_size={"type": "categorical", "choices": [8, "big"]}),
     'sweep.space."model.hidden_size".choices[1]: expected an integer'),
    (space(model__hidden_size={"type": "categorical", "choices": [8], "low": 1}),
     'sweep.space."model.hidden_size".low: not a field of a categorical'),
    (space(model__init={"type": "float", "low": 1.0, "high": 2.0}), 'sweep.space."model.init".type:'),
    (space(signal__frequencies={"type": "categorical", "choices": [[1.0, 3.0]]}),
     'sweep.space."signal.frequencies": signal.frequencies holds a list'),
    ({"space": {}}, "sweep.space: needs at least one parameter"),
    ({}, "sweep.space: needs at least one parameter"),
    ({**space(train__lr=LR), "trials": 3}, "sweep.trials: unknown key"),
    ({**space(train__lr=LR), "n_trials": 0}, "sweep.n_trials: must be >= 1"),
    ({**space(train__lr=LR), "n_trials": "many"}, "sweep.n_trials: expected int"),
    ({**space(train__lr=LR), "metric": "test.accuracy"}, "sweep.metric: unknown metric"),
    ({**space(train__lr=LR), "direction": "down"}, "sweep.direction: must be one of"),
    ({**space(train__lr=LR), "sampler": "cmaes"}, "sweep.sampler: must be one of"),
    ({**space(train__lr=LR), "pruner": "hyperband"}, "sweep.pruner: must be one of"),
    ({**space(train__lr=LR), "direction": "maximize", "metric": "test.r2"}, "sweep.pruner: pruning compares"),
    ({**space(train__lr=LR), "pruner": "threshold", "prune_threshold": 0.0}, "sweep.prune_threshold: must"),
    ({**space(train__lr=LR), "heartbeat_interval": 0}, "sweep.heartbeat_interval: must be >= 1"),
    ({**space(train__lr=LR), "heartbeat_interval": 30, "grace_period": 30}, "sweep.grace_period: must be more"),
    ({**space(train__lr=LR), "seed": -1}, "sweep.seed: must be >= 0"),
    ({**space(train__lr=LR), "name": " "}, "sweep.name: must not be empty"),
    ({**space(train__lr=LR), "sampler": "grid"}, 'sweep.space."train.lr".step: the grid sampler needs'),
    ({**space(train__seed={"type": "int", "low": 0, "high": 2}), "sampler": "grid", "n_trials": 4},
     "sweep.n_trials: 4 is more than the 3 points of the grid"),
]


@pytest.mark.parametrize("table, message", BAD_SPACE, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in
                                                             enumerate(BAD_SPACE)])
def test_bad_sweep_names_the_field(table, message):
    with pytest.raises(UserError) as info:
        parse_sweep(table, RunConfig())
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_sweep_table_must_be_there_and_a_table():
    with pytest.raises(UserError, match=r"^config: no \[sweep\] table"):
        from_data({"train": {"lr": 0.001}})
    with pytest.raises(UserError, match=r"^sweep: expected a table"):
        from_data({"sweep": 3})


def test_run_commands_refuse_a_sweep_table_naming_the_command(tiny_sweep):
    with pytest.raises(UserError, match=r"^sweep: this table is read by `freqextract sweep`"):
        load(tiny_sweep)
    with pytest.raises(UserError, match=r"^sweep: "):
        from_dict({"sweep": {}})


def test_overrides_reach_both_parts(tiny_sweep):
    base, sweep = load_sweep(tiny_sweep, ["train.lr_floor=0.5", "sweep.n_trials=7", 'sweep.pruner="median"'])
    assert base.train.lr_floor == 0.5 and sweep.n_trials == 7 and sweep.pruner == "median"
    with pytest.raises(UserError, match=r"^--set swep.n_trials=3: unknown section"):
        load_sweep(tiny_sweep, ["swep.n_trials=3"])


def test_multiseed_preset_under_a_config():
    base, sweep = load_sweep(None, preset="multiseed")
    assert base.signal == RunConfig().signal and base.train.candidates == 2  # the default run, 2 inits
    assert sweep.sampler == "grid" and sweep.pruner == "none" and sweep.is_seed_study
    quick, sweep_q = load_sweep("quick", ["sweep.n_trials=3"], preset="multiseed")
    assert quick.signal.duration == 1.0 and quick.train.candidates == 1  # the config file wins
    assert [p["train.seed"] for p in sweep_q.grid_points()][:3] == [0, 1, 2]


def test_grid_enumerates_in_order_first_parameter_slowest():
    sweep = parse_sweep({**space(model__hidden_size={"type": "categorical", "choices": [8, 16]},
                                 train__lr={"type": "float", "low": 0.001, "high": 0.003, "step": 0.001}),
                         "sampler": "grid", "n_trials": 6}, RunConfig())
    points = list(sweep.grid_points())
    assert sweep.grid_size() == 6 and len(points) == 6
    assert [p["model.hidden_size"] for p in points] == [8, 8, 8, 16, 16, 16]
    assert points[:3] == [{"model.hidden_size": 8, "train.lr": pytest.approx(v)}
                          for v in (0.001, 0.002, 0.003)]
    assert not sweep.is_seed_study


def test_trial_config_sets_the_keys_and_validates():
    cfg = trial_config(RunConfig(), {"train.lr": 0.002, "model.hidden_size": 32})
    assert cfg.train.lr == 0.002 and cfg.model.hidden_size == 32 and cfg.signal == RunConfig().signal
    with pytest.raises(UserError, match="model.seq_len"):  # a combination the ranges alone cannot rule out
        trial_config(RunConfig(), {"model.seq_len": 7})


def test_param_table_round_trip():
    p = Param("train.warmup_steps", "int", 100, 300, step=100)
    assert p.grid() == [100, 200, 300]
    assert p.table() == {"type": "int", "low": 100, "high": 300, "step": 100}
