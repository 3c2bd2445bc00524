"""The model card: clock or tracker from the model's own S ablation, and the lines that say it."""

from __future__ import annotations

from freqextract.models.card import card_of, describe, make_card, scenario_warning, unknown_card

SPEC_CLOCK = make_card("spec", 0.00066, {"test_mse_S_shuffled": 0.00072, "test_mse_S_zeroed": 0.0026})
OFFSETS_TRACKER = make_card("offsets", 0.0063, {"test_mse_S_shuffled": 1.02, "test_mse_S_zeroed": 0.98})


def test_the_ablation_decides_the_role():
    assert SPEC_CLOCK["role"] == "clock" and OFFSETS_TRACKER["role"] == "tracker"
    # zeroing S may nudge a clock (a constant input it never saw): only the shuffled ablation decides
    assert make_card("spec", 0.001, {"test_mse_S_shuffled": 0.001, "test_mse_S_zeroed": 0.3})["role"] == "clock"
    assert SPEC_CLOCK["test_mse_S_zeroed"] == 0.0026 and OFFSETS_TRACKER["scenario"] == "offsets"


def test_one_line_each():
    clock, tracker = describe(SPEC_CLOCK), describe(OFFSETS_TRACKER)
    assert clock.startswith("model: a clock trained on scenario spec: it ignores its input S (test MSE 0.00066, "
                            "with S shuffled in time 0.00072) and generates each sine from the reset at t = 0")
    assert tracker.startswith("model: a tracker trained on scenario offsets: it reads its input S")
    unlearned = make_card("spec", 0.69, {"test_mse_S_shuffled": 0.69, "test_mse_S_zeroed": 0.69})
    assert "has not learned the sines" in describe(unlearned)
    assert all("\n" not in line for line in (clock, tracker, describe(unknown_card("spec"))))


def test_a_planted_clock_says_it_was_planted():
    ablation = {"test_mse_S_shuffled": 0.00004, "test_mse_S_zeroed": 0.00004}
    planted = make_card("spec", 0.00004, ablation, init="rotation")
    assert planted["init"] == "rotation" and "init" not in make_card("spec", 0.00004, ablation, init="forget-bias")
    assert describe(planted).startswith("model: a clock planted at init (model.init = rotation) and polished on "
                                        "scenario spec: it ignores its input S")


def test_a_checkpoint_without_a_card_is_unknown():
    assert card_of({"extra": {}}, "spec") == {"scenario": "spec", "role": "unknown"}
    assert card_of({}, None) == {"scenario": "unknown", "role": "unknown"}
    assert card_of({"extra": {"card": SPEC_CLOCK}}) == SPEC_CLOCK
    assert "unknown" in describe(card_of({}, "spec"))


def test_a_warning_names_both_scenarios_only_when_they_differ():
    warning = scenario_warning(SPEC_CLOCK, "offsets", "off.npz")
    assert warning.startswith("warning: the model was trained on scenario spec, off.npz is scenario offsets")
    assert "a clock ignores S" in warning
    assert scenario_warning(SPEC_CLOCK, "spec", "x.npz") is None
    assert scenario_warning(SPEC_CLOCK, None, "x.csv") is None  # a file that does not say
    assert "offsets, x.npz is scenario spec" in scenario_warning(OFFSETS_TRACKER, "spec", "x.npz")
    assert scenario_warning(unknown_card(None), "spec", "x.npz") is None
