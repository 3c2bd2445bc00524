"""Scale-out on a real PostgreSQL server: two separate worker processes join one study and every trial is
recorded exactly once.

The fixture starts a throw-away server on a free localhost port from the OS's PostgreSQL binaries
(``initdb``, ``pg_ctl``; .ci/run installs them with apt-get where they are missing), as an unprivileged
user when the tests run as root (the server refuses root), and removes it afterwards. The test is skipped,
saying why, only where no server can be started.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest
from conftest import MODULE, assert_each_trial_completed_once, cli_env, kill_a_worker_mid_trial_then_finish

from freqextract.studies import storage
from freqextract.studies.sweep_summary import write_sweep_report

State = optuna.trial.TrialState
INSTALL_HINT = "install the OS package (apt-get install postgresql), as .ci/run does"


def _pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else the newest Debian/Ubuntu versioned folder."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()])
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix to run as an unprivileged user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user
        if shutil.which("setpriv"):
            return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"], user
    pytest.skip("PostgreSQL refuses to run as root, and there is no postgres/nobody user with runuser or "
                "setpriv to run it as")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(f"no PostgreSQL server binaries (initdb, pg_ctl) on this machine; {INSTALL_HINT}")
    prefix, user = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="freqextract-pg-"))  # not under pytest's root-only tmp folder
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    data, port = root / "data", _free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)

    init = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "freqextract", "--no-sync",
               "-E", "UTF8")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed, so no PostgreSQL server can be started: {init.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", opts, "-w",
                "start")
    if start.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {(start.stderr + log).strip()[-300:]}")
    try:
        import psycopg

        with psycopg.connect(f"postgresql://freqextract@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE sweeps")
        yield f"postgresql://freqextract@127.0.0.1:{port}/sweeps"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_on_postgres_record_each_trial_once(postgres_url, tiny_sweep, tmp_path):
    out = tmp_path / "sweep"
    # create the study once (and its 4 waiting trials) before any worker starts
    create = subprocess.run([*MODULE, "sweep", "--config", str(tiny_sweep), "--storage", postgres_url,
                             "--study", "pg-tiny", "--workers", "0", "--out", str(out)],
                            capture_output=True, text=True, env=cli_env(), timeout=300)
    assert create.returncode == 0, create.stderr
    assert "freqextract sweep worker --storage " + postgres_url in create.stdout
    # two independent worker processes, started together, as on two machines
    cmd = [*MODULE, "sweep", "worker", "--storage", postgres_url, "--study", "pg-tiny"]
    workers = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
               for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [e for _, e in outputs]

    study = optuna.load_study(study_name="pg-tiny", storage=storage.load(postgres_url, "pg-tiny").storage)
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]  # all recorded, none twice, none extra
    assert all(t.state == State.COMPLETE for t in trials)
    ran = sum(int(line.split()[2]) for o, _ in outputs for line in o.splitlines()
              if line.startswith("worker done:"))
    assert ran == 4  # the two workers' counts add up: no trial ran in both
    run_dirs = [t.user_attrs["run_dir"] for t in trials]
    assert len(set(run_dirs)) == 4 and all(Path(d).parent == (out / "trials").resolve() for d in run_dirs)
    assert (Path(study.best_trial.user_attrs["run_dir"]) / "metrics.json").is_file()
    # the sweep directory remembers its database, and the report reads everything back from it
    assert storage.resolve_storage(out) == postgres_url
    path, headline = write_sweep_report(out)
    assert f"best trial {study.best_trial.number}" in headline and path.is_file()


def test_a_killed_worker_s_trial_is_retried_once_on_postgres(postgres_url, tiny_sweep, tmp_path):
    """SIGKILL a worker mid-trial; another worker fails the trial once its heartbeat is older than the grace
    period (Optuna's RDB heartbeat), runs its retry, and every trial completes exactly once."""
    trials = kill_a_worker_mid_trial_then_finish(tiny_sweep, tmp_path / "sweep", postgres_url, "pg-killed")
    assert_each_trial_completed_once(trials)
