"""Sample files for `freqextract stream`: CSV and NPZ input, checks with line numbers, the CSV output."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from freqextract.errors import UserError
from freqextract.serving.stream import StreamExtractor
from freqextract.serving.stream_io import parse_lines, read_samples, stream
from freqextract.signals.data import save_npz


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def extractor(stream_model):
    return StreamExtractor.from_checkpoint(stream_model[0], frequencies=[1, 5])


def _lines(text: str) -> list[float]:
    return list(parse_lines(io.StringIO(text), "in.csv"))


def test_csv_header_is_optional_and_blank_lines_are_skipped():
    assert _lines("0.5\n-1e-3\n2\n") == [0.5, -1e-3, 2.0]
    assert _lines("S\n0.5\n\n  -2 \n\n") == [0.5, -2.0]
    assert _lines("sample\r\n1\r\n") == [1.0]


def test_csv_with_a_column_named_S():
    assert _lines("t,S\n0,0.5\n0.001,-0.25\n") == [0.5, -0.25]
    assert _lines("S,t\n0.5,0\n") == [0.5]


def test_the_table_that_generate_writes_is_read_from_its_first_block(tmp_path, spec_test):
    from freqextract.signals.data import save_csv

    save_csv(spec_test, tmp_path / "table.csv")  # what `freqextract generate --csv` writes
    got = read_samples(tmp_path / "table.csv", fs=1000.0)
    assert np.array_equal(got.S, spec_test.S)
    with open(tmp_path / "table.csv") as fh:  # line by line, as on standard input
        assert np.array_equal(np.fromiter(parse_lines(fh, "-"), dtype=np.float64), spec_test.S)


@pytest.mark.parametrize(("text", "message"), [
    ("S\n0.1\n0.2,0.3\n", "in.csv: line 3 has 2 columns"),
    ("0,0.1\n", "in.csv: line 1 has 2 columns"),
    ("t,S\n0,0.1\n0.001\n", "in.csv: line 3 has 1 columns .*; expected 2 like the header t,S"),
    ("a,b\n0,0.1\n", "in.csv: line 1: the header a,b has no column S"),
    ("0.1;0.2\n", "in.csv: line 1: '0.1;0.2': columns are separated by commas, not semicolons"),
    ("S\n", r"in.csv: holds no samples \(only the header line S\)"),
    ("0.1\n0.2\n,\n", "in.csv: line 3 has 2 columns"),
    ("0.1\nnan\n", "in.csv: line 2: S is nan"),
    ("S\n0.1\n-inf\n", "in.csv: line 3: S is -inf"),
    ("S\n0.1\nabc\n", "in.csv: line 3: 'abc' is not a number"),
    ("S\nS\n", "in.csv: line 2: 'S' is not a number"),
])
def test_csv_mistakes_name_the_line(text, message):
    with pytest.raises(UserError, match=message):
        _lines(text)


def test_read_samples_files(tmp_path, spec_test):
    (tmp_path / "empty.csv").write_text("S\n\n")
    with pytest.raises(UserError, match="empty.csv: holds no samples"):
        read_samples(tmp_path / "empty.csv", fs=1000.0)
    with pytest.raises(UserError, match="missing.csv: file not found"):
        read_samples(tmp_path / "missing.csv", fs=1000.0)
    with pytest.raises(UserError, match="is a directory"):
        read_samples(tmp_path, fs=1000.0)
    (tmp_path / "latin1.csv").write_bytes("S\u00e9\n1\n".encode("latin-1"))
    with pytest.raises(UserError, match="latin1.csv: not a text CSV"):
        read_samples(tmp_path / "latin1.csv", fs=1000.0)
    save_npz(spec_test, tmp_path / "test.npz")
    got = read_samples(tmp_path / "test.npz", fs=1000.0)
    assert np.array_equal(got.S, spec_test.S) and np.array_equal(got.t, spec_test.t)
    with pytest.raises(UserError, match=r"test.npz: fs 1000 Hz does not match the model's 500 Hz"):
        read_samples(tmp_path / "test.npz", fs=500.0)


def _table(text: str) -> tuple[list[str], np.ndarray]:
    header, *rows = text.splitlines()
    return header.split(","), np.array([[float(v) for v in r.split(",")] for r in rows])


def test_npz_in_csv_out_carries_t_and_matches_push(extractor, tmp_path, spec_test):
    save_npz(spec_test, tmp_path / "test.npz")
    out = io.StringIO()
    assert stream(extractor, tmp_path / "test.npz", stdout=out) == spec_test.n_samples
    header, table = _table(out.getvalue())
    assert header == ["t", "f1Hz", "f5Hz"]
    assert np.array_equal(table[:, 0], spec_test.t)  # the time axis survives the text exactly
    extractor.reset()
    expected = extractor.push(spec_test.S)
    assert np.array_equal(table[:, 1:].astype(np.float32), expected)  # 9 digits: float32 round-trips


def test_csv_file_stdin_and_out_file_agree(extractor, tmp_path, spec_test):
    S = spec_test.S[:300]
    text = "S\n" + "".join(f"{float(v)!r}\n" for v in S)
    (tmp_path / "s.csv").write_text(text)
    from_file, from_stdin = io.StringIO(), io.StringIO()
    stream(extractor, tmp_path / "s.csv", stdout=from_file)
    stream(extractor, "-", stdin=io.StringIO(text), stdout=from_stdin)  # line by line, reset first
    stream(extractor, "-", stdin=io.StringIO(text), out=tmp_path / "o.csv")
    assert from_stdin.getvalue() == (tmp_path / "o.csv").read_text()
    (header, table), (header_stdin, table_stdin) = _table(from_file.getvalue()), _table(from_stdin.getvalue())
    assert header == header_stdin == ["n", "f1Hz", "f5Hz"] and np.array_equal(table[:, 0], np.arange(300))
    # the file goes through in one fused call, stdin one sample at a time: equal up to float32 rounding
    np.testing.assert_allclose(table_stdin, table, rtol=0, atol=1e-6)


def test_a_bad_line_on_stdin_leaves_no_out_file(extractor, tmp_path):
    with pytest.raises(UserError, match="<stdin>: line 4: S is nan"):
        stream(extractor, "-", stdin=io.StringIO("0.1\n0.2\n0.3\nnan\n"), out=tmp_path / "o.csv")
    with pytest.raises(UserError, match="<stdin>: holds no samples"):
        stream(extractor, "-", stdin=io.StringIO("S\n"), out=tmp_path / "o.csv")
    with pytest.raises(UserError, match=r"--out .*o\.txt: the file name must end in \.csv"):
        stream(extractor, "-", stdin=io.StringIO("0.1\n"), out=tmp_path / "o.txt")
    assert list(tmp_path.iterdir()) == []
