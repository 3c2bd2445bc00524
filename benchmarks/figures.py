"""Copy a run's graphs into the documentation: docs/assets/graph1.png (the README's picture) and graph2.png.

    python benchmarks/figures.py RUN_DIR [--assets docs/assets]
    python benchmarks/figures.py --train RUN_DIR      # first train the figure run (about 2 minutes)

RUN_DIR is a finished `freqextract run` directory; figures it does not hold yet are drawn first (as
`freqextract report RUN_DIR` does). ``--train`` makes the run the committed pictures come from: the default
model (H = 64) and the default recipe's warm-up, on the first second of the spec signal (:data:`FIGURE_RUN`,
on top of the bundled `quick` config), since a default 10 s run takes several minutes.
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
from freqextract.reporting.report import write_report

FIGURES = ("graph1.png", "graph2.png")
FIGURE_RUN = ["model.hidden_size=64", "train.warmup_horizon=1000", "train.warmup_steps=2500", "train.growth_steps=10",
              "train.final_steps=200", "train.log_every=100"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--assets", type=Path, default=Path("docs/assets"))
    p.add_argument("--train", action="store_true", help="train the figure run into RUN_DIR first")
    a = p.parse_args(argv)
    made_by = "python benchmarks/figures.py" + (" --train" if a.train else "") + " RUN_DIR"
    if a.train:
        from freqextract.config import load
        from freqextract.studies.run import run

        run(load("quick", FIGURE_RUN), out_dir=a.run_dir, progress=False, echo=print)
    figures = a.run_dir / "figures"
    if not all((figures / name).is_file() for name in FIGURES):
        write_report(a.run_dir)
    a.assets.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        shutil.copyfile(figures / name, a.assets / name)
    cfg = tomllib.loads((a.run_dir / "config.toml").read_text(encoding="utf-8"))
    metrics = json.loads((a.run_dir / "metrics.json").read_text(encoding="utf-8"))
    write_json(a.assets / "figures.json", {
        "made_by": made_by, "config": "quick" + "".join(f" --set {o}" for o in FIGURE_RUN) if a.train else None,
        "scenario": cfg["signal"]["scenario"], "duration_s": cfg["signal"]["duration"],
        "hidden_size": cfg["model"]["hidden_size"], "training_steps": metrics["training"]["steps"],
        "training_seconds": round(metrics["training"]["seconds"]),
        "test_mse": metrics["test"]["mse"], "figures": list(FIGURES)})
    print(f"copied {', '.join(FIGURES)} of {a.run_dir} to {a.assets} (test MSE {metrics['test']['mse']:.5f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
