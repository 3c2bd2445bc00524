"""Checkpoints load weights-only: another kind, another format, a config from another version, a damaged
file or a crafted pickle each get one line naming the file, and no pickled code ever runs."""

from __future__ import annotations

import io
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cli_env

from freqextract.cli import main
from freqextract.config import SignalConfig, load, to_dict
from freqextract.errors import UserError
from freqextract.models import checkpoint
from freqextract.models.lstm import SequenceLSTM
from freqextract.signals.data import save_npz
from freqextract.signals.scenarios import generate
from freqextract.studies.run import run
from freqextract.training import resume
from freqextract.training.curriculum import Curriculum

CFG = load("quick")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """An untrained model checkpoint and a training state of the quick config, and a data file."""
    d = tmp_path_factory.mktemp("ckpt")
    model = checkpoint.build_model(CFG)
    optimizer = torch.optim.Adam(model.parameters())
    checkpoint.save(d / "model.pt", model, CFG, 0, optimizer)
    resume.save(d / "state.pt", CFG, model=model, optimizer=optimizer, curriculum=Curriculum(CFG),
                rng=np.random.default_rng(0), step=0, history=[], seconds=0.0, done=False)
    save_npz(generate(SignalConfig(duration=0.2), 2), d / "test.npz")
    return {"model": d / "model.pt", "state": d / "state.pt", "data": d / "test.npz"}


def _rewrite(src: Path, dst: Path, **changes) -> Path:
    ckpt = torch.load(src, weights_only=True)
    ckpt.update(changes)
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    dst.write_bytes(buf.getvalue())
    return dst


def _one_line(info, path: Path) -> str:
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg, msg
    return msg


def test_the_kinds_do_not_mix(saved):
    model, cfg, _ = checkpoint.load_model(saved["model"])
    assert cfg == CFG
    assert resume.load(saved["state"], CFG)["step"] == 0
    with pytest.raises(UserError) as info:
        checkpoint.load_model(saved["state"])
    assert "not a freqextract model (give checkpoints/final.pt)" in _one_line(info, saved["state"])
    with pytest.raises(UserError) as info:
        resume.load(saved["model"], CFG)
    assert "not a training state to resume from" in _one_line(info, saved["model"])


@pytest.mark.parametrize("change, expected", [
    ({"kind": "freqextract.SequenceLSTM"}, "does not match its config"),
    ({"kind": "somebody.Transformer"}, "not a freqextract model"),
    ({"format": 2}, "format 2 is not supported"),
    ({"format": None}, "format None is not supported"),
    ({"config": {**to_dict(CFG), "train": {**to_dict(CFG)["train"], "lr_schedule": "cosine"}}},
     "not valid for this version (train.lr_schedule: unknown key"),
    ({"config": {**to_dict(CFG), "model": {**to_dict(CFG)["model"], "hidden_size": 32}}},
     "weights do not fit the model"),
    ({"config": "not a table"}, "not valid for this version"),
    ({"state_dict": {"lstm.weight_ih_l0": torch.zeros(3)}}, "weights do not fit the model"),
])
def test_model_checkpoints_from_elsewhere_are_refused(saved, tmp_path, change, expected):
    path = _rewrite(saved["model"], tmp_path / "other.pt", **change)
    with pytest.raises(UserError) as info:
        checkpoint.load_model(path)
    assert expected in _one_line(info, path)


def test_a_sequence_model_checkpoint_loads_as_one(tmp_path):
    cfg = load("quick", ["model.seq_len=10"])
    checkpoint.save(tmp_path / "seq.pt", checkpoint.build_model(cfg), cfg, 0)
    assert isinstance(checkpoint.load_model(tmp_path / "seq.pt")[0], SequenceLSTM)


@pytest.mark.parametrize("change, expected", [
    ({"config": {**to_dict(CFG), "train": {**to_dict(CFG)["train"], "seed": 5}}},
     "written for another config"),
    ({"curriculum": {"step": 0}}, "damaged training state"),
    ({"rng": {}}, "damaged training state"),
    ({"step": "3"}, "not a complete training state"),
    ({"model_kind": "freqextract.SequenceLSTM"}, "holds the state of a"),
])
def test_training_states_from_elsewhere_are_refused(saved, tmp_path, change, expected):
    path = _rewrite(saved["state"], tmp_path / "resume-0.pt", **change)
    model = checkpoint.build_model(CFG)
    with pytest.raises(UserError) as info:
        state = resume.load(path, CFG)
        resume.restore(path, state, model=model, optimizer=torch.optim.Adam(model.parameters()),
                       curriculum=Curriculum(CFG), rng=np.random.default_rng(0))
    assert expected in _one_line(info, path)


@pytest.mark.parametrize("how", ["half", "first-100-bytes", "last-byte", "empty", "text", "random-bytes",
                                 "zeroed-middle", "directory", "missing"])
def test_damaged_checkpoints_are_refused(saved, tmp_path, how):
    data = saved["model"].read_bytes()
    path = tmp_path / "final.pt"
    damaged = {"half": data[: len(data) // 2], "first-100-bytes": data[:100], "last-byte": data[:-1],
               "empty": b"", "text": b"kind = 'freqextract.StatefulLSTM'\n",
               "random-bytes": np.random.default_rng(1).bytes(5000),
               "zeroed-middle": data[: len(data) // 2] + b"\0" * 512 + data[len(data) // 2 + 512:]}
    if how == "directory":
        path.mkdir()
    elif how != "missing":
        path.write_bytes(damaged[how])
    for load_it in (checkpoint.load_model, lambda p: resume.load(p, CFG)):
        with pytest.raises(UserError) as info:
            load_it(path)
        _one_line(info, path)


# ---------------------------------------------------------------------------------------------- pickles
class Evil:
    """Unpickling this runs ``exec``: it writes the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


def _evil_files(d: Path, marker: Path) -> dict[str, Path]:
    """Three carriers of the same payload: torch's zip format, a checkpoint dict with the payload inside,
    and a raw pickle file."""
    files = {"zip": d / "evil-zip.pt", "inside": d / "evil-inside.pt", "raw": d / "evil-raw.pt"}
    torch.save(Evil(marker), files["zip"])
    torch.save({"kind": "freqextract.StatefulLSTM", "format": 1, "state_dict": Evil(marker)}, files["inside"])
    files["raw"].write_bytes(pickle.dumps(Evil(marker)))
    return files


@pytest.mark.parametrize("carrier", ["zip", "inside", "raw"])
def test_a_malicious_pickle_is_refused_without_running(tmp_path, carrier):
    marker = tmp_path / "marker"
    path = _evil_files(tmp_path, marker)[carrier]
    # the payload is real: an unsafe load runs it
    if carrier == "raw":
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.read_text() == "pwned"
    marker.unlink()
    for load_it in (checkpoint.load_model, lambda p: resume.load(p, CFG)):
        with pytest.raises(UserError) as info:
            load_it(path)
        # a bare pickle is not even a torch archive: refused before any unpickling
        expected = "not a torch archive" if carrier == "raw" else "refused to load"
        assert expected in _one_line(info, path)
    assert not marker.exists()


def test_malicious_checkpoints_through_the_cli(cli, saved, tmp_path, capsys):
    """`freqextract evaluate --checkpoint EVIL.pt` (the real command) and `train --resume` with an evil
    training state: exit 2, one line naming the file, the payload never runs."""
    marker = tmp_path / "marker"
    files = _evil_files(tmp_path, marker)
    proc = subprocess.run([*cli, "evaluate", "--checkpoint", str(files["zip"]), "--data", str(saved["data"])],
                          capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"freqextract: error: {files['zip']}: refused to load")
    for f in files.values():
        assert main(["evaluate", "--checkpoint", str(f), "--data", str(saved["data"])]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"freqextract: error: {f}: ") and len(err.splitlines()) == 1
    run_dir = tmp_path / "run"
    run(CFG, out_dir=run_dir, progress=False, evaluate=False)
    (run_dir / "checkpoints" / "final.pt").unlink()
    (run_dir / "checkpoints" / "resume-0.pt").write_bytes(files["inside"].read_bytes())
    assert main(["train", "--resume", str(run_dir)]) == 2
    assert "resume-0.pt: refused to load" in capsys.readouterr().err
    assert not marker.exists()
