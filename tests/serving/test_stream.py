"""The streaming extractor (PyTorch backend): streamed == batch, chunking, reset, state, selection, kinds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import streaming_checkpoint

from freqextract.errors import UserError
from freqextract.evaluation.metrics import predict
from freqextract.serving.stream import StreamExtractor, select_frequencies
from freqextract.signals.data import to_streams


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def streamed(stream_model, spec_test):
    """All four frequencies pushed one sample at a time over the whole test signal: (N, 4)."""
    ex = StreamExtractor.from_checkpoint(stream_model[0])
    return np.concatenate([ex.push(s) for s in spec_test.S])


def test_streamed_sample_by_sample_equals_batch_evaluation(stream_model, streamed, spec_test):
    batch = predict(stream_model[1], spec_test)  # (K, N): the evaluation's one fused call from the reset
    assert streamed.shape == (spec_test.n_samples, 4) and streamed.dtype == np.float32
    assert streamed.std(axis=0).min() > 0.02  # a model whose outputs move, not a constant
    np.testing.assert_allclose(streamed, batch.T, rtol=0, atol=1e-5)


def test_chunked_equals_sample_by_sample(stream_model, streamed, spec_test):
    ex = StreamExtractor.from_checkpoint(stream_model[0])
    sizes = [1, 0, 7, 250, 1, 1742, 3000, 4999]
    assert sum(sizes) == spec_test.n_samples
    bounds = np.cumsum([0, *sizes])
    out = [ex.push(spec_test.S[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    assert out[1].shape == (0, 4)
    np.testing.assert_allclose(np.concatenate(out), streamed, rtol=0, atol=1e-6)


def test_reset_starts_the_sequence_again(stream_model, streamed, spec_test):
    ex = StreamExtractor.from_checkpoint(stream_model[0])
    ex.push(spec_test.S[:1234])
    assert np.abs(ex.state[0]).max() > 0
    ex.reset()
    assert not ex.state[0].any() and not ex.state[1].any()
    np.testing.assert_allclose(ex.push(spec_test.S[:500]), streamed[:500], rtol=0, atol=1e-6)


def test_state_saved_and_restored_resumes_the_stream(stream_model, spec_test):
    S = spec_test.S
    ex = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[3, 5])
    ex.push(S[:700])
    saved = ex.state
    assert saved[0].shape == saved[1].shape == (1, 2, 64) == ex.state_shape
    ex.state[0][...] = 0.0  # the property hands out copies: this must not touch the stream
    assert np.array_equal(ex.state[0], saved[0]) and saved[0].any()
    after = ex.push(S[700:1000])
    other = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[3, 5])
    other.state = saved
    np.testing.assert_allclose(np.concatenate([other.push(s) for s in S[700:1000]]), after, rtol=0, atol=1e-6)


def test_state_setter_checks_shape_and_values(stream_model):
    ex = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[1])
    h, c = ex.state
    with pytest.raises(ValueError, match=r"state h: expected shape \(1, 1, 64\)"):
        ex.state = (np.zeros((1, 2, 64)), c)
    with pytest.raises(ValueError, match="state c: contains NaN"):
        ex.state = (h, np.full_like(c, np.nan))


def test_chosen_frequencies_are_the_matching_streams_in_the_order_given(stream_model, streamed, spec_test):
    ex = StreamExtractor.from_checkpoint(stream_model[0], frequencies=[7, 1.0])
    assert ex.frequencies == (7.0, 1.0) and ex.columns == ["f7Hz", "f1Hz"] and ex.n_streams == 2
    np.testing.assert_allclose(ex.push(spec_test.S[:2000]), streamed[:2000, [3, 0]], rtol=0, atol=1e-6)


@pytest.mark.parametrize(("wanted", "message"), [
    ([2.0], r"frequency 2 Hz: not one of the model's frequencies \(1, 3, 5, 7 Hz\)"),
    ([3.0, 1.0, 3.0], "frequency 3 Hz: chosen twice"),
    ([], "choose at least one"),
])
def test_unknown_or_repeated_frequencies_are_user_errors(wanted, message):
    with pytest.raises(UserError, match=message):
        select_frequencies((1.0, 3.0, 5.0, 7.0), wanted)


def test_push_rejects_non_finite_samples_and_2d_input(stream_model):
    ex = StreamExtractor.from_checkpoint(stream_model[0])
    with pytest.raises(ValueError, match="sample 2 of the chunk is nan"):
        ex.push([0.1, 0.2, np.nan])
    with pytest.raises(ValueError, match="is inf"):
        ex.push(np.inf)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        ex.push(np.zeros((2, 2)))
    assert not ex.state[0].any()  # a refused push leaves the state alone


def test_carry_sequence_checkpoint_streams_like_its_windowed_forward(tmp_path, spec_test):
    """A carry-mode SequenceLSTM computes the L = 1 outputs, so it streams; checked against its forward."""
    path = tmp_path / "carry.pt"
    model = streaming_checkpoint(path, seq_len=10, window_state="carry", seed=1)
    x, _ = to_streams(spec_test)
    with torch.no_grad():
        windowed = model(torch.as_tensor(x[:, :3000]))[0].numpy()  # (4, 3000), windows of 10 carried
    ex = StreamExtractor.from_checkpoint(path)
    out = np.concatenate([ex.push(s) for s in spec_test.S[:3000]])
    assert out.std(axis=0).min() > 0.02
    np.testing.assert_allclose(out, windowed.T, rtol=0, atol=1e-5)


def test_reset_sequence_checkpoint_is_refused_naming_file_and_kind(tmp_path):
    path = tmp_path / "reset.pt"
    streaming_checkpoint(path, seq_len=10, window_state="reset")
    with pytest.raises(UserError, match=r"reset\.pt: holds a freqextract\.SequenceLSTM with window_state "
                                        r"'reset' \(seq_len 10\)") as e:
        StreamExtractor.from_checkpoint(path)
    assert "\n" not in str(e.value)
