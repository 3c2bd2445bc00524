"""Reporting: figures and self-contained HTML pages, drawn from results that already exist.

:mod:`.plots` draws a run's figures, :mod:`.report` writes a run directory's ``report.html`` from its
files (with :mod:`.explain_section` and :mod:`.explain_plots`: "Inside the model", from explain.json),
:mod:`.sweep_plots` and :mod:`.sweep_report` draw and write a study's page from its summary dict,
and :mod:`.html` holds the style sheet and HTML helpers both pages share. Reporting renders; it computes
no new results and reads no study storage. May import the foundation, ``signals``, ``models``,
``evaluation``, ``training`` and ``serving``; never ``studies`` or the CLI. Names load lazily: importing
the package does not import matplotlib.
"""

from .._lazy import lazy_names

_NAMES = {"write_report": ".report", "write_sweep_html": ".sweep_report", "headline": ".sweep_report"}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_names(__name__, _NAMES)
