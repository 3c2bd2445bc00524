"""What a trained model is: its card, kept in the checkpoint, metrics.json and the ONNX sidecar.

A card records the scenario the model was trained on and what its own S ablation found (docs/method.md):
with S shuffled in time (same values, order destroyed) a model that does not read S keeps its test MSE,
one that reads S loses it. From that the card names the model's role:

    clock     ignores its input S and generates each sine from the reset at t = 0 (the spec's winner);
              it extracts nothing from a signal whose phases differ from the sines it was trained on
    tracker   reads its input S and extracts each component from it
    unknown   a checkpoint written before cards existed: only the scenario of its config is known

    {"scenario": "spec", "role": "clock", "test_mse": 0.00066, "test_mse_S_shuffled": 0.00072,
     "test_mse_S_zeroed": 0.0026}

Plain data only (a checkpoint is loaded weights-only); nothing here runs a model.
"""

from __future__ import annotations

from ..fmt import mse as fmt_mse

CLOCK, TRACKER, UNKNOWN = "clock", "tracker", "unknown"
# S counts as read when shuffling it raises the test MSE by more than half of it plus this much
READS_S_MARGIN = 0.01
UNLEARNED_MSE = 0.1  # a model that ignores S and scores this or worse has learned no clock either


def make_card(scenario: str, test_mse: float, ablation: dict, init: str | None = None) -> dict:
    """The card of a model trained on ``scenario``, from its test MSE and its S ablation
    (``evaluation.metrics.ablations``: ``test_mse_S_shuffled``, ``test_mse_S_zeroed``). ``init = "rotation"``
    is recorded: such a model's oscillators were planted, not learned."""
    shuffled = float(ablation["test_mse_S_shuffled"])
    reads = shuffled > 1.5 * float(test_mse) + READS_S_MARGIN
    card = {"scenario": scenario, "role": TRACKER if reads else CLOCK, "test_mse": float(test_mse),
            "test_mse_S_shuffled": shuffled, "test_mse_S_zeroed": float(ablation["test_mse_S_zeroed"])}
    if init == "rotation":
        card["init"] = init
    return card


def unknown_card(scenario: str | None) -> dict:
    """The card of a model whose checkpoint has none: only its scenario is known."""
    return {"scenario": scenario or UNKNOWN, "role": UNKNOWN}


def card_of(ckpt: dict, scenario: str | None = None) -> dict:
    """The card a checkpoint dict holds (``extra.card``), else an unknown one for ``scenario``."""
    card = (ckpt.get("extra") or {}).get("card")
    if isinstance(card, dict) and card.get("role") in (CLOCK, TRACKER):
        return card
    return unknown_card(scenario)


def describe(card: dict) -> str:
    """One line saying what the model does, e.g. for the spec model: ``a clock trained on scenario spec:
    it ignores its input S (...) and generates each sine from the reset at t = 0``."""
    scenario, role = card.get("scenario", UNKNOWN), card.get("role", UNKNOWN)
    if card.get("kind") == "conditioned" and role in (CLOCK, TRACKER):
        lo, hi = card["band_hz"]
        reads = "it reads its input S and extracts" if role == TRACKER else "it does NOT read its input S:"
        return (f"model: a general extractor trained on scenario {scenario}: told each frequency as a number (any "
                f"in {lo:g}..{hi:g} Hz at fs {card['fs']:g} Hz, scaled for other rates), {reads} that component "
                f"(NMSE {card['test_mse']:.4f}, with S shuffled in time {card['test_mse_S_shuffled']:.4f})")
    if card.get("kind") == "programmable" and role in (CLOCK, TRACKER):
        lo, hi = card["band_hz"]
        return (f"model: a programmable oscillator trained on scenario {scenario}: told a frequency as a number "
                f"(any in {lo:g}..{hi:g} Hz at fs {card['fs']:g} Hz), it answers sin(2 pi f t) from the reset "
                f"(MSE at the held-out frequencies {fmt_mse(card['test_mse'])}, with S shuffled in time "
                f"{fmt_mse(card['test_mse_S_shuffled'])})")
    if role == CLOCK and card["test_mse"] >= UNLEARNED_MSE:
        return (f"model: trained on scenario {scenario}, it ignores its input S (test MSE "
                f"{fmt_mse(card['test_mse'])}, with S shuffled in time {fmt_mse(card['test_mse_S_shuffled'])}) and has "
                "not learned the sines: it extracts nothing")
    if role == CLOCK:
        made = ("a clock planted at init (model.init = rotation) and polished on scenario" if card.get("init")
                == "rotation" else "a clock trained on scenario")
        return (f"model: {made} {scenario}: it ignores its input S (test MSE "
                f"{fmt_mse(card['test_mse'])}, with S shuffled in time {fmt_mse(card['test_mse_S_shuffled'])}) and "
                "generates each sine from the reset at t = 0; it does not extract a component from a "
                "signal whose phases differ from its training data's")
    if role == TRACKER:
        return (f"model: a tracker trained on scenario {scenario}: it reads its input S and extracts each "
                f"component from it (test MSE {fmt_mse(card['test_mse'])}, with S shuffled in time "
                f"{fmt_mse(card['test_mse_S_shuffled'])})")
    return (f"model: trained on scenario {scenario}; whether it reads its input S is unknown (a checkpoint "
            "without a model card: written by an older version)")


def scenario_warning(card: dict, data_scenario: str | None, data_name: str) -> str | None:
    """A warning when data of another scenario than the model's is run through it (None: same, or unknown)."""
    model = card.get("scenario", UNKNOWN)
    if not data_scenario or model == UNKNOWN or data_scenario == model:
        return None
    what = {CLOCK: ": a clock ignores S, so its outputs follow its training data's phases, not this data's",
            TRACKER: ""}.get(card.get("role"), "")
    return (f"warning: the model was trained on scenario {model}, {data_name} is scenario {data_scenario}"
            f"{what}")
