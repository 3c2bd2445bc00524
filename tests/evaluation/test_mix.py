"""Evaluating a conditioned extractor: the NMSE and absent power, the references and their tuning."""

import numpy as np
import pytest

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.evaluation.mix import (
    GRIDS,
    evaluate_file,
    requests_for,
    rls_oracle_ref,
    rls_single_ref,
    score,
    time_edges,
    tune_references,
)
from freqextract.models.checkpoint import build_model
from freqextract.signals.scenarios import generate

SHORT = ["signal.duration=2.0", "model.hidden_size=8"]


def test_score_is_nmse_for_present_and_relative_power_for_absent():
    cfg = load("mix", SHORT)
    sig = generate(cfg.signal, 2)
    req = requests_for(sig, 2.0, band=cfg.signal.band)
    assert req.absent.sum() == 2 and (req.which[~req.absent] == np.arange(sig.n_freqs)).all()
    for f in req.frequencies[req.absent]:
        assert np.abs(sig.frequencies - f).min() >= 2.0
    perfect = np.stack([sig.targets[w] if w >= 0 else np.zeros(sig.n_samples) for w in req.which])
    s = score(perfect, sig, req)
    assert s["nmse"] == [0.0] * sig.n_freqs and s["absent_power"] == [0.0, 0.0]
    s = score(np.zeros_like(perfect), sig, req)
    assert np.allclose(s["nmse"], 1.0)
    assert requests_for(sig, 2.0, band=cfg.signal.band).frequencies.tolist() == req.frequencies.tolist()


def test_nmse_by_time_splits_each_requests_nmse_into_bins_since_the_reset():
    cfg = load("mix", SHORT)
    sig = generate(cfg.signal, 3)
    req = requests_for(sig, 2.0, band=cfg.signal.band)
    assert time_edges(sig) == [0.0, 0.25, 0.5, 1.0, 2.0]  # 2 s: the edges at and past the end dropped
    rng = np.random.default_rng(0)
    y = rng.normal(size=(len(req.frequencies), sig.n_samples))
    s = score(y, sig, req)
    assert len(s["nmse_by_time"]) == sig.n_freqs
    assert np.allclose(np.sum(s["nmse_by_time"], axis=1), s["nmse"])
    zero = score(np.zeros_like(y), sig, req)["nmse_by_time"]  # each bin holds its share of the target's energy
    shares = [[float((t[a:b] ** 2).sum() / (t ** 2).sum()) for a, b in ((0, 250), (250, 500), (500, 1000),
                                                                       (1000, 2000))] for t in sig.targets]
    assert np.allclose(zero, shares)
    late = np.where(np.arange(sig.n_samples) < 1000, sig.targets[np.maximum(req.which, 0)], 0.0)
    assert np.allclose(np.asarray(score(late, sig, req)["nmse_by_time"])[:, :3], 0.0)  # exact until 1 s


def test_the_oracle_beats_the_single_frequency_rls_on_a_clean_crowded_mixture():
    """Told every frequency, least squares separates components 1 Hz apart exactly once it has seen a
    few of their beats; told only one, the neighbours leak into it."""
    cfg = load("mix", ["signal.duration=4.0", "signal.mix_frequencies=[3.0, 4.0, 5.0]", "signal.phase_scale=0.0",
                       "signal.amplitude=[1.0, 1.0]"], signal_only=True)
    sig = generate(cfg.signal, 4)
    req = requests_for(sig, 2.0, n_absent=0)
    late = slice(2000, None)
    oracle = np.abs(rls_oracle_ref(sig, req, 1.0, 1.0)[:, late] - sig.targets[:, late]).max()
    single = np.abs(rls_single_ref(sig, req, 1.0, 1.0)[:, late] - sig.targets[:, late]).max()
    assert oracle < 1e-2 < 0.1 < single


def test_tuning_picks_the_best_grid_point(monkeypatch):
    import freqextract.evaluation.mix as em

    monkeypatch.setattr(em, "GRIDS", {**GRIDS, "rls-single-tuned": {"forgetting": [0.99, 1.0],
                                                                    "regularization": [1.0]}})
    cfg = load("mix", SHORT)
    sigs = [generate(cfg.signal, 1001 + i) for i in range(2)]
    tuned = tune_references(sigs, 2.0)
    got = tuned["rls-single-tuned"]
    scores = {lam: np.mean([np.mean(score(rls_single_ref(s, requests_for(s, 2.0, n_absent=0), lam, 1.0), s,
                                          requests_for(s, 2.0, n_absent=0))["nmse"]) for s in sigs])
              for lam in (0.99, 1.0)}
    assert got["params"]["forgetting"] == min(scores, key=scores.get)
    assert got["tuning_nmse"] == pytest.approx(min(scores.values()))
    assert tuned["bandpass-tuned"]["params"]["gain"] > 0


def test_tuning_seeds_never_overlap_held_out_ones():
    with pytest.raises(UserError, match="eval.tune_seed"):
        load("mix", ["eval.tune_seed=5"])


def test_a_file_outside_the_band_is_refused_and_another_rate_converts():
    cfg = load("mix", SHORT)
    model = build_model(cfg).eval()
    sig = generate(load("mix", [*SHORT, "signal.mix_frequencies=[2.0, 30.0]", "signal.band=[0.5, 40.0]"],
                        signal_only=True).signal, 3)
    with pytest.raises(UserError, match="outside the model's band 0.5 to 20 Hz"):
        evaluate_file(model, cfg, sig, "f.npz")
    m = evaluate_file(model, cfg, generate(cfg.signal, 3), "g.npz")
    assert len(m["per_request_nmse"]) == len(m["frequencies"]) and len(m["absent_power"]) == 2
