"""Ship a trained model inside the package: ``src/freqextract/bundled/<name>/``.

From a finished run directory (``freqextract run --config mix --out RUN_DIR``) it writes

    model.pt            the checkpoint without the optimiser state (loaded weights-only)
    model.onnx(.json)   its one-step ONNX export and sidecar (freqextract.serving.onnx, checked against eager)
    config.toml         the config it was trained with
    card.json           the command that trained it, its training time and the machine, versions, its held-out
                        metrics from RUN_DIR/metrics.json (with the tuned references), and a check: the
                        model's NMSE and absent power on freshly generated mixtures (seeds CHECK_SEEDS),
                        which tests/serving/test_bundled.py re-measures from the shipped files

and a copy of the card as ``benchmarks/results/bundled-<name>.json``, which ``update_readme.py`` turns into
the README's table of the bundled model.

    python benchmarks/bundle_model.py RUN_DIR [--name extractor] [--trained-with "freqextract run --config mix"]
                                      [--stage EARLIER_RUN_DIR "ITS COMMAND" ...] [--after-bundled NAME]

A model trained in stages (a run started from another run's weights with ``--init-from``) names each
earlier run with ``--stage``: the card then lists every stage's command, steps and training time, and its
totals are theirs added up. ``--after-bundled NAME``: RUN_DIR went on from the model bundled as NAME, whose
card already lists its stages; they come first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

import torch

from freqextract.atomic import write_json, write_text
from freqextract.errors import UserError
from freqextract.evaluation.mix import check_model
from freqextract.models import checkpoint
from freqextract.serving.bundled import ROOT
from freqextract.serving.bundled import card as bundled_card
from freqextract.serving.onnx import export_onnx

RESULTS = Path(__file__).resolve().parent / "results"
CHECK_SEEDS = [5001, 5002, 5003, 5004]  # outside the test (2..), validation (12) and tuning (1001..) seeds


def _kept_seconds(metrics: dict) -> float:
    """The kept candidate's own training time (metrics' "seconds" counts only the last invocation's)."""
    return next(c["seconds"] for c in metrics["training"]["candidates"] if c.get("kept"))


def stages_of(run_dir: Path, trained_with: str, earlier: list[tuple[str, str]]) -> list[dict]:
    """Every stage that trained the model, first to last: run directory, command, steps, seconds."""
    out = []
    for d, cmd in [*earlier, (str(run_dir), trained_with)]:
        path = Path(d) / "metrics.json"
        if not path.is_file():
            raise UserError(f"{d}: no metrics.json (not a finished run)")
        m = json.loads(path.read_text(encoding="utf-8"))
        out.append({"run": Path(d).name, "command": cmd, "steps": m["training"]["steps"],
                    "seconds": _kept_seconds(m)})
    return out


def bundle(run_dir: Path, name: str, trained_with: str, earlier: list[tuple[str, str]] = (),
           prior: list[dict] = ()) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    if metrics.get("kind") != "conditioned" or metrics.get("status") != "ok":
        raise UserError(f"{run_dir}: not a finished run of a frequency-conditioned model (scenario mix)")
    model, cfg, ckpt = checkpoint.load_model(run_dir / "checkpoints" / "final.pt")
    out = ROOT / name
    tmp = ROOT / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    checkpoint.save(tmp / "model.pt", model, cfg, ckpt["step"], extra=ckpt.get("extra"))
    export_onnx(tmp / "model.pt", tmp / "model.onnx")
    side = json.loads((tmp / "model.onnx.json").read_text(encoding="utf-8"))
    side["checkpoint"] = "model.pt"  # not the temporary path it was exported from
    write_text(tmp / "model.onnx.json", json.dumps(side, indent=2) + "\n")
    shutil.copy(run_dir / "config.toml", tmp / "config.toml")
    shipped, _, _ = checkpoint.load_model(tmp / "model.pt")
    test = metrics["test"]
    stages = [*prior, *stages_of(run_dir, trained_with, list(earlier))]
    card = {
        "name": name,
        "summary": (f"general extractor: any frequency in {cfg.signal.band[0]:g}..{cfg.signal.band[1]:g} Hz at "
                    f"{cfg.signal.fs:g} Hz (scaled for other rates), several at once; held-out NMSE "
                    f"{test['model']['nmse']:.4f} (tuned band-pass {test['references']['bandpass-tuned']['nmse']:.4f}, "
                    f"tuned single-frequency RLS {test['references']['rls-single-tuned']['nmse']:.4f}); "
                    f"target {'met' if test['verdict']['met'] else 'missed'}"),
        "kind": "conditioned", "conditioning": cfg.model.conditioning, "band_hz": list(cfg.signal.band),
        "fs": cfg.signal.fs,
        "trained_with": " && ".join(st["command"] for st in stages), "stages": stages,
        "training_steps": sum(st["steps"] for st in stages),
        "training_seconds": sum(st["seconds"] for st in stages),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "device": metrics["training"]["device"],
                    "torch_threads": cfg.train.threads},
        "versions": metrics.get("versions"),
        "held_out": {k: metrics[k] for k in ("test", "test_sigma_0.1") if k in metrics},
        "check": check_model(shipped, cfg, CHECK_SEEDS),
    }
    for k in card["held_out"].values():  # the per-request lists stay in the run's metrics.json
        k["model"] = {a: b for a, b in k["model"].items() if a not in ("per_sequence", "per_request")}
    write_json(tmp / "card.json", card)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    write_json(RESULTS / f"bundled-{name}.json", card)  # the tables of the README and docs are written from it
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--name", default="extractor")
    ap.add_argument("--trained-with", default="freqextract run --config mix",
                    help="the command that trained the run (recorded in the card)")
    ap.add_argument("--stage", nargs=2, action="append", default=[], metavar=("RUN_DIR", "COMMAND"),
                    help="an earlier stage whose checkpoint this run started from (--init-from), first first")
    ap.add_argument("--after-bundled", metavar="NAME",
                    help="RUN_DIR started from the model bundled as NAME: its card's stages come first")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        prior = bundled_card(args.after_bundled).get("stages") if args.after_bundled else []
        if prior is None:
            raise UserError(f"--after-bundled {args.after_bundled}: its card lists no stages")
        card = bundle(args.run_dir, args.name, args.trained_with, [tuple(s) for s in args.stage], prior)
    except UserError as e:
        print(f"bundle_model: {e}", file=sys.stderr)
        return 2
    print(f"wrote {ROOT / args.name}: {card['summary']}")
    print(f"check on seeds {CHECK_SEEDS}: NMSE {card['check']['nmse']:.5f}, absent power "
          f"{card['check']['absent_power']:.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
