"""The models shipped inside the package: loaded weights-only, and as good on fresh data as their card says."""

import json

import numpy as np
import pytest

from freqextract.models import checkpoint
from freqextract.serving import bundled

NAMES = bundled.names()


def test_unknown_names_list_the_bundled_ones():
    from freqextract.errors import UserError

    with pytest.raises(UserError, match="no such bundled model"):
        bundled.folder("no-such-model")


@pytest.mark.skipif(not NAMES, reason="no bundled model in this installation")
@pytest.mark.parametrize("name", NAMES)
def test_bundled_model_measures_what_its_card_records(name):
    from freqextract.evaluation.mix import check_model

    card = bundled.card(name)
    model, cfg, ckpt = checkpoint.load_model(bundled.checkpoint_path(name))  # torch.load(weights_only=True)
    assert ckpt.get("optimizer") is None
    got = check_model(model, cfg, card["check"]["seeds"])
    assert got["nmse"] == pytest.approx(card["check"]["nmse"], rel=1e-4)
    assert got["absent_power"] == pytest.approx(card["check"]["absent_power"], rel=1e-4)
    side = json.loads((bundled.folder(name) / "model.onnx.json").read_text())
    assert side["kind"] == "conditioned" and side["band_hz"] == card["band_hz"]
    assert (bundled.folder(name) / "config.toml").is_file() and card["trained_with"].startswith("freqextract run")


@pytest.mark.skipif(not NAMES, reason="no bundled model in this installation")
def test_stream_without_a_checkpoint_uses_the_default_bundled_model(tmp_path):
    from freqextract.serving.stream import StreamExtractor

    ex = StreamExtractor.from_checkpoint(bundled.checkpoint_path(), frequencies=[2.5, 6.8])
    t = np.arange(3000) / 1000.0
    y = ex.push(0.8 * np.sin(2 * np.pi * 2.5 * t) + 0.5 * np.sin(2 * np.pi * 6.8 * t + 1))
    assert y.shape == (3000, 2) and np.isfinite(y).all()
