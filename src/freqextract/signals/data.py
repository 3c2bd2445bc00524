"""Dataset layouts and file formats.

One :class:`~freqextract.signals.MixedSignal` (N samples, K frequencies) has three views:

    NPZ (docs/cli.md)         t (N,), S (N,), targets (K, N), frequencies (K,), fs, meta (JSON string)

    table (K*N rows)          frequency-major, one block of N rows per frequency:
                              row k*N + n = [t_n, S_n, C_1..C_K (one-hot k), target_k(t_n)]
                              e.g. K=4, N=10 000: row 10 001 (1-based) is f2 at t = 0

    streams (K, N, 1+K)       one stream per frequency, stepping through time together:
                              x[k, n] = [S_n, one-hot k],  y[k, n] = target_k(t_n)
                              the batch axis holds independent sequences, never consecutive samples

    requests (R*Q, N, n)      mix: one stream per requested frequency nu (cycles per sample), Q per
                              sequence, all reading the same S (see :func:`request_streams`)
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import UserError, describe
from .scenarios import MixedSignal

REQUIRED_ARRAYS = ("t", "S", "targets", "frequencies", "fs")


# ---------------------------------------------------------------------------------------------- layouts
def table_columns(k: int) -> list[str]:
    return ["t", "S", *[f"C{i + 1}" for i in range(k)], "target"]


def to_table(sig: MixedSignal) -> np.ndarray:
    """The (K*N, 3+K) table, frequency-major."""
    K, N = sig.targets.shape
    onehot = np.repeat(np.eye(K), N, axis=0)  # (K*N, K)
    return np.column_stack([
        np.tile(sig.t, K), np.tile(sig.S, K), onehot, sig.targets.reshape(-1),
    ])


def from_table(table: np.ndarray, frequencies=None, fs: float | None = None, meta: dict | None = None,
               name: str = "table") -> MixedSignal:
    """Rebuild a signal from its table; checks the frequency-major layout block by block.

    ``frequencies`` and ``fs`` are not columns of the table: give them, or they are estimated from the
    targets (FFT peak) and the time column.
    """
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] < 4:
        raise UserError(f"{name}: expected at least 4 columns (t, S, C1.., target), got shape {table.shape}")
    K = table.shape[1] - 3
    if table.shape[0] % K:
        raise UserError(f"{name}: {table.shape[0]} rows is not a multiple of the {K} frequency blocks")
    if not np.isfinite(table).all():
        raise UserError(f"{name}: contains NaN or infinite values")
    N = table.shape[0] // K
    blocks = table.reshape(K, N, 3 + K)
    t, S = blocks[0, :, 0], blocks[0, :, 1]
    for k in range(K):
        if not (np.array_equal(blocks[k, :, 0], t) and np.array_equal(blocks[k, :, 1], S)):
            raise UserError(f"{name}: block {k + 1} (rows {k * N + 1}-{(k + 1) * N}) has other t or S than block 1")
        expected = np.zeros(K)
        expected[k] = 1.0
        if not (blocks[k, :, 2:2 + K] == expected).all():
            raise UserError(f"{name}: block {k + 1} (rows {k * N + 1}-{(k + 1) * N}) is not one-hot C{k + 1}")
    targets = blocks[:, :, -1].copy()
    if fs is None:
        if N < 2 or not (np.diff(t) > 0).all():
            raise UserError(f"{name}: column t must increase to give the sampling rate")
        fs = float(np.round(1.0 / np.median(np.diff(t)), 6))
    if frequencies is None:
        spectrum = np.abs(np.fft.rfft(targets, axis=1))
        frequencies = np.fft.rfftfreq(N, 1.0 / fs)[spectrum.argmax(axis=1)]
    return MixedSignal(t=t.copy(), S=S.copy(), targets=targets,
                       frequencies=np.asarray(frequencies, dtype=np.float64), fs=float(fs),
                       meta=dict(meta or {}))


def to_streams(sig: MixedSignal, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """x (K, N, 1+K) and y (K, N): one stream per frequency."""
    K, N = sig.targets.shape
    return streams_from(sig.S[None, :], sig.targets[None], dtype)


def streams_from(S: np.ndarray, targets: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Streams for R sequences: S (R, T), targets (R, K, T) -> x (R*K, T, 1+K), y (R*K, T).

    Stream r*K + k is sequence r with selector k.
    """
    R, K, T = targets.shape
    x = np.empty((R, K, T, 1 + K), dtype=dtype)
    x[..., 0] = S[:, None, :]
    x[..., 1:] = np.eye(K, dtype=dtype)[None, :, None, :]
    return x.reshape(R * K, T, 1 + K), targets.reshape(R * K, T).astype(dtype)


def mixture_streams(S: np.ndarray, targets: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Streams of a multi-output model: S (R, T), targets (R, K, T) -> x (R, T, 1), y (R*K, T).

    One stream per sequence reads S only; y row r*K + k is component k of sequence r, the rows of
    :func:`streams_from`.
    """
    R, K, T = targets.shape
    return S.reshape(R, T, 1).astype(dtype), targets.reshape(R * K, T).astype(dtype)


def streams_for(outputs: str, S: np.ndarray, targets: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The streams a model with ``model.outputs`` reads: selector streams, or one stream per sequence (``all``)."""
    return (mixture_streams if outputs == "all" else streams_from)(S, targets, dtype)


REQUEST_INPUTS = {  # the per-sample features of a request stream, by model.conditioning
    "concat": ("S", "nu"),
    "film": ("S", "nu"),
    "demod": ("S", "nu", "cos", "sin", "S*cos", "S*sin"),
}


def request_streams(S: np.ndarray, nu: np.ndarray, conditioning: str, nu_max: float, start: int = 0,
                    dtype=np.float32) -> np.ndarray:
    """Request streams: S (R, T) and nu (R, Q) in cycles per sample -> x (R*Q, T, n).

    Stream r*Q + q reads sequence r for request q. ``nu`` enters as nu / nu_max (the top of the band is 1);
    ``demod`` adds the request's carrier cos/sin(2 pi nu n) and S times it, n counted from the reset
    (``start`` is the index of the first sample given; the phase is computed in float64 and reduced mod 1).
    Streamed in chunks with ``start`` advancing, the features equal the batch's.
    """
    S = np.asarray(S, dtype=np.float64)
    nu = np.asarray(nu, dtype=np.float64)
    R, T = S.shape
    Q = nu.shape[1]
    names = REQUEST_INPUTS[conditioning]
    x = np.empty((R, Q, T, len(names)), dtype=dtype)
    x[..., 0] = S[:, None, :]
    x[..., 1] = (nu / nu_max)[..., None]
    if conditioning == "demod":
        n = np.arange(start, start + T, dtype=np.float64)
        cycles = np.mod(nu[..., None] * n, 1.0)  # float64: exact to ~1e-9 cycles for a day at 1 kHz
        c, s = np.cos(2 * np.pi * cycles), np.sin(2 * np.pi * cycles)  # (R, Q, T)
        x[..., 2], x[..., 3] = c, s
        x[..., 4], x[..., 5] = S[:, None, :] * c, S[:, None, :] * s
    return x.reshape(R * Q, T, len(names))


# ---------------------------------------------------------------------------------------------- files
def save_npz(sig: MixedSignal, path: str | Path) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, t=sig.t, S=sig.S, targets=sig.targets, frequencies=sig.frequencies,
                 fs=np.float64(sig.fs), meta=np.array(sig.meta_json()))


def load_npz(path: str | Path) -> MixedSignal:
    """Load and check an exchange-format NPZ (any writer); every problem names the file and the array."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):  # a bare .npy file loads as one array
            raise UserError(f"{path}: a single .npy array, not an .npz archive of the arrays "
                            f"{', '.join(REQUIRED_ARRAYS)}")
        with z:
            missing = [k for k in REQUIRED_ARRAYS if k not in z.files]
            if missing:
                raise UserError(f"{path}: missing array(s) {', '.join(missing)} (need {', '.join(REQUIRED_ARRAYS)})")
            arrays = {k: z[k] for k in (*REQUIRED_ARRAYS, *(["meta"] if "meta" in z.files else []))}
            for k, v in arrays.items():
                if not isinstance(v, np.ndarray):  # NpzFile hands back the raw bytes of a non-.npy member
                    raise UserError(f"{path}: member {k}.npy is not a numpy array file")
    except UserError:
        raise
    except Exception as e:  # whatever a damaged archive makes zipfile or numpy raise, the file is at fault
        raise UserError(f"{path}: not a readable .npz file ({describe(e)})") from None
    return _check_arrays(arrays, str(path))


def _check_arrays(a: dict, name: str) -> MixedSignal:
    def numeric(key):
        v = a[key]
        if not np.issubdtype(v.dtype, np.number) or np.issubdtype(v.dtype, np.complexfloating):
            raise UserError(f"{name}: array {key} must be real numbers, got dtype {v.dtype}")
        v = v.astype(np.float64)
        if not np.isfinite(v).all():
            raise UserError(f"{name}: array {key} contains NaN or infinite values")
        return v

    t, S, targets, freqs, fs = (numeric(k) for k in REQUIRED_ARRAYS)
    if t.ndim != 1:
        raise UserError(f"{name}: array t must be 1-D, got shape {t.shape}")
    N = t.shape[0]
    if N < 2:
        raise UserError(f"{name}: needs at least 2 samples, got {N}")
    if not (np.diff(t) > 0).all():
        raise UserError(f"{name}: array t must be strictly increasing")
    if S.shape != (N,):
        raise UserError(f"{name}: array S must have shape ({N},) like t, got {S.shape}")
    if freqs.ndim != 1 or freqs.shape[0] < 1:
        raise UserError(f"{name}: array frequencies must be 1-D and non-empty, got shape {freqs.shape}")
    K = freqs.shape[0]
    if targets.shape != (K, N):
        raise UserError(f"{name}: array targets must have shape (K, N) = ({K}, {N}), got {targets.shape}")
    if fs.size != 1:
        raise UserError(f"{name}: fs must be a scalar, got shape {fs.shape}")
    fs = float(fs.reshape(()))
    if fs <= 0:
        raise UserError(f"{name}: fs must be > 0, got {fs:g}")
    if (freqs <= 0).any() or (freqs >= fs / 2).any():
        raise UserError(f"{name}: frequencies must lie in (0, fs/2 = {fs / 2:g}) Hz, got {freqs.tolist()}")
    meta: dict = {}
    if "meta" in a:
        try:
            raw = a["meta"].reshape(()).item()
            meta = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
        except (json.JSONDecodeError, ValueError, UnicodeDecodeError):
            raise UserError(f"{name}: meta must be a JSON string") from None
        if not isinstance(meta, dict):
            raise UserError(f"{name}: meta must be a JSON object")
    return MixedSignal(t=t, S=S, targets=targets, frequencies=freqs, fs=fs, meta=meta)


def save_csv(sig: MixedSignal, path: str | Path) -> None:
    """The table as CSV with a header row; 17 significant digits so it reads back exactly."""
    header = ",".join(table_columns(sig.n_freqs))
    with atomic_path(path, suffix=".csv") as tmp:
        np.savetxt(tmp, to_table(sig), delimiter=",", header=header, comments="", fmt="%.17g")


def load_csv(path: str | Path, frequencies=None, fs: float | None = None) -> MixedSignal:
    """Read a table CSV (header t,S,C1..CK,target) back into a signal."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
            k = len(header) - 3
            if k < 1 or header != table_columns(k):
                semi = " (columns are separated by commas, not semicolons)" if ";" in header[0] else ""
                raise UserError(f"{path}: header must be t,S,C1..CK,target, got {','.join(header)[:80]}{semi}")
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # numpy's "input contained no data" is a damaged file here
                table = np.loadtxt(fh, delimiter=",", ndmin=2)
    except UserError:
        raise
    except UserWarning:
        raise UserError(f"{path}: the header line only, no rows of data") from None
    except Exception as e:  # whatever a damaged file makes the reader raise, the file is at fault
        raise UserError(f"{path}: not a numeric CSV table ({describe(e)})") from None
    if table.shape[1] != len(header):
        raise UserError(f"{path}: rows have {table.shape[1]} columns, header has {len(header)}")
    return from_table(table, frequencies=frequencies, fs=fs, name=str(path))


NPY_MAGIC = b"\x93NUMPY"


def load_signal(path: str | Path) -> MixedSignal:
    """An NPZ or a table CSV: by extension, else by content; anything else is a one-line UserError."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return load_csv(p)
    if p.suffix.lower() in (".npz", ".npy") or not p.is_file():
        return load_npz(p)
    with open(p, "rb") as fh:
        head = fh.read(len(NPY_MAGIC))
    if head.startswith(b"PK") or head == NPY_MAGIC:  # a zip archive (NPZ) or a bare .npy array
        return load_npz(p)
    raise UserError(f"{p}: not an NPZ or CSV file (give a .npz in the exchange format, as freqextract generate "
                    "writes it, or its table as .csv)")
