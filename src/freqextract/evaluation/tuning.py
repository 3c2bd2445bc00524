"""A small grid search: choose an estimator's parameters by a score measured on tuning data.

A reference counts only once it is tuned on the same training data as the network it is compared with
(docs/scenarios.md). :func:`grid_search` scores every point of a grid of parameters with a function the
caller gives (in freqextract: the mean MSE over tuning sequences drawn from training-side seeds) and keeps
the lowest. A grid whose best value sits on one of its edges has not shown that the best lies inside it,
so an :class:`Axis` that may grow is extended one value beyond that edge (``extend``), and the search goes
on, until the best is inside the grid or on an edge of the parameter's own domain (``lo``, ``hi``: e.g. a
forgetting factor of 1, which forgets nothing). Every score is computed once.

Example: the minimum of (x - 3)^2 + (y - 0.2)^2 found on a grid that first did not reach it.

>>> axes = [Axis("x", (0.0, 1.0, 2.0), extend=lambda v, up: v + 1 if up else v - 1),
...         Axis("y", (0.1, 0.2, 0.4), extend=lambda v, up: v * 2 if up else v / 2)]
>>> result = grid_search(lambda p: (p["x"] - 3) ** 2 + (p["y"] - 0.2) ** 2, axes)
>>> result["params"], result["grid"]["x"], result["edges"]
({'x': 3.0, 'y': 0.2}, [0.0, 1.0, 2.0, 3.0, 4.0], {'x': 'inside', 'y': 'inside'})
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_EXTENSIONS = 6  # per axis and direction: a score falling without end is a bug, not a tuning


@dataclass(frozen=True)
class Axis:
    """One parameter's grid: ``values`` in increasing order (or categories, which never extend).

    ``extend(value, up)`` returns the next value beyond ``value`` (above it when ``up``), or None for an
    axis that does not grow; ``lo`` and ``hi`` bound the parameter's domain (a value on them is an edge of
    the domain, not of the grid).
    """

    name: str
    values: tuple
    extend: Callable[[float, bool], float] | None = None
    lo: float = -math.inf
    hi: float = math.inf


def geometric(factor: float, lo: float = 0.0, hi: float = math.inf) -> Callable[[float, bool], float]:
    """An ``extend`` rule: the next value is ``factor`` times (or over) the edge, clipped to [lo, hi]."""
    return lambda v, up: min(hi, v * factor) if up else max(lo, v / factor)


def _edge(axis: Axis, values: list, best) -> str:
    """Where ``best`` sits: 'inside' the grid, on a 'domain bound', on a 'grid edge' only, or 'categorical'
    (an axis that does not grow, e.g. a choice between two names)."""
    if axis.extend is None:
        return "categorical"
    if best in (axis.lo, axis.hi):
        return "domain bound"
    return "grid edge" if best in (values[0], values[-1]) else "inside"


def grid_search(score: Callable[[dict], float | tuple[float, dict]], axes: Sequence[Axis]) -> dict:
    """The point of the grid with the lowest score, after extending every axis whose best is on its edge.

    ``score(params)`` returns a number, or (number, extra): ``extra`` (e.g. a closed-form gain fitted
    with the parameters) is kept with the best point. Returns a JSON-ready record: ``params`` (the best
    point, with its ``extra``), ``score``, ``grid`` (every axis's final values), ``edges`` (per axis:
    'inside', 'domain bound', 'categorical', or 'grid edge' when the extensions ran out) and ``scores`` (every point
    scored, with its score).
    """
    grid = {a.name: list(a.values) for a in axes}
    cache: dict[tuple, tuple[float, dict]] = {}

    def evaluate(point: tuple) -> tuple[float, dict]:
        if point not in cache:
            value = score(dict(zip(grid, point, strict=True)))
            cache[point] = (float(value[0]), value[1]) if isinstance(value, tuple) else (float(value), {})
        return cache[point]

    grown = {(a.name, up): 0 for a in axes for up in (False, True)}
    while True:
        best = min(itertools.product(*grid.values()), key=lambda p: evaluate(p)[0])
        changed = False
        for i, a in enumerate(axes):
            values, v = grid[a.name], best[i]
            if _edge(a, values, v) != "grid edge":
                continue
            up = v == values[-1]
            if grown[(a.name, up)] >= MAX_EXTENSIONS:
                continue
            new = a.extend(v, up)
            if new is None or new in values or not a.lo <= new <= a.hi:
                continue
            grown[(a.name, up)] += 1
            values.append(new) if up else values.insert(0, new)
            changed = True
        if not changed:
            break
    value, extra = evaluate(best)
    names = list(grid)
    return {
        "params": {**dict(zip(names, best, strict=True)), **extra},
        "score": value,
        "grid": {n: list(v) for n, v in grid.items()},
        "edges": {a.name: _edge(a, grid[a.name], best[i]) for i, a in enumerate(axes)},
        "scores": [{**dict(zip(names, p, strict=True)), "score": s} for p, (s, _) in cache.items()],
    }
