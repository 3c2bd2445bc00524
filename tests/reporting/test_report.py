"""report.html: self-contained, complete, rebuilt by `freqextract report`, and rendered by a real browser.

The browser test runs headless Chromium on the report of a quick run: every image must decode
(naturalWidth > 0 after the load event) and the test MSE must be on the page; it saves a full-page
screenshot next to the report. It is skipped, saying why, only when no Chromium binary is installed.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from freqextract.cli import main
from freqextract.config import load
from freqextract.errors import UserError
from freqextract.evaluation.metrics import improvement, signal_metrics
from freqextract.reporting.report import write_report
from freqextract.studies.run import run

CLI = [sys.executable, "-m", "freqextract.cli"]
FIGURES = ("graph1", "graph2", "training", "error_time", "error_hist", "psd", "explain_rings", "explain_drift")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "quick"
    run(load("quick"), out_dir=out, progress=False)
    return out


def _page(run_dir) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


def test_run_writes_the_extended_metrics_and_the_row_csv(quick_run):
    m = json.loads((quick_run / "metrics.json").read_text())
    for key in ("train", "test", "ablation", "training", "generalization_gap", "generalization_gap_relative",
                "input_mixture", "improvement", "error_vs_time", "phase_drift", "multi_seed"):
        assert key in m, key
    assert m["multi_seed"]["seeds"] == list(range(2, 12)) and len(m["multi_seed"]["ci95"]) == 2
    rows = (quick_run / "test_predictions.csv").read_text().splitlines()
    assert rows[0] == "t,S,C1,C2,C3,C4,target,output,error" and len(rows) == 1 + 4 * 1000
    table = np.loadtxt(rows[1:], delimiter=",")
    with np.load(quick_run / "predictions.npz") as p:
        assert np.array_equal(table[:, 7], p["test"].reshape(-1))
    assert np.mean(table[:, 8] ** 2) == pytest.approx(m["test"]["mse"], rel=1e-12)


def test_report_is_self_contained(quick_run):
    page = _page(quick_run)
    srcs = re.findall(r'\ssrc="([^"]*)"', page)
    assert len(srcs) == len(FIGURES)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', page)  # nothing is fetched from anywhere
    assert "<link" not in page and "@import" not in page and "<script" not in page
    for fig in FIGURES:
        assert f'id="fig-{fig}"' in page


def test_report_has_the_numbers(quick_run):
    m = json.loads((quick_run / "metrics.json").read_text())
    page = _page(quick_run)
    assert f"<span id='test-mse'>{m['test']['mse']:.5f}</span>" in page
    assert f"{m['train']['mse']:.5f}" in page
    assert f"{m['ablation']['test_mse_S_shuffled']:.5f}" in page
    assert f"{m['multi_seed']['mean']:.5f}" in page
    for table in ("mse-table", "quality-table", "multi-seed-table", "training-table", "baselines-table"):
        assert f'id="{table}"' in page
    for name, b in m["baselines"].items():  # run() puts the classical baselines beside the model
        assert name in page and f"{b['mse']:.5f}" in page
    assert "<td>reference, tuned</td>" in page and "<td>reference, untuned</td>" in page  # labelled, each
    assert "reference, ORACLE: knows the target&#x27;s clock, never reads S" in page
    assert "training-side seeds 1001..1008" in page
    assert html.escape((quick_run / "config.toml").read_text()) in page  # the effective config, verbatim


def test_report_command_rebuilds_it(quick_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(quick_run, copy)
    (copy / "report.html").unlink()
    shutil.rmtree(copy / "figures")
    proc = subprocess.run([*CLI, "report", str(copy)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert str(copy / "report.html") in proc.stdout
    assert (copy / "report.html").is_file() and len(list((copy / "figures").glob("*.png"))) == len(FIGURES)
    assert "id='test-mse'" in _page(copy)


@pytest.mark.parametrize("case", ["missing", "file", "empty", "bad-json", "not-metrics", "no-predictions",
                                  "wrong-shape"])
def test_report_command_bad_run_dir_gets_one_line(quick_run, tmp_path, capsys, case):
    target = tmp_path / "run"
    if case == "file":
        target.write_text("x")
    elif case == "empty":
        target.mkdir()
    elif case != "missing":
        shutil.copytree(quick_run, target)
        if case == "bad-json":
            (target / "metrics.json").write_text("{not json")
        elif case == "not-metrics":
            (target / "metrics.json").write_text('{"hello": 1}')
        elif case == "no-predictions":
            (target / "predictions.npz").unlink()
        elif case == "wrong-shape":
            np.savez(target / "predictions.npz", test=np.zeros((4, 7)), train=np.zeros((4, 7)))
    with pytest.raises(UserError):
        write_report(target)
    assert main(["report", str(target)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("freqextract: error:")
    if case in ("missing", "bad-json"):  # the real command line too: one line, exit 2, no traceback
        proc = subprocess.run([*CLI, "report", str(target)], capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stderr == err


def test_the_report_shows_the_model_from_the_inside(quick_run):
    """The run explained its model (explain.json, six times the trained horizon) and the page has the
    section, its table (one row per selector) and both figures inside it."""
    data = json.loads((quick_run / "explain.json").read_text())
    assert data["seconds"] == 6.0 and data["trained_seconds"] == 1.0
    page = _page(quick_run)
    inside = page[page.index("<h2 id='inside'>Inside the model</h2>"):]
    inside = inside[:inside.index("<h2>", 10)]
    assert inside.count("<tr>") == 1 + len(data["frequencies"])  # head + one per selector
    assert 'id="fig-explain_rings"' in inside and 'id="fig-explain_drift"' in inside
    assert "ring" in inside and "ppm" in inside


def test_a_run_without_an_explanation_has_no_inside_section(quick_run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(quick_run, old)
    for name in ("explain.json", "explain.npz", "figures/explain_rings.png", "figures/explain_drift.png"):
        (old / name).unlink()
    write_report(old)
    page = _page(old)
    assert "Inside the model" not in page and "explain_rings" not in page and "id='test-mse'" in page
    assert not (old / "figures" / "explain_rings.png").exists()


def test_report_of_an_older_run_and_with_baselines(quick_run, tmp_path):
    """A metrics.json with only the original keys still renders; baselines get their own table."""
    old = tmp_path / "old"
    shutil.copytree(quick_run, old)
    m = json.loads((old / "metrics.json").read_text())
    minimal = {k: m[k] for k in ("scenario", "frequencies", "ablation", "training")}
    minimal["train"] = {k: m["train"][k] for k in ("mse", "per_frequency_mse")}
    minimal["test"] = {k: m["test"][k] for k in ("mse", "per_frequency_mse")}
    (old / "metrics.json").write_text(json.dumps(minimal))
    write_report(old)
    page = _page(old)
    assert f"{m['test']['mse']:.5f}" in page and 'id="fig-error_time"' in page
    assert "quality-table" not in page and "multi-seed-table" not in page

    with_base = tmp_path / "base"
    shutil.copytree(quick_run, with_base)
    from freqextract.signals.data import load_npz

    test = load_npz(with_base / "data" / "test.npz")
    zero = signal_metrics(np.zeros_like(test.targets), test.targets)
    m["baselines"] = {"zero": zero, "clock-oracle": signal_metrics(test.targets, test.targets)}
    m["improvement"]["over_baselines"] = {n: improvement(m["test"], b) for n, b in m["baselines"].items()}
    (with_base / "metrics.json").write_text(json.dumps(m))
    write_report(with_base)
    page = _page(with_base)
    assert 'id="baselines-table"' in page and "clock-oracle" in page
    assert "reference, ORACLE: knows the target&#x27;s clock, never reads S" in page  # apart from the model
    assert f"{m['improvement']['over_baselines']['zero']['db']:+.1f}" in page


# ---------------------------------------------------------------------------------------------- browser
CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const out = document.createElement('pre');
  out.id = 'freqextract-check';
  out.textContent = JSON.stringify({
    n: imgs.length, complete: imgs.map(i => i.complete), widths: imgs.map(i => i.naturalWidth),
    height: document.documentElement.scrollHeight, testMse: document.getElementById('test-mse').textContent,
    text: document.body.innerText});
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str | None:
    names = (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome",
             "google-chrome-stable")
    for name in names:
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _browser(binary, profile, *args) -> subprocess.CompletedProcess:
    """Headless Chromium with everything that could reach the network switched off."""
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _check(binary, profile, html_path) -> dict:
    proc = _browser(binary, profile, "--window-size=1280,1000", "--dump-dom", html_path.as_uri())
    found = re.search(r'<pre id="freqextract-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no check result in the DOM (exit {proc.returncode}): {proc.stderr[-800:]}"
    return json.loads(html.unescape(found.group(1)))


def test_report_renders_in_headless_chromium(quick_run, tmp_path):
    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it where it can): "
                    "the report's browser rendering is not checked")
    m = json.loads((quick_run / "metrics.json").read_text())
    probe = quick_run / "report_check.html"  # the report plus a script that records what the browser decoded
    probe.write_text(_page(quick_run).replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    try:
        res = _check(binary, tmp_path / "profile", probe)
    finally:
        probe.unlink()
    assert res["n"] == len(FIGURES)
    assert all(res["complete"]) and all(w > 0 for w in res["widths"]), res["widths"]  # every image decoded
    assert res["testMse"] == f"{m['test']['mse']:.5f}"
    assert f"{m['train']['mse']:.5f}" in res["text"] and "S shuffled" in res["text"]

    shot = quick_run / "report_screenshot.png"
    height = max(1200, min(int(res["height"]) + 40, 16000))
    proc = _browser(binary, tmp_path / "profile", f"--screenshot={shot}", f"--window-size=1280,{height}",
                    (quick_run / "report.html").as_uri())
    assert shot.is_file(), proc.stderr[-800:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[0] == height and img.shape[1] == 1280 and img[..., :3].std() > 0.05  # not a blank page
    print(f"screenshot: {shot}")


def test_the_browser_check_catches_a_broken_image(tmp_path):
    """The decode check above can fail: a truncated PNG data URI reads as naturalWidth 0."""
    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium is not installed: nothing to check")
    page = tmp_path / "broken.html"
    page.write_text('<!doctype html><html><body><span id="test-mse">0</span>'
                    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg">'
                    + CHECK_SCRIPT + "</body></html>")
    res = _check(binary, tmp_path / "profile", page)
    assert res["n"] == 1 and res["widths"] == [0]
