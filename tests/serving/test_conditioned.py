"""Streaming a frequency-conditioned model: streamed == batch in any chunking, ONNX == eager, the band
and the sampling rate converted and checked."""

import numpy as np
import pytest
import torch

from freqextract.config import load
from freqextract.errors import UserError
from freqextract.evaluation.mix import model_outputs
from freqextract.models.checkpoint import build_model, save
from freqextract.serving.stream import StreamExtractor
from freqextract.signals.mix import Requests
from freqextract.signals.scenarios import generate


@pytest.fixture(scope="module", params=["demod", "film"])
def conditioned(request, tmp_path_factory):
    cfg = load("mix", [f'model.conditioning="{request.param}"', "model.hidden_size=8", "signal.duration=1.0"])
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    path = tmp_path_factory.mktemp(request.param) / "final.pt"
    save(path, model, cfg, step=0)
    return path, model, cfg


def test_streamed_in_chunks_equals_batch(conditioned):
    path, model, cfg = conditioned
    sig = generate(cfg.signal, 3)
    want = model_outputs(model, sig, Requests(np.array([2.5, 6.8, 15.0]), np.array([-1, -1, -1])), cfg)
    ex = StreamExtractor.from_checkpoint(path, frequencies=[2.5, 6.8, 15.0])
    got = np.concatenate([ex.push(sig.S[a:b]) for a, b in ((0, 1), (1, 333), (333, 1000))])
    assert got.shape == (1000, 3) and ex.position == 1000
    assert np.allclose(got.T, want, atol=1e-5)
    ex.reset()
    assert np.allclose(ex.push(sig.S[:10]).T, want[:, :10], atol=1e-5)


def test_requests_outside_the_band_are_refused_in_hz_at_the_files_rate(conditioned):
    path, _, _ = conditioned
    with pytest.raises(UserError, match=r"25 Hz: outside the model's band 0.5 to 20 Hz"):
        StreamExtractor.from_checkpoint(path, frequencies=[3, 25])
    with pytest.raises(UserError, match=r"outside the model's band 1 to 40 Hz at fs 2000 Hz"):
        StreamExtractor.from_checkpoint(path, frequencies=[0.8], fs=2000)
    with pytest.raises(UserError, match="give at least one"):
        StreamExtractor.from_checkpoint(path, frequencies=None)


def test_a_file_at_another_rate_is_the_same_in_cycles_per_sample(conditioned):
    path, _, _ = conditioned
    S = np.random.default_rng(0).normal(size=300)
    at_1k = StreamExtractor.from_checkpoint(path, frequencies=[4.0]).push(S)
    at_2k = StreamExtractor.from_checkpoint(path, frequencies=[8.0], fs=2000).push(S)
    assert np.array_equal(at_1k, at_2k)


def test_onnx_equals_eager_for_the_conditioned_model(conditioned, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from freqextract.serving.onnx import export_onnx

    path, _, cfg = conditioned
    sidecar = export_onnx(path, tmp_path / "m.onnx")
    assert sidecar["kind"] == "conditioned" and sidecar["band_hz"] == [0.5, 20.0]
    S = generate(cfg.signal, 5).S[:400]
    eager = StreamExtractor.from_checkpoint(path, frequencies=[1.5, 9.0]).push(S)
    onnx = StreamExtractor.from_onnx(tmp_path / "m.onnx", frequencies=[1.5, 9.0])
    got = np.concatenate([onnx.push(S[:150]), onnx.push(S[150:])])
    assert np.allclose(got, eager, atol=1e-5)
    with pytest.raises(UserError, match="outside the model's band"):
        StreamExtractor.from_onnx(tmp_path / "m.onnx", frequencies=[30.0])
