"""How an error is printed: five decimals, or scientific where five decimals would print 0.00000; and how a
training's length is worded.

A planted clock's test MSE (about 3e-06) printed as 0.00000 would read as a perfect model; the learned
models' errors (1e-4 and up) keep the fixed five decimals everyone compares them in.
"""

from __future__ import annotations


def mse(v: float, digits: int = 5, signed: bool = False) -> str:
    """``v`` with ``digits`` decimals, or three significant digits in scientific form below 10**-digits;
    ``signed``: with its sign (a difference of errors)."""
    sign = "+" if signed else ""
    if v != 0 and abs(v) < 10 ** -digits:
        return f"{v:{sign}.2e}"
    return f"{v:{sign}.{digits}f}"


def length(steps: int, polished: bool) -> str:
    """A finished training's length in words; with ``polished``, the last of ``steps`` is the polish."""
    adam = steps - polished
    if polished and adam == 0:
        return "the polish only"
    return f"{adam} step{'' if adam == 1 else 's'}" + (" and the polish" if polished else "")
