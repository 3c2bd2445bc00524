"""Copy a run's graphs into the documentation: docs/assets/graph1.png (the README's picture) and graph2.png.

    python benchmarks/figures.py RUN_DIR [--assets docs/assets]
    python benchmarks/figures.py --train RUN_DIR      # first train the figure run (about a minute)

RUN_DIR is a finished `freqextract run` directory; figures it does not hold yet are drawn first (as
`freqextract report RUN_DIR` does). ``--train`` makes the run the committed pictures come from: a default
`freqextract run` (config :data:`freqextract.config.DEFAULT_RUN`, the whole 10 s).
docs/assets/figures.json records which run the pictures come from (its command, scenario, signal length,
hidden size, training steps and seconds, test MSE), so a page can say so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tomllib
from pathlib import Path

from freqextract.atomic import write_json
from freqextract.config import DEFAULT_RUN, load
from freqextract.fmt import mse
from freqextract.reporting.report import write_report

FIGURES = ("graph1.png", "graph2.png")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--assets", type=Path, default=Path("docs/assets"))
    p.add_argument("--train", action="store_true", help="train the figure run into RUN_DIR first")
    a = p.parse_args(argv)
    made_by = "python benchmarks/figures.py" + (" --train" if a.train else "") + " RUN_DIR"
    if a.train:
        from freqextract.studies.run import run

        run(load(DEFAULT_RUN), out_dir=a.run_dir, progress=False, echo=print)
    figures = a.run_dir / "figures"
    if not all((figures / name).is_file() for name in FIGURES):
        write_report(a.run_dir)
    a.assets.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        shutil.copyfile(figures / name, a.assets / name)
    cfg = tomllib.loads((a.run_dir / "config.toml").read_text(encoding="utf-8"))
    metrics = json.loads((a.run_dir / "metrics.json").read_text(encoding="utf-8"))
    write_json(a.assets / "figures.json", {
        "made_by": made_by, "config": DEFAULT_RUN if a.train else None,
        "scenario": cfg["signal"]["scenario"], "duration_s": cfg["signal"]["duration"],
        "hidden_size": cfg["model"]["hidden_size"], "training_steps": metrics["training"]["steps"],
        "training_seconds": round(metrics["training"]["seconds"]),
        "test_mse": metrics["test"]["mse"], "figures": list(FIGURES)})
    print(f"copied {', '.join(FIGURES)} of {a.run_dir} to {a.assets} (test MSE {mse(metrics['test']['mse'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
