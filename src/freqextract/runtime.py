"""The process torch runs in: which device, how many CPU threads, which random seeds.

Training, evaluation and serving all set these up the same way, so they live below all three (serving a
model never needs the training code). torch is imported inside the functions: importing this module is
free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import UserError

if TYPE_CHECKING:
    import torch


def select_device(name: str = "auto", option: str = "train.device") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit choice that is not available is an error that
    names ``option`` (the config field, or the command-line option the device came from)."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"{option}: {name} requested but CUDA is not available")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"{option}: mps requested but not available")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"{option}: {name!r} is not a device torch knows") from None


def configure_threads(threads: int) -> None:
    """Set torch's CPU threads (0 leaves the default).

    One step multiplies a (streams x H) state by an (H x 4H) matrix: far too little work to share. A second
    thread only adds synchronisation, and on a machine whose cores are busy OpenMP's spinning threads slow
    every step down by orders of magnitude. One thread per training process is the fast setting; run
    several seeds as separate processes to use more cores.
    """
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def seed_everything(seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
