"""The training schedule and the loss weighting: properties that make the curriculum safe."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import freqextract.training.candidates as candidates_mod
from freqextract.config import load
from freqextract.errors import Diverged
from freqextract.training import resume
from freqextract.training.candidates import candidate_seeds, train_best_of
from freqextract.training.curriculum import Curriculum, focus_loss, schedule
from freqextract.training.loop import fused_window, train


@settings(max_examples=40, deadline=None)
@given(warm=st.integers(1, 300), grow=st.integers(0, 300), final=st.integers(0, 50),
       h0=st.integers(1, 1000), lr=st.floats(1e-5, 1e-1), floor=st.floats(1e-3, 1.0))
def test_schedule_shape_and_monotone(warm, grow, final, h0, lr, floor):
    cfg = load(None, [f"train.warmup_steps={warm}", f"train.growth_steps={grow}", f"train.final_steps={final}",
                      f"train.warmup_horizon={h0}", f"train.lr={lr}", f"train.lr_floor={floor}"])
    plan = schedule(cfg)
    assert len(plan) == warm + grow + final
    horizons = [h for _, h, _ in plan]
    lrs = [r for _, _, r in plan]
    assert horizons[0] == h0 and all(1 <= h <= 10_000 for h in horizons)
    assert all(b >= a for a, b in zip(horizons, horizons[1:], strict=False)), "horizon never shrinks"
    assert all(b <= a * (1 + 1e-12) for a, b in zip(lrs, lrs[1:], strict=False)), "learning rate never jumps up"
    assert lrs[0] == pytest.approx(lr)
    if grow or final:
        assert horizons[-1] == 10_000
    assert [p for p, _, _ in plan] == ["warm-up"] * warm + ["growth"] * grow + ["final"] * final


@pytest.mark.parametrize("loss, extra, growth", [(0.0, 0, 50), (0.005, 40, 50), (1.0, 40, 100)])
def test_gates_hold_the_plan_back_but_within_bounds(loss, extra, growth):
    """Losses above the warm-up gate extend the warm-up; above the growth gate they slow the growth,
    never past max_steps."""
    cfg = load(None, ["train.warmup_steps=20", "train.growth_steps=50", "train.final_steps=5",
                      "train.warmup_extra=40", "train.growth_max_factor=2.0", "train.loss_ema=0",
                      "train.restart_gate=0"])
    plan = schedule(cfg, losses=[loss] * 4)
    phases = [p for p, _, _ in plan]
    assert phases.count("warm-up") == 20 + extra
    assert phases.count("growth") == growth
    assert phases.count("final") == 5 and len(plan) <= cfg.train.max_steps
    assert plan[-1][1] == 10_000
    lrs = [r for _, _, r in plan]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(lrs, lrs[1:], strict=False))


@pytest.mark.parametrize("loss, restarts", [(0.01, 0), (0.05, 2), (0.3, 2)])
def test_a_warm_up_that_leaves_a_frequency_behind_starts_over(loss, restarts):
    """A frequency still above restart_gate when the warm-up ends asks for a fresh init and a new warm-up,
    at most max_restarts times; then training goes on whatever the loss."""
    cfg = load(None, ["train.warmup_steps=20", "train.growth_steps=10", "train.final_steps=5",
                      "train.warmup_extra=15", "train.loss_ema=0", "train.restart_gate=0.05", "train.max_restarts=2",
                      "train.growth_gate=0"])
    cur = Curriculum(cfg)
    requests = []
    while cur.next() is not None:
        cur.update([0.001, 0.001, loss, 0.001])
        if cur.restart_pending:
            requests.append(cur.step)
            cur.restart_pending = False
    assert cur.restarts == restarts and len(requests) == restarts
    assert requests == [35 * (i + 1) for i in range(restarts)], "each warm-up runs its full length first"
    assert cur.step == 35 * (restarts + 1) + 10 + 5 <= cfg.train.max_steps


def test_growth_lr_power_sets_how_fast_the_lr_falls_with_the_horizon():
    for power in (0.0, 0.5, 1.0):
        cfg = load(None, ["train.warmup_steps=5", "train.growth_steps=20", "train.final_steps=1",
                          "train.lr=0.01", "train.lr_floor=0.1", f"train.growth_lr_power={power}"])
        growth = [(h, lr) for phase, h, lr in schedule(cfg) if phase == "growth"]
        for h, lr in growth:
            assert lr == pytest.approx(1e-3 * (1000 / h) ** power)


def test_schedule_windows_tile_the_horizon_for_sequence_models():
    cfg = load(None, ["model.seq_len=50", "train.warmup_steps=5", "train.growth_steps=40", "train.final_steps=2"])
    assert all(h % 50 == 0 for _, h, _ in schedule(cfg))


def test_focus_loss():
    losses = torch.tensor([0.1, 0.1, 0.1, 0.1], requires_grad=True)
    assert focus_loss(losses, 1.0).item() == pytest.approx(0.1)
    lag = torch.tensor([0.001, 0.001, 0.001, 0.4], requires_grad=True)
    assert focus_loss(lag, 0.0).item() == pytest.approx(lag.mean().item())
    focus_loss(lag, 1.0).backward()
    g = lag.grad
    assert g[3] > 100 * g[0], "the lagging frequency gets the larger share of the gradient"
    assert g[0] > 0


def test_best_of_candidates_parallel_equals_sequential():
    """Candidates trained in worker processes give exactly what they give in this process; the kept one
    has the lowest validation MSE."""
    short = ["train.warmup_steps=12", "train.growth_steps=4", "train.final_steps=2", "train.candidates=2"]
    seq, seq_summ, _ = train_best_of(load("quick", [*short, "train.workers=1"]), progress=False)
    par, par_summ, models = train_best_of(load("quick", [*short, "train.workers=2"]), progress=False)
    assert [c["seed"] for c in par_summ] == candidate_seeds(load("quick", short)) == [0, 1]
    assert [c["val_mse"] for c in par_summ] == [c["val_mse"] for c in seq_summ]
    assert sum(c["kept"] for c in par_summ) == 1 and len(models) == 2
    kept = next(c for c in par_summ if c["kept"])
    assert kept["val_mse"] == min(c["val_mse"] for c in par_summ)
    for a, b in zip(seq.model.state_dict().values(), par.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_candidate_seeds_never_overlap_between_base_seeds():
    seen = set()
    for base in range(5):
        seeds = candidate_seeds(load(None, [f"train.seed={base}", "train.candidates=3"]))
        assert len(seeds) == 3 and not seen & set(seeds)
        seen |= set(seeds)


# ---------------------------------------------------------------------------------------------- divergence
def _poisoned(at_call: int, how: str):
    """A window function that misbehaves on its ``at_call``-th call (one call per step here):
    ``nan`` makes the loss NaN, ``inf-grad`` keeps the loss finite but makes the gradient infinite."""
    calls = {"n": 0}

    def window(model, x, target, state):
        err, state = fused_window(model, x, target, state)
        calls["n"] += 1
        if calls["n"] == at_call:
            err = err * float("nan") if how == "nan" else err + torch.sqrt(err - err.detach())
        return err, state

    return window


@pytest.mark.parametrize("how, reason", [("nan", "loss became nan"), ("inf-grad", "gradient norm became")])
def test_divergence_stops_training_and_keeps_the_last_good_state(tmp_path, how, reason):
    cfg = load("quick", ["train.checkpoint_every=5"])
    path = tmp_path / "resume-0.pt"
    with pytest.raises(Diverged) as info:
        train(cfg, progress=False, state_path=path, window_fn=_poisoned(23, how))
    e = info.value
    assert e.step == 23 and e.seed == 0 and e.reason.startswith(reason), e.reason
    assert str(e).startswith("training diverged at step 23 (candidate seed 0): ") and "\n" not in str(e)
    state = resume.load(path, cfg)
    assert state["step"] == 20 and not state["done"]
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values())
    # the kept state is the good one: resuming from it without the fault ends where a clean run ends
    clean = train(cfg, progress=False)
    again = train(cfg, progress=False, state_path=path)
    assert again.resumed_from == 20
    for a, b in zip(clean.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_exploding_gradient_is_divergence_unless_the_guard_is_off():
    with pytest.raises(Diverged, match="exceeded train.max_grad_norm = 1e\\+06"):
        train(load("quick", ["train.lr=10"]), progress=False)
    with pytest.raises(Diverged, match="exceeded train.max_grad_norm = 0.5"):
        train(load("quick", ["train.max_grad_norm=0.5"]), progress=False)
    res = train(load("quick", ["train.max_grad_norm=0", "train.warmup_steps=5", "train.growth_steps=0",
                               "train.final_steps=0"]), progress=False)
    assert res.steps == 5


def test_a_diverged_candidate_is_left_out_and_all_diverged_raises(monkeypatch):
    cfg = load("quick", ["train.candidates=2", "train.workers=1", "train.warmup_steps=12",
                         "train.growth_steps=4", "train.final_steps=2"])
    real = candidates_mod.train

    def second_diverges(c, **kw):
        if c.train.seed == 1:
            kw["window_fn"] = _poisoned(7, "nan")
        return real(c, **kw)

    monkeypatch.setattr(candidates_mod, "train", second_diverges)
    said = []
    res, summ, models = train_best_of(cfg, progress=False, echo=said.append)
    assert summ[1]["diverged"] == {"seed": 1, "step": 7, "reason": "loss became nan"} and models[1] is None
    assert summ[0]["kept"] and not summ[1]["kept"] and res.model is models[0]
    assert any("candidate seed 1: diverged at step 7" in s for s in said)

    def both_diverge(c, **kw):
        return real(c, **{**kw, "window_fn": _poisoned(3, "nan")})

    monkeypatch.setattr(candidates_mod, "train", both_diverge)
    with pytest.raises(Diverged) as info:
        train_best_of(cfg, progress=False)
    assert [c["seed"] for c in info.value.candidates] == [0, 1] and info.value.step == 3
    assert "1 more candidate(s) diverged too" in str(info.value)


def test_on_log_sees_every_record_and_can_stop_training():
    class Stop(Exception):
        pass

    seen = []

    def hook(rec):
        seen.append((rec["step"], rec["val_mse"]))
        if rec["step"] >= 20:
            raise Stop

    with pytest.raises(Stop):  # what a sweep's pruner does to a hopeless trial
        train_best_of(load("quick"), on_log=hook)
    assert [s for s, _ in seen] == [1, 10, 20] and all(0 < v < 2 for _, v in seen)
    with pytest.raises(ValueError, match="candidates"):  # records of two inits would interleave
        train_best_of(load("quick", ["train.candidates=2"]), on_log=hook)


def test_offsets_training_draws_a_fresh_theta_every_step(monkeypatch):
    """On `offsets` every optimiser step sees sequences with their own phases: nothing to memorise, the
    model must read S. (Under the spec the targets of every step are the same clock.)"""
    import freqextract.training.batches as batches
    import freqextract.training.loop as tr

    seen = []

    def spy(cfg, rng, n_seq, n_samples):
        S, targets = real(cfg, rng, n_seq, n_samples)
        seen.append(targets[..., 0].copy())  # sin(theta) of each sequence and frequency at t = 0
        return S, targets

    real = batches.draw
    monkeypatch.setattr(batches, "draw", spy)
    quick = ["signal.duration=1.0", "model.hidden_size=8", "train.warmup_horizon=100", "train.warmup_steps=6",
             "train.growth_steps=2", "train.final_steps=2", "train.candidates=1", "train.realisations=3"]
    tr.train(load("offsets", quick), progress=False)
    assert len(seen) == 10
    firsts = np.array([s.ravel() for s in seen])  # (steps, R*K)
    assert len({tuple(np.round(r, 12)) for r in firsts}) == 10, "a new theta every step"
    assert np.ptp(firsts[:, 0]) > 0.1
    seen.clear()
    tr.train(load("spec", quick), progress=False)
    assert np.allclose(np.array([s.ravel() for s in seen]), 0.0), "spec targets all start at sin(0)"
