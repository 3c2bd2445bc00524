"""Config of the programmable scenario: demod refused, and every field it adds range-checked by name."""

from __future__ import annotations

import pytest

from freqextract.config import from_dict, load
from freqextract.errors import UserError


def _prog(signal=None, model=None):
    return {"signal": {"scenario": "programmable", "band": [0.5, 10.0], **(signal or {})},
            "model": {"conditioning": "concat", **(model or {})}}


def test_bundled_config_is_valid_and_programmable():
    cfg = load("programmable")
    assert cfg.signal.scenario == "programmable" and cfg.model.conditioning in ("concat", "film")
    assert cfg.signal.band == (0.5, 10.0) and 2.5 in cfg.signal.heldout


@pytest.mark.parametrize("conditioning", ["concat", "film"])
def test_concat_and_film_are_accepted(conditioning):
    assert from_dict(_prog(model={"conditioning": conditioning})).model.conditioning == conditioning


def test_demod_is_refused_with_one_line_naming_the_field():
    with pytest.raises(UserError) as e:
        from_dict(_prog(model={"conditioning": "demod"}))
    msg = str(e.value)
    assert msg.startswith("model.conditioning:") and "\n" not in msg and "outside the network" in msg


@pytest.mark.parametrize("field, data", [
    ("signal.heldout[1]", _prog(signal={"heldout": [1.0, 12.0]})),
    ("signal.heldout[0]", _prog(signal={"heldout": [0.25]})),
    ("signal.heldout", _prog(signal={"heldout": [2.0, 2.0]})),
    ("signal.heldout_margin", _prog(signal={"heldout_margin": -0.1})),
    ("signal.heldout_margin", _prog(signal={"heldout": [2.0, 6.0], "heldout_margin": 5.0})),
    ("signal.band", _prog(signal={"band": [4.0, 2.0]})),
    ("signal.band", _prog(signal={"band": [0.5, 600.0]})),
    ("signal.phase_scale", _prog(signal={"phase_scale": 0.5})),
    ("signal.noise_sigma", _prog(signal={"noise_sigma": 0.1})),
    ("model.seq_len", _prog(model={"seq_len": 10})),
])
def test_bad_values_name_the_field(field, data):
    with pytest.raises(UserError) as e:
        from_dict(data)
    assert str(e.value).startswith(f"{field}:"), str(e.value)


def test_heldout_outside_the_band_is_only_checked_for_programmable():
    from_dict({"signal": {"heldout": [50.0]}})  # spec ignores it


def test_demod_stays_valid_for_mix():
    assert from_dict({"signal": {"scenario": "mix"}}).model.conditioning == "demod"
