"""Lazy public names for a package ``__init__``: each is imported from its module on first use.

A package whose modules need torch (or another heavy import) lists its public names here instead of
importing them, so that importing the package, or one light module of it, stays cheap:

    __getattr__, __dir__ = lazy_names(__name__, {"StreamExtractor": ".stream", "export_onnx": ".onnx"})

A value may also be ``(module, attribute)`` when the public name differs from the module's own.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_names(package: str, names: dict[str, str | tuple[str, str]]) -> tuple[Callable, Callable]:
    """``__getattr__`` and ``__dir__`` for the module ``package`` (modules relative to it)."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = names[name] if isinstance(names[name], tuple) else (names[name], name)
        value = getattr(importlib.import_module(module, package), attr)
        setattr(sys.modules[package], name, value)  # the next lookup is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
