"""ONNX export: the graph and its sidecar, onnxruntime streaming == eager PyTorch, failures leave nothing."""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import pytest
import torch
from conftest import streaming_checkpoint

from freqextract.cli import main
from freqextract.errors import UserError
from freqextract.serving.onnx import export_onnx, read_sidecar, sidecar_path
from freqextract.serving.stream import StreamExtractor


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def exported(stream_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    return out, export_onnx(stream_model[0], out)


def test_graph_is_one_step_with_explicit_state_and_a_dynamic_streams_axis(exported):
    path, meta = exported
    model = onnx.load(path)
    onnx.checker.check_model(model)

    def dims(values):
        return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}

    assert dims(model.graph.input) == {"x": ["streams", 5], "h": [1, "streams", 64], "c": [1, "streams", 64]}
    assert dims(model.graph.output) == {"y": ["streams"], "h_out": [1, "streams", 64],
                                        "c_out": [1, "streams", 64]}
    assert [i["name"] for i in meta["inputs"]] == ["x", "h", "c"]
    assert [o["shape"] for o in meta["outputs"]] == [["streams"], [1, "streams", 64], [1, "streams", 64]]


def test_sidecar_holds_frequencies_fs_config_and_versions(exported, stream_model):
    path, meta = exported
    assert sidecar_path(path).name == "model.onnx.json"
    on_disk = json.loads(sidecar_path(path).read_text())
    assert on_disk == meta
    assert meta["frequencies"] == [1.0, 3.0, 5.0, 7.0] and meta["fs"] == 1000.0
    assert (meta["hidden_size"], meta["num_layers"], meta["n_inputs"]) == (64, 1, 5)
    assert meta["config"]["signal"]["frequencies"] == [1.0, 3.0, 5.0, 7.0]
    assert meta["config"]["model"]["init"] == "default"
    assert set(meta["versions"]) == {"torch", "onnx", "onnxscript", "onnxruntime"} and meta["freqextract"]
    info = read_sidecar(path)
    assert info.frequencies == (1.0, 3.0, 5.0, 7.0) and info.hidden_size == 64 and info.n_inputs == 5


def test_onnx_streamed_10000_steps_equals_eager_pytorch(exported, stream_model, spec_test):
    eager = StreamExtractor.from_checkpoint(stream_model[0]).push(spec_test.S)  # (10000, 4), fused
    ort = StreamExtractor.from_onnx(exported[0])
    got = np.concatenate([ort.push(s) for s in spec_test.S])  # one session run per sample, state fed back
    assert got.shape == (10_000, 4) and got.std(axis=0).min() > 0.02
    np.testing.assert_allclose(got, eager, rtol=0, atol=1e-5)


@pytest.mark.parametrize("freqs", [[5.0], [7.0, 3.0, 1.0]])
def test_any_number_of_streams_runs_the_same_graph(exported, stream_model, spec_test, freqs):
    eager = StreamExtractor.from_checkpoint(stream_model[0], frequencies=freqs).push(spec_test.S[:1500])
    got = StreamExtractor.from_onnx(exported[0], frequencies=freqs).push(spec_test.S[:1500])
    assert got.shape == (1500, len(freqs))
    np.testing.assert_allclose(got, eager, rtol=0, atol=1e-5)


def test_state_moves_between_backends(exported, stream_model, spec_test):
    """Both backends keep the same numpy state: a stream started in PyTorch continues in onnxruntime."""
    S = spec_test.S
    torch_ex = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[3, 7])
    torch_ex.push(S[:2000])
    ort_ex = StreamExtractor.from_onnx(exported[0], frequencies=[3, 7])
    ort_ex.state = torch_ex.state
    np.testing.assert_allclose(ort_ex.push(S[2000:2500]), torch_ex.push(S[2000:2500]), rtol=0, atol=1e-5)


def test_missing_onnx_packages_name_the_extra(stream_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if it were not installed
    with pytest.raises(UserError, match=r'needs onnxscript: pip install "freqextract\[export\]"'):
        export_onnx(stream_model[0], tmp_path / "m.onnx")
    assert main(["export", "--checkpoint", str(stream_model[0]), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "freqextract[export]"' in err
    assert list(tmp_path.iterdir()) == []


def test_reset_sequence_model_and_bad_out_are_refused(tmp_path):
    ckpt = tmp_path / "reset.pt"
    streaming_checkpoint(ckpt, seq_len=10, window_state="reset")
    with pytest.raises(UserError, match="reset.pt: holds a freqextract.SequenceLSTM with window_state"):
        export_onnx(ckpt, tmp_path / "m.onnx")
    with pytest.raises(UserError, match=r"--out .*m\.pt: the file name must end in \.onnx"):
        export_onnx(ckpt, tmp_path / "m.pt")
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(UserError, match="dir.onnx: is a directory"):
        export_onnx(ckpt, tmp_path / "dir.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.onnx", "reset.pt"]


def test_a_failed_check_leaves_neither_file(stream_model, tmp_path, monkeypatch):
    import freqextract.serving.onnx as export

    def differs(*args):
        raise RuntimeError("exported graph differs from PyTorch")

    monkeypatch.setattr(export, "_check_against_eager", differs)
    with pytest.raises(RuntimeError, match="differs"):
        export_onnx(stream_model[0], tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_onnx_files_that_are_not_ours_are_user_errors(exported, tmp_path):
    path, meta = exported
    with pytest.raises(UserError, match="missing.onnx: ONNX file not found"):
        StreamExtractor.from_onnx(tmp_path / "missing.onnx")
    (tmp_path / "alone.onnx").write_bytes(path.read_bytes())
    with pytest.raises(UserError, match=r"alone.onnx.json: sidecar not found"):
        StreamExtractor.from_onnx(tmp_path / "alone.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    sidecar_path(tmp_path / "junk.onnx").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="junk.onnx: onnxruntime cannot load it"):
        StreamExtractor.from_onnx(tmp_path / "junk.onnx")
    for field, value, message in [("format", "other", "not a freqextract ONNX sidecar"),
                                  ("frequencies", [], "field frequencies must be"),
                                  ("fs", -1, "field fs must be"),
                                  ("hidden_size", 32, "do not match its sidecar")]:
        (tmp_path / "edit.onnx").write_bytes(path.read_bytes())
        sidecar_path(tmp_path / "edit.onnx").write_text(json.dumps({**meta, field: value}))
        with pytest.raises(UserError, match=message):
            StreamExtractor.from_onnx(tmp_path / "edit.onnx")
    sidecar_path(tmp_path / "edit.onnx").write_text("{")
    with pytest.raises(UserError, match="edit.onnx.json: not a JSON sidecar"):
        StreamExtractor.from_onnx(tmp_path / "edit.onnx")
