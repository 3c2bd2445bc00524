"""The HTML pieces the run report and the sweep report share: the style sheet, escaping, numbers,
tables and embedded figures. Pages are self-contained: figures are data URIs, nothing is fetched.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1180px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 3px 10px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
tr.model td { font-weight: 600; background: #fff8e6; }
.headline { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 10em; }
.card .v { font-size: 1.5em; font-weight: 600; } .card .l { color: #555; font-size: 0.85em; }
figure { margin: 1.5em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f5f5f5; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.note { color: #444; max-width: 60em; } .muted { color: #777; }
"""


def esc(v) -> str:
    return html.escape(str(v))


def num(v, digits: int = 5, signed: bool = False, sci: bool = True) -> str:
    """Fixed point with ``digits`` decimals; scientific where that would print 0.00000 (and ``sci``)."""
    if v is None:
        return "–"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return esc(v)
    sign = "+" if signed else ""
    if sci and v != 0 and (abs(v) < 10 ** -digits or abs(v) >= 1e6):
        return f"{v:{sign}.2e}"
    return f"{v:{sign}.{digits}f}"


def table(head: list[str] | None, rows: list[list], row_class: list[str] | None = None,
          table_id: str = "") -> str:
    h = "<tr>" + "".join(f"<th>{esc(c)}</th>" for c in head) + "</tr>" if head else ""
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{row_class[i]}"' if row_class and row_class[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    tid = f' id="{table_id}"' if table_id else ""
    return f"<table{tid}>{h}{''.join(body)}</table>"


def img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure id="fig-{esc(path.stem)}">'
            f'<img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def run_head(name: str) -> str:
    """The start of a run's page, up to its heading ``freqextract run NAME``."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>freqextract run: {esc(name)}</title>
<style>{CSS}</style></head><body>
<h1>freqextract run <code>{esc(name)}</code></h1>"""


def headline(cards: list[tuple[str, str]]) -> str:
    """The headline cards: (label, value as HTML) each."""
    return "".join(f"<div class='card'><div class='v'>{v}</div><div class='l'>{esc(label)}</div></div>"
                   for label, v in cards)


def run_page(run_dir: Path, intro: str, cards: list[tuple[str, str]], sections: str,
             figures: list[tuple[Path, str]], training: dict) -> str:
    """The page of a conditioned run (mix, programmable): ``intro`` (HTML), the headline cards (label,
    value as HTML), ``sections`` (HTML), the figures, the training note and the run's config.toml."""
    cpath = run_dir / "config.toml"
    config = cpath.read_text(encoding="utf-8", errors="replace") if cpath.exists() else "(no config.toml)"
    tr = training
    return f"""{run_head(run_dir.name)}
{intro}
<div class="headline">{headline(cards)}</div>
{sections}
<h2>Figures</h2>
{"".join(img(p, cap) for p, cap in figures)}
<p class="note">Trained for {tr.get('steps')} steps in {num(tr.get('seconds'), 0)} s on {esc(tr.get('device'))}.</p>
<h2>Configuration</h2>
<pre>{esc(config)}</pre>
</body></html>
"""
