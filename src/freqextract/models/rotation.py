"""The ``rotation`` init: each selector's oscillator planted in the LSTM before training.

Gradient descent on a sinusoid's frequency stalls in local minima unless the frequency is parameterised as
a rotation (Hayes et al., ICASSP 2023); a random init must first *find* an oscillation at each selector's
frequency, and about one init in three leaves one behind. This init starts every selector on one instead.

For selector k (frequency f_k, angle per sample theta_k = 2 pi f_k / fs) three hidden units are taken:

    p, q   a limit cycle: input gate 1/2 while C_k = 1 (shut otherwise), forget gate 1 - ``DAMPING``, output
           gate o, and the cell candidate g = tanh(A (h_p, h_q)) with A = [[alpha, -beta], [beta, alpha]].
           For small cells the pair grows (the gain alpha beats the damping) and the tanh of h and g holds
           it on a circle: a stable limit cycle, so a small change of a weight moves its radius a little
           instead of letting it grow or die exponentially. alpha and beta are calibrated (float64, on the
           two-dimensional map alone) so the circle's radius is ``amplitude`` and its angle per sample is
           theta_k. The head reads h_q, scaled to amplitude 1: sin(theta_k n) after sample n.
    r      a constant from the first sample on (forget gate shut, g = tanh(1)); the pair's candidate gets a
           kick from C_k that r cancels from the second sample on, so the reset (c = 0, the unstable centre)
           jumps straight onto the circle at (amplitude, 0).

Nothing reads S at init, and the units beyond the planted ones are silent (every weight into them zero, so
their cells stay 0 and the hidden-state rings of ``freqextract explain`` are the planted circles): the
planted model is the clock before any training step, the same for every seed. Training then sees where it
is off (the read-out is o tanh(c), not quite a sine) and is free to change every weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .lstm import StatefulLSTM

GATE = 16.0  # pre-activation that shuts a gate when its selector is off: sigmoid(-16) = 1e-7
CONST_GATE = 8.0  # the constant unit's input gate while selected: sigmoid(8) = 0.9997
PAIR_ON = 0.5  # the pair's input gate while selected: sigmoid(0)
OUTPUT = 1.0 / (1.0 + math.exp(-4.0))  # output gate of the planted units: sigmoid(4)
DAMPING = 0.1  # 1 - the pair's forget gate
UNITS_PER_SELECTOR = 3


def units_needed(n_selectors: int) -> int:
    """Hidden units the init plants for ``n_selectors`` selectors."""
    return UNITS_PER_SELECTOR * n_selectors


def _orbit(alpha: float, beta: float, amplitude: float, n: int) -> np.ndarray:
    """The pair's cells after samples 0..n-1 from (amplitude, 0): (n, 2)."""
    c = np.array([amplitude, 0.0])
    out = np.empty((n, 2))
    f = 1.0 - DAMPING
    for t in range(n):
        out[t] = c
        h = OUTPUT * np.tanh(c)
        c = f * c + PAIR_ON * np.tanh(np.array([alpha * h[0] - beta * h[1], beta * h[0] + alpha * h[1]]))
    return out


def _angle_per_sample(orbit: np.ndarray) -> float:
    angle = np.unwrap(np.arctan2(orbit[:, 1], orbit[:, 0]))
    return float(np.polyfit(np.arange(len(angle)), angle, 1)[0])


def calibrate(theta: float, amplitude: float) -> tuple[float, float]:
    """(alpha, beta) whose limit cycle has radius ``amplitude`` and angle ``theta`` per sample."""
    n = max(1000, int(1.5 * 2 * math.pi / theta))
    gain = PAIR_ON * OUTPUT
    beta = math.sin(theta) / gain
    for _ in range(4):
        lo, hi = 0.5 * DAMPING / gain, 3 * DAMPING / gain  # radius grows with alpha
        for _ in range(24):
            alpha = 0.5 * (lo + hi)
            orbit = _orbit(alpha, beta, amplitude, n)
            if np.hypot(orbit[-n // 4:, 0], orbit[-n // 4:, 1]).mean() > amplitude:
                hi = alpha
            else:
                lo = alpha
        beta *= theta / _angle_per_sample(orbit)
    return alpha, beta


@torch.no_grad()
def plant_rotations(model: StatefulLSTM, cycles_per_sample: Sequence[float], amplitude: float) -> None:
    """Plant one oscillator per selector (frequencies in cycles per sample, selector order) in ``model``.

    ``model`` reads [S, C_1..C_K] (a one-layer selector model with at least 3 K hidden units).
    """
    lstm, H, K = model.lstm, model.hidden_size, len(cycles_per_sample)
    if model.num_layers != 1 or H < units_needed(K) or lstm.input_size != 1 + K:
        raise ValueError(f"rotation init needs a one-layer selector model with >= {units_needed(K)} hidden units")
    w_ih, w_hh, b_ih, b_hh = lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
    # Every unit starts silent (all its gate rows zero: c stays 0 from the reset), then the planted ones are
    # written; gates are (input, forget, cell, output) blocks of H rows.
    for w in (w_ih, w_hh, b_ih, b_hh):
        w.zero_()
    model.head.weight.zero_()
    model.head.bias.zero_()
    z_out = math.log(OUTPUT / (1.0 - OUTPUT))
    h_const = OUTPUT * math.tanh(math.tanh(1.0) / (1.0 + math.exp(-CONST_GATE)))  # the constant cell's h
    for k, nu in enumerate(cycles_per_sample):
        theta = 2.0 * math.pi * float(nu)
        alpha, beta = calibrate(theta, amplitude)
        p, q, r = (UNITS_PER_SELECTOR * k + i for i in range(UNITS_PER_SELECTOR))
        sel = 1 + k  # the selector's input column
        for u in (p, q):
            b_ih[u] = -GATE  # input gate 1/2 when C_k = 1, shut otherwise
            w_ih[u, sel] = GATE
            b_ih[H + u] = math.log((1.0 - DAMPING) / DAMPING)
        b_ih[r] = -GATE - CONST_GATE
        w_ih[r, sel] = GATE + 2 * CONST_GATE
        b_ih[H + r] = -GATE  # forgets at once: c_r = i g_r
        w_ih[2 * H + r, sel] = 1.0
        for u in (p, q, r):
            b_ih[3 * H + u] = z_out
        w_hh[2 * H + p, p] = alpha
        w_hh[2 * H + p, q] = -beta
        w_hh[2 * H + q, p] = beta
        w_hh[2 * H + q, q] = alpha
        kick = math.atanh(amplitude / PAIR_ON)  # the first sample puts c_p on the circle at (amplitude, 0)
        w_ih[2 * H + p, sel] = kick
        w_hh[2 * H + p, r] = -kick / h_const  # cancelled from the second sample on
        orbit = _orbit(alpha, beta, amplitude, max(1000, int(2 * math.pi / theta)))
        model.head.weight[0, q] = 1.0 / (OUTPUT * np.abs(np.tanh(orbit[:, 1])).max())
