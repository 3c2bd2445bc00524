"""notebooks/demo.ipynb runs top to bottom in a fresh kernel, shows its figures, writes only to a temp dir."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MISSING = "the notebook runner is not installed (pip install -e '.[dev]')"
nbformat = pytest.importorskip("nbformat", reason=MISSING)
nbclient = pytest.importorskip("nbclient", reason=MISSING)
pytest.importorskip("ipykernel", reason=MISSING)

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "demo.ipynb"


def test_demo_notebook_executes(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored without outputs
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the kernel inherits it: tempfile.mkdtemp lands in tmp
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) >= 6  # S statistics, training, graphs 1 and 2, error over time, PSD
    assert "stepped == fused: True" in text
    found = re.search(r"^\s+test\s+([0-9.]+)", text, re.M)
    assert found, text[-2000:]
    assert float(found.group(1)) < 0.05  # the short run learns the oscillators (answering 0 scores 0.5)
    assert "the model does not rely on S" in text
    stderr = "".join(o.get("text", "") for o in outputs
                     if o.output_type == "stream" and o.get("name") == "stderr")
    assert "Warning" not in stderr, stderr
    assert list(cwd.iterdir()) == []  # nothing written to the working directory
    work = [p for p in tmp.iterdir() if p.name.startswith("freqextract-demo-")]
    assert len(work) == 1
    assert {p.name for p in work[0].iterdir()} >= {"graph1.png", "graph2.png", "training.png"}
