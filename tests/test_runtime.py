"""The process setup shared by training, evaluation and serving."""

from freqextract.runtime import select_device


def test_select_device():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
