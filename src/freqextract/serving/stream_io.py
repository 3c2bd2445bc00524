"""Sample files for ``freqextract stream``: read S, push it through an extractor, write the columns as CSV.

Input (by name):

    FILE.npz   an exchange-format dataset (``signals.data.load_npz``): its S, and its t for the output; its fs must be
               the extractor's (a conditioned model converts: see :func:`input_fs`)
    FILE       anything else is CSV text: one sample of S per line, at the model's fs. An optional header
               is a first line that is not a number (e.g. ``S``); it must be one column like the rest.
               Blank lines are skipped. Every line must hold exactly one finite number.
    -          the same CSV on standard input, processed line by line as it arrives (a filter for pipes)

Output CSV, with a header:

    t,f1Hz,f3Hz,...      NPZ input: the file's time axis
    n,f1Hz,f3Hz,...      CSV input: the sample index, 0 at the first sample (the reset)

to standard output, or to ``--out FILE.csv`` written atomically (nothing is left behind on an error).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ..atomic import atomic_path
from ..errors import UserError
from .stream import StreamExtractor

STDIN = "-"


@dataclass(frozen=True)
class Samples:
    S: np.ndarray  # (N,)
    t: np.ndarray | None  # (N,) when the file has a time axis


# ---------------------------------------------------------------------------------------------- reading
def parse_lines(lines: Iterable[str], name: str) -> Iterator[float]:
    """The samples of one-column CSV text, checked line by line; errors name the line."""
    first = True
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        fields = [f.strip() for f in text.split(",")]
        if len(fields) != 1:
            raise UserError(f"{name}: line {lineno} has {len(fields)} columns ({text[:60]}); expected one "
                            f"column, the samples S")
        try:
            value = float(fields[0])
        except ValueError:
            if first:  # a header line
                first = False
                continue
            raise UserError(f"{name}: line {lineno}: {fields[0][:40]!r} is not a number") from None
        first = False
        if not np.isfinite(value):
            raise UserError(f"{name}: line {lineno}: S is {fields[0]} (every sample must be a finite number)")
        yield value


def input_fs(path: str | Path) -> float | None:
    """The sampling rate an NPZ input records (None for CSV and standard input, which have none)."""
    from ..signals.data import load_npz

    if str(path) != STDIN and Path(path).suffix.lower() == ".npz" and Path(path).is_file():
        return load_npz(path).fs
    return None


def read_samples(path: str | Path, fs: float) -> Samples:
    """A whole input file (NPZ or CSV), validated before anything is computed."""
    from ..signals.data import load_npz

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not a sample file")
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.suffix.lower() == ".npz":
        sig = load_npz(path)
        if not np.isclose(sig.fs, fs):
            raise UserError(f"{path}: fs {sig.fs:g} Hz does not match the model's {fs:g} Hz (only a "
                            "frequency-conditioned model converts)")
        return Samples(S=sig.S, t=sig.t)
    try:
        with open(path, encoding="utf-8") as fh:
            S = np.fromiter(parse_lines(fh, str(path)), dtype=np.float64)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a text CSV (not UTF-8)") from None
    if S.size == 0:
        raise UserError(f"{path}: holds no samples")
    return Samples(S=S, t=None)


# ---------------------------------------------------------------------------------------------- writing
def _rows(index: np.ndarray, y: np.ndarray, as_time: bool) -> str:
    """CSV rows: the time (shortest exact repr) or the sample index, then the outputs (float32, exact)."""
    first = [repr(float(v)) for v in index] if as_time else [str(int(v)) for v in index]
    return "".join(f"{a}," + ",".join(f"{v:.9g}" for v in row) + "\n"
                   for a, row in zip(first, y, strict=True))


@contextmanager
def _sink(out: str | Path | None, stdout: TextIO) -> Iterator[TextIO]:
    if out is None:
        yield stdout
        return
    with atomic_path(out, suffix=".csv") as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        yield fh


def check_out(out: str | Path | None) -> None:
    if out is None:
        return
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise UserError(f"--out {out}: the file name must end in .csv")
    if out.is_dir():
        raise UserError(f"--out {out}: is a directory")


def stream(extractor: StreamExtractor, source: str | Path, out: str | Path | None = None,
           stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Extract from ``source`` (a file, or ``-`` for ``stdin``) into ``out`` (None: ``stdout``).

    The extractor is reset first. Returns the number of samples. A file is read and checked whole before
    any output; standard input is pushed line by line and each row is flushed as it is computed.
    """
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    check_out(out)
    extractor.reset()
    if str(source) == STDIN:
        return _stream_lines(extractor, stdin, out, stdout)
    samples = read_samples(source, extractor.fs)
    y = extractor.push(samples.S)  # (N, n_streams)
    index = samples.t if samples.t is not None else np.arange(samples.S.shape[0])
    with _sink(out, stdout) as fh:
        fh.write(",".join(["t" if samples.t is not None else "n", *extractor.columns]) + "\n")
        fh.write(_rows(index, y, as_time=samples.t is not None))
    return int(samples.S.shape[0])


def _stream_lines(extractor: StreamExtractor, lines: TextIO, out, stdout: TextIO) -> int:
    n = 0
    with _sink(out, stdout) as fh:
        for value in parse_lines(lines, "<stdin>"):
            row = _rows(np.array([n]), extractor.push(value), as_time=False)
            fh.write(row if n else ",".join(["n", *extractor.columns]) + "\n" + row)
            if out is None:
                fh.flush()
            n += 1
        if n == 0:
            raise UserError("<stdin>: holds no samples")
    return n
