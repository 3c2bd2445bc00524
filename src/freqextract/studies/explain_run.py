"""``freqextract explain RUN_DIR``: explain a run's trained selector model and keep it with the run.

Writes RUN_DIR/explain.json (:func:`freqextract.evaluation.explain.explain`), RUN_DIR/explain.npz (the
figures' arrays) and figures/explain_rings.png, figures/explain_drift.png, under the run's lock.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..evaluation import explain_files
from ..evaluation.explain import explain_with_arrays
from ..locks import run_lock
from ..models import checkpoint
from ..reporting.explain_section import draw
from ..runtime import configure_threads


def explain_run(run_dir: str | Path, seconds: float = 60.0, model=None, cfg=None) -> tuple[dict, list[Path]]:
    """(explain's data, the files written) for the run's checkpoints/final.pt, or for ``model`` and
    ``cfg`` when given (a run that has them in memory)."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise UserError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: not a directory")
    if model is None:
        ckpt = run_dir / "checkpoints" / "final.pt"
        if not ckpt.is_file():
            raise UserError(f"{run_dir}: no checkpoints/final.pt (not a trained run directory)")
        model, cfg, _ = checkpoint.load_model(ckpt, "cpu")
    configure_threads(cfg.train.threads)
    with run_lock(run_dir, "freqextract explain"):
        data, arrays = explain_with_arrays(model, cfg, seconds)
        files = list(explain_files.save(run_dir, data, arrays))
        files += [p for p, _ in draw(run_dir, data, arrays)]
    return data, files
