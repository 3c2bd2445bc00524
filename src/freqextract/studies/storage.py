"""Where a study lives: Optuna storages, opening a study and the sweep config it keeps.

By default a study is a journal file inside the sweep directory (Optuna's JournalStorage on a
JournalFileBackend): several processes on one machine, or on a shared file system, append to it under a
file lock, with no server. SQLite is not the default: it has no row locks, so two workers can both take
the same waiting trial. ``--storage postgresql://user@host/db`` (any SQLAlchemy URL that Optuna's
RDBStorage accepts) puts the study in a database, and any number of workers on any number of machines
join it with ``freqextract sweep worker --storage URL --study NAME``: the study holds the whole config.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from .sweep_config import SweepConfig, loads

JOURNAL = "study.journal"
ATTR_CONFIG = "freqextract.sweep_config"  # study user attrs: the sweep config's TOML text,
ATTR_DIR = "freqextract.sweep_dir"  # the sweep directory of the process that created it,
ATTR_VERSION = "freqextract.version"  # and the version that created it


def _optuna():
    try:
        import optuna
    except ImportError:
        raise UserError("freqextract sweep needs Optuna: pip install 'freqextract[sweep]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# ---------------------------------------------------------------------------------------------- storage
def is_url(spec: str) -> bool:
    return "://" in spec


def masked(spec: str) -> str:
    """A storage spec fit to print or keep in a file: a URL's password hidden."""
    if not is_url(spec):
        return spec
    from sqlalchemy.engine import make_url

    try:
        return make_url(spec).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: printed as given minus anything between : and @
        return spec


def resolve_storage(spec: str | Path) -> str:
    """A database URL, a journal file, or a sweep directory (its study.json says where the study is)."""
    spec = str(spec)
    if is_url(spec):
        return spec
    p = Path(spec)
    if p.is_dir():
        info = p / "study.json"
        if info.exists():
            try:
                stored = json.loads(info.read_text(encoding="utf-8"))["storage"]
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise UserError(f"{info}: not a study.json written by freqextract sweep") from None
            return stored if is_url(stored) else str(p / stored)
        if (p / JOURNAL).exists():
            return str(p / JOURNAL)
        raise UserError(f"{p}: not a sweep directory (no study.json or {JOURNAL})")
    return spec


def _with_driver(url: str) -> str:
    """``postgresql://`` with the PostgreSQL driver that is installed (SQLAlchemy's default differs
    between its versions: psycopg2 before 2.1, psycopg 3 from then on)."""
    if not url.startswith("postgresql://") and not url.startswith("postgres://"):
        return url
    import importlib.util

    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://" + url.split("://", 1)[1]
    return url


def open_storage(spec: str, create: bool = False, heartbeat: tuple[int, int] | None = None):
    """The Optuna storage a spec names (see :func:`resolve_storage`); one-line errors.

    ``heartbeat``: (interval, grace period) in seconds, for a storage that workers run trials from: running
    trials whose heartbeat stopped are failed and retried (:mod:`.heartbeat`).
    """
    optuna = _optuna()
    if not is_url(spec):
        path = Path(spec)
        if not create and not path.is_file():
            raise UserError(f"{spec}: no such study journal file")
        if path.is_dir():
            raise UserError(f"{spec}: is a directory, not a journal file")
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        path.parent.mkdir(parents=True, exist_ok=True)
        if heartbeat:
            from .heartbeat import journal_storage

            return journal_storage(str(path), *heartbeat)
        return JournalStorage(JournalFileBackend(str(path)))
    if spec.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
    else:
        kwargs = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():  # Optuna calls its heartbeat arguments experimental on every use
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(_with_driver(spec), engine_kwargs=kwargs, **_rdb_heartbeat(heartbeat))
    except ImportError:
        raise UserError(f"--storage {masked(spec)}: the database driver is not installed (PostgreSQL: "
                        "pip install 'freqextract[sweep]')") from None
    except Exception as e:  # sqlalchemy: bad URL, server down, authentication
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        raise UserError(f"--storage {masked(spec)}: cannot open the study database ({reason})") from None


def _rdb_heartbeat(heartbeat: tuple[int, int] | None) -> dict:
    """RDBStorage's own heartbeat arguments (the callback's name changed in Optuna 4.9)."""
    if not heartbeat:
        return {}
    import inspect

    import optuna

    from .heartbeat import retry_callback

    known = inspect.signature(optuna.storages.RDBStorage).parameters
    callback = "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in known else \
        "failed_trial_callback"
    return {"heartbeat_interval": heartbeat[0], "grace_period": heartbeat[1], callback: retry_callback()}


def study_name(storage, name: str | None) -> str:
    """``name``, or the only study in the storage."""
    optuna = _optuna()
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if name is None:
        if len(names) != 1:
            raise UserError(f"--study: the storage holds {len(names)} studies "
                            f"({', '.join(names) or 'none'}); name one")
        return names[0]
    if name not in names:
        raise UserError(f"--study {name}: no such study in the storage (it holds: "
                        f"{', '.join(names) or 'none'})")
    return name


# ---------------------------------------------------------------------------------------------- study
@dataclass
class Study:
    """A study as a worker needs it: where it is, and the config its trials come from."""

    storage_spec: str
    name: str
    base: RunConfig
    sweep: SweepConfig
    sweep_dir: Path
    storage: object = field(repr=False, default=None)


def load(storage_spec: str, name: str | None = None) -> Study:
    """Open an existing study (created by :func:`create`) from its storage."""
    optuna = _optuna()
    spec = resolve_storage(storage_spec)
    storage = open_storage(spec)
    name = study_name(storage, name)
    study = optuna.load_study(study_name=name, storage=storage)
    text = study.user_attrs.get(ATTR_CONFIG)
    if text is None:
        raise UserError(f"--study {name}: not a freqextract sweep (no sweep config in the study)")
    base, sweep = loads(text, f"the sweep config of study {name}")
    # opened again, now that the study's config says how often its workers beat and when a trial is stale
    storage = open_storage(spec, heartbeat=(sweep.heartbeat_interval, sweep.grace_period))
    return Study(spec, name, base, sweep, Path(study.user_attrs.get(ATTR_DIR, ".")), storage)
