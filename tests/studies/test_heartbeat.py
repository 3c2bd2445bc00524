"""Stale trials on the journal storage: a worker killed mid-trial leaves a trial that another worker fails
and runs again, so that every trial of the study completes exactly once (PostgreSQL: test_sweep_postgres)."""

from __future__ import annotations

import time

import optuna
import pytest
from conftest import assert_each_trial_completed_once, kill_a_worker_mid_trial_then_finish

from freqextract.studies import heartbeat

State = optuna.trial.TrialState


def test_a_killed_worker_s_trial_is_retried_once_on_the_journal(tiny_sweep, tmp_path):
    trials = kill_a_worker_mid_trial_then_finish(tiny_sweep, tmp_path / "sweep", None, "tiny-killed")
    assert_each_trial_completed_once(trials)


@pytest.fixture
def journal(tmp_path):
    storage = heartbeat.journal_storage(str(tmp_path / "study.journal"), heartbeat_interval=1, grace_period=2)
    return storage, optuna.create_study(study_name="s", storage=storage)


def test_only_a_trial_whose_heartbeat_stopped_is_stale(journal):
    storage, study = journal
    old, fresh = study.ask(), study.ask()
    storage.set_trial_system_attr(old._trial_id, heartbeat.HEARTBEAT_ATTR, time.time() - 100)
    storage.record_heartbeat(fresh._trial_id)
    assert storage._get_stale_trial_ids(study._study_id) == []  # both started just now
    for t in (old, fresh):  # as if both had started long ago
        storage._replay_result._trials[t._trial_id].datetime_start = \
            storage._replay_result._trials[t._trial_id].datetime_start.replace(year=2000)
    assert storage._get_stale_trial_ids(study._study_id) == [old._trial_id]


def test_two_reapers_fail_a_stale_trial_once_and_retry_it_once(journal, tmp_path):
    """Two workers see the same stale trial at once: the journal lets one fail it; one retry is queued."""
    storage, study = journal
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    other = heartbeat.journal_storage(str(tmp_path / "study.journal"), heartbeat_interval=1, grace_period=2)
    for s in (storage, other):
        s._sync_with_backend()
        s._replay_result._trials[trial._trial_id].datetime_start = \
            s._replay_result._trials[trial._trial_id].datetime_start.replace(year=2000)
    heartbeat.reap(study)
    heartbeat.reap(optuna.load_study(study_name="s", storage=other))
    trials = optuna.load_study(study_name="s", storage=storage).get_trials()
    assert [(t.number, t.state) for t in trials] == [(0, State.FAIL), (1, State.WAITING)]
    assert trials[1].params == trials[0].params and trials[1].system_attrs["failed_trial"] == 0


def test_beating_records_a_heartbeat_until_the_block_ends(journal):
    storage, study = journal
    trial = study.ask()
    with heartbeat.beating(storage, trial._trial_id):
        time.sleep(0.2)
    first = storage.get_trial(trial._trial_id).system_attrs[heartbeat.HEARTBEAT_ATTR]
    time.sleep(1.2)
    assert storage.get_trial(trial._trial_id).system_attrs[heartbeat.HEARTBEAT_ATTR] == first
