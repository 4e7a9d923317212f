"""Fixtures of the tuning tests: a real PostgreSQL server on loopback, tuning workers as
separate processes, small env configs.

The server is started from the PostgreSQL binaries on the machine (``initdb`` into a temporary
folder, ``pg_ctl start`` on a free loopback port, ``pg_ctl stop`` at the end of the session).
PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

pytest.importorskip("optuna")

REPO = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "the PostgreSQL server binaries (initdb, pg_ctl) are not on this machine: "
    "apt-get install -y postgresql (Debian: postgresql-15), or put their folder on PATH"
)
# with 8 episodes, a trial of about a second on one core: long enough to be killed inside
WORKER_ENV = {"session_s": 3600.0}  # trials long enough that a survivor outlives the grace period
JUST_STARTED_S = 0.6


def pg_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, else in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://postgres@127.0.0.1:PORT/postgres`` of a server started for the session."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        (pytest.fail if os.environ.get("CI") else pytest.skip)(INSTALL_HINT)
    root = Path(tempfile.mkdtemp(prefix="mm_gym_pg_"))
    data = root / "data"
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root, PostgreSQL needs a 'postgres' user: " + INSTALL_HINT)
        os.chown(root, user.pw_uid, user.pw_gid)
    port = free_port()
    log = root / "server.log"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(
        _as_server_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
        **run,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]),
        **run,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def worker_env_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(WORKER_ENV))
    return path


def start_worker(args: list[str], log: Path) -> subprocess.Popen:
    """``mm-gym tune ARGS`` in its own process (output to ``log``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(log, "w") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "mm_gym.cli", "tune", *map(str, args)],
            stdout=f,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )


def kill_mid_trial(
    proc: subprocess.Popen, storage: str, study: str, params: int, after: int = 1
) -> int:
    """Wait until ``proc`` has finished ``after`` trials and is inside another: all its
    ``params`` drawn, started less than ``JUST_STARTED_S`` ago (so it is still running its
    episodes when the signal lands); SIGKILL it there and return that trial's number."""
    import datetime

    import optuna
    import sqlalchemy.exc

    worker = f"{socket.gethostname()}:{proc.pid}"
    loaded = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the worker ended before it could be killed"
        if loaded is None:
            try:
                loaded = optuna.load_study(study_name=study, storage=storage)
            except (KeyError, sqlalchemy.exc.OperationalError):  # not created yet
                time.sleep(0.1)
                continue
        trials = loaded.get_trials(deepcopy=False)
        mine = [t for t in trials if t.user_attrs.get("worker") == worker]
        done = [t for t in mine if t.state == optuna.trial.TrialState.COMPLETE]
        now = datetime.datetime.now()
        running = [
            t
            for t in mine
            if t.state == optuna.trial.TrialState.RUNNING
            and len(t.params) == params
            and (now - t.datetime_start).total_seconds() < JUST_STARTED_S
        ]
        if len(done) >= after and running:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return running[0].number
        time.sleep(0.02)
    raise AssertionError("the worker never ran a trial")
