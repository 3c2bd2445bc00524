"""The module paths of the flat layout (``freqextract.stream``, ``freqextract.train``, ...) still import.

Each old name is answered by a finder on ``sys.meta_path`` with a DeprecationWarning that names the new
place. A module that moved whole is the new module itself (``sys.modules`` holds the same object under
both names, so ``monkeypatch.setattr(freqextract.stream, ...)`` patches what the library runs). A module
whose contents were split (``train``, ``pipeline``, ``sweep``, ``sweep_report``) is a read-only view that
looks every name up in the new modules, in order. ``freqextract.signals`` and ``freqextract.models`` are
packages now whose ``__init__`` re-exports what the old modules had, so they need no alias.

The library itself never imports an old name; they are for code written against the flat layout.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

# old name -> the new module, or the new modules its contents went to (looked up in this order)
MOVED: dict[str, str | tuple[str, ...]] = {
    "freqextract.data": "freqextract.signals.data",
    "freqextract.checkpoint": "freqextract.models.checkpoint",
    "freqextract.evaluate": "freqextract.evaluation.metrics",
    "freqextract.baselines": "freqextract.evaluation.baselines",
    "freqextract.bayes": "freqextract.evaluation.bayes",
    "freqextract.train": ("freqextract.training.loop", "freqextract.training.curriculum",
                          "freqextract.training.candidates", "freqextract.runtime"),
    "freqextract.resume": "freqextract.training.resume",
    "freqextract.stream": "freqextract.serving.stream",
    "freqextract.stream_io": "freqextract.serving.stream_io",
    "freqextract.export": "freqextract.serving.onnx",
    "freqextract.plots": "freqextract.reporting.plots",
    "freqextract.report": "freqextract.reporting.report",
    "freqextract.sweep_plots": "freqextract.reporting.sweep_plots",
    "freqextract.pipeline": ("freqextract.studies.run", "freqextract.evaluation.run_eval"),
    "freqextract.sweep": ("freqextract.studies.sweep", "freqextract.studies.storage"),
    "freqextract.sweep_config": "freqextract.studies.sweep_config",
    "freqextract.sweep_report": ("freqextract.studies.sweep_summary", "freqextract.reporting.sweep_report"),
}


class SplitModule(types.ModuleType):
    """An old module whose names now live in several modules: each lookup goes to the first that has it."""

    def __init__(self, name: str, sources: list[types.ModuleType]):
        super().__init__(name, f"Moved: see {', '.join(m.__name__ for m in sources)}.")
        self.__sources = sources

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):  # the module's own (__file__, ...): not forwarded
            raise AttributeError(attr)
        for module in self.__sources:
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r} "
                             f"(it moved to {', '.join(m.__name__ for m in self.__sources)})")

    def __dir__(self) -> list[str]:
        return sorted({n for m in self.__sources for n in dir(m)})


def message(old: str) -> str:
    new = MOVED[old]
    if isinstance(new, str):
        return f"{old} is deprecated (freqextract is organised in subpackages); import {new} instead"
    return (f"{old} is deprecated (freqextract is organised in subpackages); its names moved to "
            f"{', '.join(new[:-1])} and {new[-1]}")


class AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old names; loading one puts the new module (or a :class:`SplitModule`) in its place."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return None  # a placeholder, replaced in sys.modules by exec_module

    def exec_module(self, module) -> None:
        name = module.__spec__.name
        warnings.warn(message(name), DeprecationWarning, stacklevel=2)  # names the importing line
        new = MOVED[name]
        if isinstance(new, str):
            sys.modules[name] = importlib.import_module(new)
        else:
            split = SplitModule(name, [importlib.import_module(n) for n in new])
            split.__spec__, split.__loader__ = module.__spec__, self
            sys.modules[name] = split


def install() -> None:
    """Put the finder on ``sys.meta_path`` once, after the ordinary finders (it only knows old names)."""
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(AliasFinder())
