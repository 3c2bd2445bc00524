"""The import graph of src/freqextract: layers, arrows pointing down only, no cycles.

Every ``import`` and ``from ... import`` anywhere in a module counts (function-local and TYPE_CHECKING
imports too), at module granularity: ``from .models import checkpoint`` is an arrow to
``freqextract.models.checkpoint``. A module belongs to the layer of its subpackage (or, at the top level,
to the one named for it below); a module in no layer fails the test until it is placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
HUB = "freqextract"  # the API hub (freqextract/__init__.py): lazy names of every layer; exempt

# layer -> rank. Imports go to a strictly lower rank, or stay inside their own layer; two layers of the same
# rank (training, serving) never import each other.
LAYERS = {
    "foundation": 0, "signals": 1, "models": 2, "evaluation": 3, "training": 4, "serving": 4, "reporting": 5,
    "studies": 6, "cli": 7,
}
TOP_LEVEL = {  # the modules directly in freqextract/, and their layer
    "errors": "foundation", "config": "foundation", "atomic": "foundation", "locks": "foundation",
    "runtime": "foundation", "fmt": "foundation",
    "_lazy": "foundation", "_aliases": "foundation", "cli": "cli", "__main__": "cli",
}
HUB_NAMES = {"__version__"}  # all a module may take from the hub; anything else comes from its own module


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The layer of a module of the package; None if it is placed in none."""
    parts = module.split(".")
    if module == HUB:
        return None
    if len(parts) == 2 and parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    return parts[1] if parts[1] in LAYERS and parts[1] not in ("foundation", "cli") else None


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> list[tuple[str, int, str]]:
    """(imported module, line, the import as written) for every import of the package in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, f"import {a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in known:  # from a package import a module
                    target = sub
                elif base == HUB:
                    target = HUB if a.name in HUB_NAMES else f"{HUB}:{a.name}"
                else:
                    target = base
                found.append((target, node.lineno, f"from {'.' * node.level}{node.module or ''} import {a.name}"))
    return [f for f in found if f[0] == HUB or f[0].startswith(HUB + ".") or f[0].startswith(HUB + ":")]


def import_graph(root: Path = SRC) -> dict[str, list[tuple[str, int, str]]]:
    paths = sorted((root / HUB).rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    return {module_name(p, root): imports_of(p.read_text(encoding="utf-8"), module_name(p, root),
                                             p.name == "__init__.py", known) for p in paths}


def find_cycle(graph: dict[str, list[tuple[str, int, str]]]) -> list[str] | None:
    """One cycle of the module graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for target, _, _ in graph.get(m, []):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target in graph and target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def violations(graph: dict[str, list[tuple[str, int, str]]]) -> list[str]:
    """Every import that breaks the layering, as 'module:line: import ... (why)'."""
    bad = []
    for module, imports in sorted(graph.items()):
        if module == HUB:
            continue
        here = layer_of(module)
        for target, line, text in imports:
            where = f"{module}:{line}: {text}"
            if ":" in target:
                bad.append(f"{where} (the hub's lazy names are for users; import it from its module)")
                continue
            if target == HUB:
                continue
            if target not in graph:
                bad.append(f"{where} (no such module: an old flat path?)")
                continue
            there = layer_of(target)
            if here is None or there is None or here == there:
                continue  # unplaced modules fail in their own test
            if LAYERS[there] >= LAYERS[here]:
                kind = "a sibling layer of the same rank" if LAYERS[there] == LAYERS[here] else "a higher layer"
                bad.append(f"{where} ({here} (rank {LAYERS[here]}) imports {there} (rank {LAYERS[there]}), "
                           f"{kind})")
    return bad


@pytest.fixture(scope="module")
def graph() -> dict[str, list[tuple[str, int, str]]]:
    return import_graph()


def test_every_module_is_placed_in_a_layer(graph):
    unplaced = [m for m in graph if m != HUB and layer_of(m) is None]
    assert not unplaced, (f"modules in no layer: {unplaced}; put them in a subpackage, or name a top-level one "
                          f"in TOP_LEVEL of {Path(__file__).name}")


def test_no_import_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_imports_point_down_the_layers(graph):
    bad = violations(graph)
    assert not bad, "imports against the layering:\n  " + "\n  ".join(bad)


def test_serving_never_imports_training(graph):
    bad = [f"{m}:{line}: {text}" for m, imports in graph.items() if layer_of(m) == "serving"
           for target, line, text in imports if layer_of(target) == "training"]
    assert not bad, "serving imports training:\n  " + "\n  ".join(bad)


def test_only_the_command_line_imports_the_cli(graph):
    bad = [f"{m}:{line}: {text}" for m, imports in graph.items() if m not in ("freqextract.cli", "freqextract.__main__")
           for target, line, text in imports if target == "freqextract.cli"]
    assert not bad, "the library imports the CLI:\n  " + "\n  ".join(bad)


# ---------------------------------------------------------------------------------------------- the checker
def _fake(tmp_path: Path, files: dict[str, str]) -> dict[str, list[tuple[str, int, str]]]:
    for name, text in {"freqextract/__init__.py": "", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return import_graph(tmp_path)


def test_the_checker_sees_lazy_imports_cycles_and_upward_arrows(tmp_path):
    g = _fake(tmp_path, {
        "freqextract/errors.py": "",
        "freqextract/serving/__init__.py": "",
        "freqextract/serving/stream.py": "def f():\n    from ..training.loop import train\n",
        "freqextract/training/__init__.py": "",
        "freqextract/training/loop.py": "from ..serving import stream\nfrom .. import StreamExtractor\n",
        "freqextract/models/lstm.py": "from ..errors import UserError\nfrom ..train import x\n",
    })
    assert g["freqextract.serving.stream"] == [("freqextract.training.loop", 2, "from ..training.loop import train")]
    assert find_cycle(g) == ["freqextract.serving.stream", "freqextract.training.loop", "freqextract.serving.stream"]
    bad = "\n".join(violations(g))
    assert "freqextract.serving.stream:2: from ..training.loop import train (serving (rank 4) imports training" in bad
    assert "from .. import StreamExtractor (the hub's lazy names" in bad
    assert "from ..train import x (no such module" in bad
    assert "models.lstm:1" not in bad  # models -> foundation is fine
