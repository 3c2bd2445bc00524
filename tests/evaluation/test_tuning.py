"""The grid search: finds the known best, grows a grid whose best is on its edge, stops at domain bounds."""

from __future__ import annotations

import doctest

from freqextract.evaluation import tuning
from freqextract.evaluation.tuning import Axis, geometric, grid_search


def test_docstring_example():
    assert doctest.testmod(tuning).failed == 0


def test_picks_the_known_best_inside_the_grid():
    calls = []

    def score(p):
        calls.append(p)
        return (p["a"] - 2) ** 2 + (p["b"] == "y")

    r = grid_search(score, [Axis("a", (0, 1, 2, 3, 4), lambda v, up: v + 1 if up else v - 1),
                            Axis("b", ("x", "y"))])
    assert r["params"] == {"a": 2, "b": "x"} and r["score"] == 0
    assert r["edges"] == {"a": "inside", "b": "categorical"}
    assert r["grid"]["a"] == [0, 1, 2, 3, 4]  # the best was inside: nothing added
    assert len(calls) == len(r["scores"]) == 10  # every point scored exactly once


def test_grows_past_an_edge_until_the_best_is_inside():
    r = grid_search(lambda p: (p["x"] - 0.01) ** 2, [Axis("x", (0.1, 0.2, 0.4), geometric(2.0), lo=0.0)])
    assert r["edges"]["x"] == "inside"
    assert r["grid"]["x"][0] < r["params"]["x"] < r["grid"]["x"][-1]
    assert abs(r["params"]["x"] - 0.01) < 0.005


def test_stops_at_a_domain_bound():
    r = grid_search(lambda p: -p["lam"], [Axis("lam", (0.9, 0.99, 1.0), lambda v, up: 1 - (1 - v) / 3,
                                                lo=0.0, hi=1.0)])
    assert r["params"]["lam"] == 1.0 and r["edges"]["lam"] == "domain bound"
    assert r["grid"]["lam"] == [0.9, 0.99, 1.0]


def test_gives_up_after_a_bounded_number_of_extensions():
    r = grid_search(lambda p: p["x"], [Axis("x", (1.0, 2.0), geometric(2.0))])  # falls without end
    assert r["edges"]["x"] == "grid edge"
    assert len(r["grid"]["x"]) == 2 + tuning.MAX_EXTENSIONS


def test_extra_of_the_best_point_is_kept():
    r = grid_search(lambda p: (abs(p["x"] - 1), {"gain": 2 * p["x"]}), [Axis("x", (0.0, 1.0, 2.0))])
    assert r["params"] == {"x": 1.0, "gain": 2.0}
