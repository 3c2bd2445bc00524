"""Stale trials: a worker that dies mid-trial does not leave its trial running for ever.

While a worker runs a trial, a thread records the trial's heartbeat every ``sweep.heartbeat_interval``
seconds (:func:`beating`). Before a worker takes a trial, and while it waits for the study's last running
trials, it fails every running trial whose heartbeat is older than ``sweep.grace_period`` (:func:`reap`,
Optuna's ``fail_stale_trials``). The storage lets exactly one process fail a trial (a row lock in a
database; in a journal file, a later writer's change to a finished trial is refused), and only that
process puts the retry in the study: a waiting trial with the same parameters that records which trial
it retries (Optuna's retry callback, at most :data:`MAX_RETRY` times). Failed trials do not count towards
``n_trials``, so the study still completes each of its trials exactly once.

A database (PostgreSQL) uses the heartbeat Optuna's RDBStorage has built in. Optuna's journal storage has
none; :func:`journal_storage` adds it, keeping each trial's last heartbeat as a trial system attribute.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator

import optuna
from optuna.storages import JournalStorage
from optuna.storages._heartbeat import BaseHeartbeat  # the interface fail_stale_trials looks for
from optuna.trial import TrialState

HEARTBEAT_ATTR = "freqextract:heartbeat"  # a journal trial's last heartbeat, seconds since the epoch
MAX_RETRY = 3  # a trial that keeps killing its worker (out of memory, say) is given up after this

_Retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback


def retry_callback() -> Callable:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _Retry(max_retry=MAX_RETRY)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A journal storage whose running trials carry a heartbeat, like a database's."""

    def __init__(self, backend, heartbeat_interval: int, grace_period: int):
        super().__init__(backend)
        self._heartbeat_interval, self._grace_period = heartbeat_interval, grace_period
        self._stale_callback = retry_callback()

    def record_heartbeat(self, trial_id: int) -> None:
        self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        now, stale = time.time(), []
        for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            # a retry inherits the system attributes of the trial it retries: its start counts too
            started = t.datetime_start.timestamp() if t.datetime_start else 0.0
            if now - max(t.system_attrs.get(HEARTBEAT_ATTR, 0.0), started) > self._grace_period:
                stale.append(t._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self):
        return self._stale_callback

    get_failed_trial_callback = get_heartbeat_stale_trial_callback  # its name before Optuna 4.9


def journal_storage(path: str, heartbeat_interval: int, grace_period: int):
    from optuna.storages.journal import JournalFileBackend

    return HeartbeatJournalStorage(JournalFileBackend(path), heartbeat_interval, grace_period)


def enabled(storage) -> bool:
    return isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval() is not None


@contextlib.contextmanager
def beating(storage, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat now and every heartbeat interval until the block ends."""
    if not enabled(storage):
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            with contextlib.suppress(Exception):  # the database briefly away, or the trial taken over
                storage.record_heartbeat(trial_id)
            if stop.wait(storage.get_heartbeat_interval()):
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def reap(study) -> None:
    """Fail the study's running trials whose heartbeat stopped, and queue their retries."""
    with warnings.catch_warnings():  # experimental in Optuna's words, the callback it runs too
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def running(storage, study_id: int) -> int:
    return len(storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)))
