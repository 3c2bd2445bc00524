"""MkDocs hook: the command-line reference's option lists, made from the CLI's own argparse parsers when
the site is built, so that they never drift from the code (docs/cli.md, marker ``<!-- cli-help -->``)."""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- cli-help -->"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_help() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal's width
    from freqextract.cli import build_parser

    parser = build_parser()
    parts = []
    for name, sub in _subparsers(parser).items():
        parts += [f"### freqextract {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
        for step, subsub in _subparsers(sub).items():
            parts += [f"### freqextract {name} {step}", "", "```text", subsub.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    return markdown.replace(MARKER, cli_help()) if MARKER in markdown else markdown
