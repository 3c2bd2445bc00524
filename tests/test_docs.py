"""The documentation: the site builds strictly, the README stays short and keeps CI's test command, every
results table has its place, and nothing the repository ships points at files a user does not have."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT / "benchmarks"))
import update_readme  # noqa: E402

# texts a user does not have: the project's internal specification, and the machines it was measured on
UNSHIPPABLE = ("SPEC" + ".md", "these machines")
TEXT = {".py", ".md", ".toml", ".yml", ".yaml", ".ipynb", ".txt", ".cfg", ""}


def shipped_files() -> list[Path]:
    """The files of the repository (git's list where there is one), text only."""
    try:
        names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()
        files = [ROOT / n for n in names]
    except (OSError, subprocess.CalledProcessError):
        folders = ("src", "docs", "configs", "benchmarks", "notebooks", "tests")
        files = [p for d in folders for p in (ROOT / d).rglob("*")]
        files += [README, ROOT / "pyproject.toml", ROOT / "mkdocs.yml"]
    return [f for f in files if f.is_file() and f.suffix in TEXT and ".venv" not in f.parts]


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason='the docs extra: pip install -e ".[docs]"')
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
                           "--config-file", str(ROOT / "mkdocs.yml")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "StreamExtractor" in api and "run_lock" in api  # the API pages are made from the docstrings


def test_the_readme_is_short_and_keeps_the_ci_test_command():
    assert len(README.read_bytes()) <= 10_000
    lines = README.read_text(encoding="utf-8").splitlines()
    marker = lines.index("<!-- test-command -->")
    assert lines[marker + 1] == "```bash"  # .ci/run takes the line after the fence
    command = lines[marker + 2]
    assert command.startswith("python3 -m venv .venv") and '".[dev]"' in command and command.endswith("pytest")
    assert (ROOT / "docs" / "assets" / "graph1.png").is_file() and "docs/assets/graph1.png" in README.read_text()


def test_shipped_text_refers_to_nothing_a_user_lacks():
    bad = [f"{f.relative_to(ROOT)}: {word}" for f in shipped_files() if f != Path(__file__)
           for word in UNSHIPPABLE if word in f.read_text(encoding="utf-8", errors="replace")]
    assert not bad, "\n".join(bad)
    assert "benchmarks/runs" not in README.read_text(encoding="utf-8")


def test_every_results_table_is_written_into_the_docs_and_is_up_to_date(tmp_path):
    """update_readme.py finds a marker for every table (the headline one in the README too), and the
    committed pages are what it writes from the committed results."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(README, tmp_path / "README.md")
    assert update_readme.main(["--readme", str(tmp_path / "README.md"), "--docs", str(tmp_path / "docs"),
                               "--results", str(ROOT / "benchmarks" / "results")]) == 0
    assert set(update_readme.PAGES) == set(update_readme.TABLES)
    for page in sorted(set(update_readme.PAGES.values())):
        assert (tmp_path / "docs" / page).read_text() == (ROOT / "docs" / page).read_text(), page
    assert (tmp_path / "README.md").read_text() == README.read_text()
