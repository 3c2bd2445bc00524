"""Serving: a trained model run on a stream of samples, from a checkpoint or an exported ONNX graph.

:mod:`.stream` holds :class:`StreamExtractor` (push samples, get the components, the state carried);
:mod:`.backend` what a streaming model is and the PyTorch backend; :mod:`.onnx` the ONNX export, its
sidecar and the onnxruntime backend; :mod:`.stream_io` the ``freqextract stream`` files and pipes. May
import the foundation, ``signals``, ``models`` and ``evaluation``; never ``training`` (a deployed model
needs none of it) or anything above. Names load lazily, and nothing on the ONNX path imports torch.
"""

from .._lazy import lazy_names

_NAMES = {
    **dict.fromkeys(["StreamExtractor", "open_extractor", "select_frequencies"], ".stream"),
    **dict.fromkeys(["ModelInfo", "Backend", "TorchBackend", "load_streaming_model"], ".backend"),
    **dict.fromkeys(["export_onnx", "OnnxBackend", "read_sidecar", "sidecar_path"], ".onnx"),
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_names(__name__, _NAMES)
