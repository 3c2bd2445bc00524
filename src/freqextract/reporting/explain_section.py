"""The report's section "Inside the model": the explanation's figures, its table and what they mean.

Drawn from a run directory's explain.json and explain.npz (:mod:`freqextract.evaluation.explain_files`);
a run without them (an older run, a mix run) has no section.
"""

from __future__ import annotations

from pathlib import Path

from ..evaluation import explain_files
from . import explain_plots
from .html import esc, img, num, table


def draw(run_dir: str | Path, data: dict, arrays: dict) -> list[tuple[Path, str]]:
    """Draw figures/explain_rings.png and figures/explain_drift.png; returns (path, caption) pairs."""
    figs = Path(run_dir) / "figures"
    freqs = data["frequencies"]
    trained, seconds = data.get("trained_seconds", 10.0), data.get("seconds", 60.0)
    return [
        (explain_plots.rings(figs / "explain_rings.png", arrays["pca"], arrays["pca_time"], freqs,
                             data["pca"]["explained_variance_ratio"]),
         "The hidden state h of the LSTM for each selector, S = 0, over the trained horizon after the first "
         "moments, projected on its first two principal components and coloured by the phase of the target "
         "sine. A ring run round once per period is an oscillator."),
        (explain_plots.drift(figs / "explain_drift.png", arrays["time"], arrays["phase_error"],
                             arrays["phase_error_noise"], freqs, trained, seconds),
         f"Phase of the output minus phase of the target, free running from the reset for {seconds:g} s, with "
         f"S = 0 (solid) and with the scenario's noisy S (dashed); shaded: the {trained:g} s the model was "
         "trained on. Sinusoids at the known frequency fitted in one-period windows."),
    ]


def rows(data: dict) -> list[list[str]]:
    """One table row per selector: target, free-running frequency, ppm (whole run, trained horizon, with
    the noisy S), drift, amplitude, the linearisation's frequency and largest Floquet multipliers."""
    first, lin, noisy = data.get("first_10s") or {}, data.get("linearised") or {}, data.get("with_noise") or {}
    out = []
    for k, f in enumerate(data["frequencies"]):
        def at(d, key, k=k):
            v = d.get(key)
            return v[k] if isinstance(v, list) and k < len(v) else None

        floq = at(lin, "floquet_moduli") or []
        out.append([f"{f:g}", num(at(data, "free_running_hz"), 6, sci=False),
                    num(at(data, "ppm_error"), 1, True, False), num(at(first, "ppm_error"), 1, True, False),
                    num(at(noisy, "ppm_error"), 1, True, False),
                    num(at(data, "drift_rad_per_s"), 5, True),
                    num(at(data, "amplitude"), 3, sci=False), num(at(lin, "pair_hz"), 3, sci=False),
                    esc(", ".join(f"{m:.3f}" for m in floq[:3]) or "–")])
    return out


def section(run_dir: str | Path) -> str:
    """The HTML of the section, its figures redrawn; "" where the run has no explanation."""
    found = explain_files.load(run_dir)
    if found is None:
        return ""
    data, arrays = found
    figures = draw(run_dir, data, arrays) if arrays is not None else []
    seconds, trained = data.get("seconds", 60.0), data.get("trained_seconds", 10.0)
    head = ["selector (Hz)", "free-running (Hz)", f"ppm over {seconds:g} s", f"ppm over the first {trained:g} s",
            "ppm with noisy S",
            "phase drift (rad/s)", "amplitude", "linearised (Hz)", "largest Floquet multipliers"]
    return ("<h2 id='inside'>Inside the model</h2>"
            "<p class='note'>The model is run from the reset with S = 0 for each selector, well past the "
            f"{trained:g} s it was trained on (<code>freqextract explain</code>). A ring in the hidden state "
            "means it runs round a closed orbit once per period: the network has become an oscillator, one "
            "per selector. The ppm error says how fast its phase drifts away from the target's once past the "
            "trained horizon (1000 ppm of 1 Hz is 0.36° per second). The Floquet multipliers are the "
            "stability of the orbit: one near 1 (the phase, free to drift) and the rest below 1 "
            "(disturbances of the amplitude die out); the linearised frequency is the angle of the "
            "one-step Jacobian's eigenvalue pair averaged over a period, only an approximation for a "
            "nonlinear oscillator.</p>"
            + table(head, rows(data), table_id="inside-table")
            + "".join(img(p, cap) for p, cap in figures))
