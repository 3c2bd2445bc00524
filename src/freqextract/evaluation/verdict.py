"""Whether a run met its scenario's target, with the numbers that decide it.

    spec, phase-scaled   test MSE <= 0.005 over all rows and <= 0.01 at every frequency
    offsets              test MSE <= 1.5 x the causal RLS and <= 1/4 of the causal band-pass, both on the
                         same test signal (the tuned references, rls-tuned and bandpass-tuned, where the run
                         has them: evaluation.references)
    anything else        no target: the verdict says so

:func:`verdict` reads a run's metrics.json dict and returns ``{"scenario", "met", "target", "numbers",
"text"}`` (``met`` None when there is no target, or its references are missing).
"""

from __future__ import annotations

from ..fmt import mse as fmt_mse

TARGET_OVERALL, TARGET_EACH = 0.005, 0.01
RLS_FACTOR, BANDPASS_FACTOR = 1.5, 0.25
ZERO_MSE = 0.5  # the score of answering 0 (the variance of a unit sine)


TUNED_FORM = {"rls-causal": "rls-tuned", "bandpass-causal": "bandpass-tuned"}  # evaluation.references.TUNED


def reference(baselines: dict, name: str) -> tuple[str, float] | None:
    """(name, MSE) of the reference ``name`` in a run's baselines, its tuned form first; None if absent."""
    for key in (TUNED_FORM.get(name, f"{name}-tuned"), name):
        if isinstance(baselines.get(key), dict) and "mse" in baselines[key]:
            return key, float(baselines[key]["mse"])
    return None


def verdict(metrics: dict) -> dict:
    scenario = metrics.get("scenario")
    test = metrics["test"]
    mse, per = float(test["mse"]), [float(v) for v in test["per_frequency_mse"]]
    freqs = metrics.get("frequencies") or list(range(1, len(per) + 1))
    met: bool | None = None
    if scenario in ("spec", "phase-scaled"):
        worst = max(range(len(per)), key=per.__getitem__)
        target = f"test MSE <= {TARGET_OVERALL:g} over all rows and <= {TARGET_EACH:g} at every frequency"
        met = mse <= TARGET_OVERALL and per[worst] <= TARGET_EACH
        numbers = f"test MSE {fmt_mse(mse)}, worst frequency {freqs[worst]:g} Hz at {fmt_mse(per[worst])}"
    elif scenario == "offsets":
        target = f"test MSE <= {RLS_FACTOR:g} x the causal RLS and <= {BANDPASS_FACTOR:g} x the causal band-pass"
        base = metrics.get("baselines") or {}
        rls, band = reference(base, "rls-causal"), reference(base, "bandpass-causal")
        if rls is None or band is None:
            numbers = f"test MSE {fmt_mse(mse)}; the run has no baselines to compare with (eval.baselines = false)"
        else:
            met = mse <= RLS_FACTOR * rls[1] and mse <= BANDPASS_FACTOR * band[1]
            numbers = (f"test MSE {fmt_mse(mse)} = {mse / rls[1]:.2f} x {rls[0]} ({fmt_mse(rls[1])}) and "
                       f"{mse / band[1]:.2f} x {band[0]} ({fmt_mse(band[1])})")
    else:
        target, numbers = "none for this scenario", f"test MSE {fmt_mse(mse)}"
    if mse >= ZERO_MSE:
        numbers += f": no better than answering 0 (MSE {ZERO_MSE:g})"
    word = {True: "target MET", False: "target MISSED", None: "no verdict"}[met]
    return {"scenario": scenario, "met": met, "target": target, "numbers": numbers,
            "text": f"verdict: {word} for scenario {scenario} (target: {target}): {numbers}"}
