"""`freqextract export` and `freqextract stream` through the real console script: end to end, and mistakes.

Every subprocess pays for starting Python (and torch, for a checkpoint), so the runs of a fixture start
together and the tests inspect their results.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import CLOCK_CARD, cli_env, streaming_checkpoint

from freqextract.cli import main
from freqextract.config import SignalConfig
from freqextract.serving.stream import StreamExtractor
from freqextract.signals.data import save_csv, save_npz
from freqextract.signals.scenarios import generate


def _run(cmd: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, env=cli_env(),
                          timeout=300)


def _table(text: str) -> tuple[list[str], np.ndarray]:
    header, *rows = text.splitlines()
    return header.split(","), np.array([[float(v) for v in r.split(",")] for r in rows])


@pytest.fixture(scope="module")
def work(tmp_path_factory, stream_model, spec_test) -> Path:
    """A folder with the model, the test signal as NPZ and as a one-column CSV, and bad inputs."""
    root = tmp_path_factory.mktemp("cli-stream")
    (root / "model.pt").write_bytes(Path(stream_model[0]).read_bytes())
    save_npz(spec_test, root / "test.npz")
    (root / "s.csv").write_text("S\n" + "".join(f"{float(v)!r}\n" for v in spec_test.S[:2000]))
    (root / "cols.csv").write_text("S\n0.1\n0.2\n0.3,0.4\n")
    (root / "nan.csv").write_text("0.1\n0.2\nNaN\n")
    (root / "notes.txt").write_text("not a checkpoint\n")
    streaming_checkpoint(root / "reset.pt", seq_len=10, window_state="reset")
    streaming_checkpoint(root / "clock.pt", card=CLOCK_CARD)
    save_npz(generate(SignalConfig(scenario="offsets", phase_scale=0.1, duration=1.0), seed=3), root / "off.npz")
    save_csv(spec_test, root / "table.csv")  # what `freqextract generate --csv` writes
    return root


NO_TORCH = """import sys
from freqextract.cli import main
rc = main(["stream", "--onnx", "out/model.onnx", "--input", "s.csv", "--out", "out/no-torch.csv"])
print(rc, "torch" in sys.modules)
"""


@pytest.fixture(scope="module")
def end_to_end(cli, work) -> dict[str, subprocess.CompletedProcess]:
    """export, then stream the NPZ through the ONNX file and the CSV on stdin through the checkpoint."""
    runs = {"export": _run([*cli, "export", "--checkpoint", "model.pt", "--out", "out/model.onnx"], work)}
    onnx = ["stream", "--onnx", "out/model.onnx"]
    jobs = {
        "onnx-npz": ([*cli, *onnx, "--input", "test.npz", "--freq", "3", "7"], None),
        "ckpt-stdin": ([*cli, "stream", "--checkpoint", "model.pt", "--input", "-"],
                       (work / "s.csv").read_text()),
        "onnx-file": ([*cli, *onnx, "--input", "s.csv", "--out", "out/s.csv"], None),
        "onnx-no-torch": ([sys.executable, "-c", NO_TORCH], None),
        "clock-on-offsets": ([*cli, "stream", "--checkpoint", "clock.pt", "--input", "off.npz"], None),
        "generated-table": ([*cli, "stream", "--checkpoint", "model.pt", "--input", "table.csv", "--freq", "3"],
                            None),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {k: pool.submit(_run, cmd, work, stdin) for k, (cmd, stdin) in jobs.items()}
        runs.update({k: f.result() for k, f in futures.items()})
    return runs


def test_export_writes_the_graph_and_its_sidecar(end_to_end, work):
    res = end_to_end["export"]
    assert res.returncode == 0, res.stderr
    assert (work / "out" / "model.onnx").is_file() and (work / "out" / "model.onnx.json").is_file()
    assert "wrote out/model.onnx and out/model.onnx.json" in res.stdout
    assert res.stderr == ("freqextract: model: trained on scenario spec; whether it reads its input S is "
                          "unknown (a checkpoint without a model card: written by an older version)\n")
    assert json.loads((work / "out" / "model.onnx.json").read_text())["model_card"]["role"] == "unknown"


def test_stream_says_what_the_model_is_and_warns_of_another_scenario(end_to_end):
    res = end_to_end["clock-on-offsets"]
    assert res.returncode == 0, res.stderr
    note, warning = res.stderr.splitlines()
    assert note.startswith("freqextract: model: a clock trained on scenario spec: it ignores its input S")
    assert "generates each sine from the reset" in note
    assert warning == ("freqextract: warning: the model was trained on scenario spec, off.npz is scenario "
                       "offsets: a clock ignores S, so its outputs follow its training data's phases, not "
                       "this data's")
    assert len(res.stdout.splitlines()) == 1 + 1000


def test_stream_reads_the_table_that_generate_writes(end_to_end, spec_test, stream_model):
    res = end_to_end["generated-table"]
    assert res.returncode == 0, res.stderr
    header, table = _table(res.stdout)
    assert header == ["n", "f3Hz"] and table.shape == (spec_test.n_samples, 2)
    eager = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[3]).push(spec_test.S)
    np.testing.assert_allclose(table[:, 1:], eager, rtol=0, atol=1e-5)


def test_stream_npz_through_onnx_equals_the_library(end_to_end, work, stream_model, spec_test):
    res = end_to_end["onnx-npz"]
    assert res.returncode == 0, res.stderr
    header, table = _table(res.stdout)
    assert header == ["t", "f3Hz", "f7Hz"] and np.array_equal(table[:, 0], spec_test.t)
    eager = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[3, 7]).push(spec_test.S)
    np.testing.assert_allclose(table[:, 1:], eager, rtol=0, atol=1e-5)


def test_stream_stdin_through_checkpoint_equals_the_onnx_file_output(end_to_end, work):
    piped, to_file = end_to_end["ckpt-stdin"], end_to_end["onnx-file"]
    assert piped.returncode == 0 and to_file.returncode == 0, piped.stderr + to_file.stderr
    assert to_file.stdout == "" and "wrote out/s.csv: 2000 samples x 4 frequencies" in to_file.stderr
    (h1, a), (h2, b) = _table(piped.stdout), _table((work / "out" / "s.csv").read_text())
    assert h1 == h2 == ["n", "f1Hz", "f3Hz", "f5Hz", "f7Hz"] and a.shape == (2000, 5)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------------------------- mistakes
# arguments after `freqextract`, and the text the one-line error must contain; every `stream` run also gets
# --out into an empty folder that must stay empty, as must the folder `export` is pointed at
ONNX = "out/model.onnx"  # written by the end-to-end export
BAD: dict[str, tuple[list[str], str]] = {
    "wrong-column-count": (["stream", "--onnx", ONNX, "--input", "cols.csv"],
                           "cols.csv: line 4 has 2 columns"),
    "nan-sample": (["stream", "--onnx", ONNX, "--input", "nan.csv"], "nan.csv: line 3: S is NaN"),
    "nan-on-stdin": (["stream", "--onnx", ONNX, "--input", "-"], "<stdin>: line 3: S is NaN"),
    "missing-input": (["stream", "--onnx", ONNX, "--input", "gone.csv"], "gone.csv: file not found"),
    "unknown-frequency": (["stream", "--onnx", ONNX, "--input", "s.csv", "--freq", "2"],
                          "frequency 2 Hz: not one of the model's frequencies"),
    "checkpoint-as-onnx": (["stream", "--onnx", "model.pt", "--input", "s.csv"],
                           "model.pt: not an ONNX file but a zip archive (a checkpoint? give it with "
                           "--checkpoint)"),
    "sequence-checkpoint": (["stream", "--checkpoint", "reset.pt", "--input", "s.csv"],
                            "reset.pt: holds a freqextract.SequenceLSTM with window_state 'reset'"),
    "not-a-checkpoint": (["stream", "--checkpoint", "notes.txt", "--input", "s.csv"],
                         "notes.txt: not a checkpoint"),
    "missing-checkpoint": (["stream", "--checkpoint", "gone.pt", "--input", "s.csv"],
                           "gone.pt: checkpoint not found"),
    "nan-with-checkpoint": (["stream", "--checkpoint", "model.pt", "--input", "nan.csv"], "nan.csv: line 3"),
    "export-sequence-checkpoint": (["export", "--checkpoint", "reset.pt", "--out", "bad/m.onnx"],
                                   "reset.pt: holds a freqextract.SequenceLSTM"),
    "export-not-a-checkpoint": (["export", "--checkpoint", "test.npz", "--out", "bad/m.onnx"],
                                "test.npz: not a readable checkpoint"),
    "export-missing-checkpoint": (["export", "--checkpoint", "gone.pt", "--out", "bad/m.onnx"],
                                  "gone.pt: checkpoint not found"),
    "export-out-not-onnx": (["export", "--checkpoint", "model.pt", "--out", "bad/m.pt"], "--out bad/m.pt"),
}
STDIN = {"nan-on-stdin": "0.1\n0.2\nNaN\n0.3\n"}
# each subprocess that loads a checkpoint pays for importing torch: these go through the real command, and
# every case through the same main() in-process
SUBPROCESS = ["wrong-column-count", "nan-on-stdin", "missing-input", "checkpoint-as-onnx",
              "sequence-checkpoint", "not-a-checkpoint", "export-missing-checkpoint"]


def _args(case: str) -> list[str]:
    args = BAD[case][0]
    return [*args, "--out", f"bad/{case}.csv"] if args[0] == "stream" else list(args)


def _check(rc: int, stdout: str, stderr: str, case: str, work: Path) -> None:
    assert "Traceback" not in stderr, stderr
    assert rc == 2, stderr
    if "stdin" in case:  # the model's note comes at the first sample, before the bad line is read
        assert stderr.startswith("freqextract: model: "), stderr
        stderr = stderr.split("\n", 1)[1]
    assert stdout == "" and stderr.count("\n") == 1, stderr
    assert stderr.startswith("freqextract: error: ") and BAD[case][1] in stderr, stderr
    assert not any((work / "bad").iterdir())  # no output, no temporary file


@pytest.fixture(scope="module")
def bad_runs(cli, work, end_to_end) -> dict[str, subprocess.CompletedProcess]:
    assert end_to_end["export"].returncode == 0
    (work / "bad").mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda case: _run([*cli, *_args(case)], work, STDIN.get(case)), SUBPROCESS)
        return dict(zip(SUBPROCESS, runs, strict=True))


@pytest.mark.parametrize("case", SUBPROCESS)
def test_mistakes_get_one_line_exit_2_and_leave_nothing(bad_runs, work, case):
    res = bad_runs[case]
    _check(res.returncode, res.stdout, res.stderr, case, work)


@pytest.mark.parametrize("case", list(BAD))
def test_mistakes_in_process(bad_runs, work, case, monkeypatch, capsys):
    monkeypatch.chdir(work)
    monkeypatch.setattr("sys.stdin", io.StringIO(STDIN.get(case, "")))
    rc = main(_args(case))
    out = capsys.readouterr()
    _check(rc, out.out, out.err, case, work)


def test_stream_from_onnx_does_not_import_torch(end_to_end):
    res = end_to_end["onnx-no-torch"]
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0 False"
