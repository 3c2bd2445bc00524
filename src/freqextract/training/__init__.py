"""Training: one config in, a trained model out.

:mod:`.loop` is the training loop (fresh noise every step, truncated backprop through time with the
state carried, the curriculum, the divergence guard, best-of-n candidates in worker processes);
:mod:`.resume` the training state a killed run goes on from. May import the foundation, ``signals``,
``models`` and ``evaluation``; never its sibling ``serving`` or anything above (and serving never imports
training: a deployed model does not need it).
"""

from .loop import (
    PHASES,
    Curriculum,
    TrainResult,
    WindowFn,
    candidate_seeds,
    focus_loss,
    fused_window,
    literal_window,
    per_stream_mse,
    schedule,
    train,
    train_best_of,
    train_sequence,
)

__all__ = ["train", "train_best_of", "TrainResult", "candidate_seeds", "Curriculum", "schedule", "PHASES",
           "focus_loss", "train_sequence", "fused_window", "literal_window", "per_stream_mse", "WindowFn"]
