"""The programmable oscillator: MSE at the held-out frequencies and across the band, from a finished run.

Reads RUN_DIR/metrics.json of a ``freqextract run --config programmable`` run (nothing is trained or run
here), prints one row per frequency (held-out ones first, then the grid), writes the JSON that
benchmarks/update_readme.py turns into the ``programmable`` table of docs/scenarios.md, and draws the
MSE-against-frequency figure to docs/assets/programmable.png.

    python benchmarks/bench_programmable.py RUN_DIR [--out benchmarks/results/programmable.json]
                                                    [--figure docs/assets/programmable.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from freqextract.reporting.programmable_report import mse_figure


def rows(table: dict) -> list[dict]:
    """Held-out frequencies, then the grid, each with whether training could draw it."""
    return ([{**r, "kind": "held out"} for r in table["heldout"]]
            + [{**r, "kind": "seen" if r["seen"] else "held out (margin)"} for r in table["grid"]])


def measure(run_dir: Path) -> dict:
    mpath = run_dir / "metrics.json"
    if not mpath.is_file():
        raise SystemExit(f"{mpath}: not found (a finished `freqextract run --config programmable` run)")
    m = json.loads(mpath.read_text(encoding="utf-8"))
    if m.get("kind") != "programmable" or m.get("status") != "ok":
        raise SystemExit(f"{mpath}: not a finished programmable run")
    t = m["programmable"]
    keep = ("band_hz", "heldout_margin_hz", "seeds", "duration_s", "zero_mse", "grid_step_hz",
            "mean_heldout_mse", "mean_seen_mse", "mean_grid_mse")
    return {"run_dir": str(run_dir), "conditioning": m.get("conditioning"), **{k: t[k] for k in keep},
            "heldout": t["heldout"], "grid": t["grid"], "training": m.get("training", {}).get("seconds"),
            "steps": m.get("training", {}).get("steps")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/programmable.json"))
    p.add_argument("--figure", type=Path, default=Path("docs/assets/programmable.png"))
    a = p.parse_args(argv)
    r = measure(a.run_dir)
    print(f"{'Hz':>6}  {'':<18} {'MSE ' + format(r['duration_s'], 'g') + ' s':>10} {'first s':>10} {'last s':>10}")
    for row in rows(r):
        print(f"{row['hz']:6.2f}  {row['kind']:<18} {row['mse']:10.5f} {row['first_s']:10.5f} {row['last_s']:10.5f}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(r, indent=1) + "\n", encoding="utf-8")
    mse_figure(a.figure, r)
    print(f"wrote {a.out} and {a.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
