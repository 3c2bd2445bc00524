"""The exception types a user sees.

Anything a user can get wrong (a config value, an input file, a command-line argument) raises
:class:`UserError` with a one-line message that names the field or file and the problem. The CLI turns it
into ``freqextract: error: <message>`` and exit status 2; programming errors keep their tracebacks.

A training run whose loss or gradients blow up raises :class:`Diverged` (exit status 3): not a mistake in
the input as such, and not a crash either.
"""


class UserError(Exception):
    """A mistake in user input: a config value, a data file, a checkpoint or an argument."""


def describe(e: BaseException, limit: int = 160) -> str:
    """``Type: first line of the message`` of an exception that a damaged file caused, for a UserError."""
    lines = str(e).strip().splitlines()
    return e.__class__.__name__ + (f": {lines[0][:limit]}" if lines else "")


class Diverged(Exception):
    """Training stopped: the loss or the gradient norm became non-finite, or the gradient norm exploded.

    ``reason`` says which, ``step`` is the optimiser step (1-based) that failed, ``seed`` the candidate's
    training seed; ``candidates`` lists every diverged candidate (``{"seed", "step", "reason"}``) and
    ``detail`` is appended to the message (what was kept, where).
    """

    def __init__(self, reason: str, step: int | None = None, seed: int | None = None,
                 candidates: list[dict] | None = None, detail: str = ""):
        super().__init__(reason)
        self.reason, self.step, self.seed, self.detail = reason, step, seed, detail
        self.candidates = candidates if candidates is not None else [self.record()]

    def record(self) -> dict:
        return {"seed": self.seed, "step": self.step, "reason": self.reason}

    def __str__(self) -> str:
        where = f" at step {self.step}" if self.step is not None else ""
        who = f" (candidate seed {self.seed})" if self.seed is not None else ""
        n = len(self.candidates) - 1
        more = f"; {n} more candidate(s) diverged too" if n > 0 else ""
        detail = f"; {self.detail}" if self.detail else ""
        return f"training diverged{where}{who}: {self.reason}{more}{detail}"
