"""Training: one config in, a trained model out.

:mod:`.loop` is the training loop (fresh noise every step, truncated backprop through time with the
state carried, the divergence guard); :mod:`.curriculum` the horizon and learning-rate plan and the loss
weighting; :mod:`.candidates` several inits of one config in worker processes, the best one kept;
:mod:`.resume` the training state a killed run goes on from. May import the foundation, ``signals``,
``models`` and ``evaluation``; never its sibling ``serving`` or anything above (and serving never imports
training: a deployed model does not need it).
"""

from .candidates import candidate_seeds, train_best_of
from .curriculum import PHASES, Curriculum, focus_loss, schedule
from .loop import TrainResult, WindowFn, fused_window, literal_window, per_stream_mse, train, train_sequence

__all__ = ["train", "train_best_of", "TrainResult", "candidate_seeds", "Curriculum", "schedule", "PHASES",
           "focus_loss", "train_sequence", "fused_window", "literal_window", "per_stream_mse", "WindowFn"]
