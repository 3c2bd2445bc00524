"""A multi-output model streams as one stream whose K outputs are the columns: streamed == batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from freqextract.config import SignalConfig, load
from freqextract.evaluation.metrics import predict
from freqextract.models import checkpoint
from freqextract.serving.stream import StreamExtractor
from freqextract.signals.scenarios import generate


@pytest.fixture(scope="module")
def multi_model(tmp_path_factory):
    """A multi-output checkpoint with random weights whose outputs move (see conftest.streaming_checkpoint)."""
    cfg = load(None, ['model.init="default"', "model.outputs=all", "model.hidden_size=16"])
    torch.manual_seed(0)
    model = checkpoint.build_model(cfg)
    with torch.no_grad():
        model.lstm.weight_ih_l0.mul_(4.0)
        model.head.weight.mul_(10.0)
    path = tmp_path_factory.mktemp("multi") / "final.pt"
    checkpoint.save(path, model, cfg, step=0)
    return path, model.eval()


@pytest.fixture(scope="module")
def sig():
    return generate(SignalConfig(duration=1.0), 2)


def test_streamed_equals_batch_and_any_chunking(multi_model, sig):
    torch.set_num_threads(1)
    batch = predict(multi_model[1], sig)  # (K, N)
    ex = StreamExtractor.from_checkpoint(multi_model[0])
    assert ex.n_streams == 1 and ex.n_columns == 4 and ex.state[0].shape == (1, 1, 16)
    one = np.concatenate([ex.push(s) for s in sig.S])  # (N, K)
    assert one.shape == (sig.n_samples, 4) and one.std(axis=0).min() > 0.02
    np.testing.assert_allclose(one, batch.T, rtol=0, atol=1e-5)
    ex.reset()
    chunked = np.concatenate([ex.push(sig.S[:1]), ex.push(sig.S[1:1]), ex.push(sig.S[1:377]), ex.push(sig.S[377:])])
    np.testing.assert_allclose(chunked, one, rtol=0, atol=1e-5)


def test_chosen_frequencies_are_the_columns_in_the_order_asked(multi_model, sig):
    everything = StreamExtractor.from_checkpoint(multi_model[0]).push(sig.S[:200])  # (200, 4)
    ex = StreamExtractor.from_checkpoint(multi_model[0], frequencies=[7, 3])
    assert ex.columns == ["f7Hz", "f3Hz"]
    np.testing.assert_array_equal(ex.push(sig.S[:200]), everything[:, [3, 1]])


def test_onnx_export_streams_like_eager(multi_model, sig, tmp_path):
    pytest.importorskip("onnxruntime")
    from freqextract.serving.onnx import export_onnx

    meta = export_onnx(multi_model[0], tmp_path / "m.onnx")  # checks one step against eager PyTorch itself
    assert meta["kind"] == "multi" and meta["n_inputs"] == 1 and meta["outputs"][0]["shape"] == ["streams*K"]
    eager = StreamExtractor.from_checkpoint(multi_model[0]).push(sig.S[:300])
    onnx = StreamExtractor.from_onnx(tmp_path / "m.onnx")
    assert onnx.info.kind == "multi" and onnx.n_streams == 1
    np.testing.assert_allclose(onnx.push(sig.S[:300]), eager, rtol=0, atol=1e-5)
