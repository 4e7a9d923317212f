"""Workers of one study in separate processes, on SQLite and on a real PostgreSQL server: a
worker killed inside a trial leaves that trial failed, the trial is run again with the same
parameters, the study reaches its total, and no trial is lost or counted twice."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from mm_gym.config import resolve_config
from mm_gym.tuning.space import SearchSpace
from mm_gym.tuning.study import default_storage, engine_url
from tests.tuning.conftest import kill_mid_trial, start_worker

TRIALS = 16
PARAMS = len(SearchSpace.from_yaml(resolve_config("spaces", "baseline")).params)
WORKER_TIMEOUT_S = 400

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning"),
]


def worker_args(env_yaml: Path, out: Path, seed: int, storage: str | None = None) -> list:
    args = ["baseline", "--env-config", env_yaml, "--episodes", 8, "--holdout-episodes", 0]
    args += ["--trials", TRIALS, "--study", "shared", "--out", out, "--heartbeat", 1]
    args += ["--seed", seed, "--no-progress"]
    return args + (["--storage", storage] if storage else [])


def check_study(storage: str, killed: int, workers: list[int]) -> None:
    """The killed trial failed and was run once more; TRIALS complete trials, nothing else."""
    trials = optuna.load_study(study_name="shared", storage=storage).get_trials()
    states = Counter(t.state for t in trials)
    assert states == {TrialState.COMPLETE: TRIALS, TrialState.FAIL: 1}, states
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert trials[killed].state == TrialState.FAIL
    retried = RetryHeartbeatStaleTrialCallback.retried_trial_number
    retries = [t for t in trials if retried(t) == killed]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == trials[killed].params
    host = socket.gethostname()
    done_by = Counter(t.user_attrs["worker"] for t in trials if t.state == TrialState.COMPLETE)
    assert set(done_by) == {f"{host}:{pid}" for pid in workers}, done_by
    assert all(t.user_attrs["episodes"] == 8 and t.user_attrs["se"] > 0 for t in retries)


def test_sqlite_worker_killed_mid_trial_and_the_same_command_continues(tmp_path, worker_env_yaml):
    out = tmp_path / "study"
    args = worker_args(worker_env_yaml, out, seed=1)
    first = start_worker(args, tmp_path / "first.log")
    killed = kill_mid_trial(first, default_storage(out), "shared", PARAMS)
    second = start_worker(args, tmp_path / "second.log")
    assert second.wait(timeout=WORKER_TIMEOUT_S) == 0, (tmp_path / "second.log").read_text()
    check_study(default_storage(out), killed, [first.pid, second.pid])
    assert (out / "baseline.yaml").is_file() and (out / "report.md").is_file()


def test_two_postgres_workers_one_killed_mid_trial(tmp_path, worker_env_yaml, postgres_url):
    url = postgres_url
    a = start_worker(worker_args(worker_env_yaml, tmp_path / "a", 1, url), tmp_path / "a.log")
    b = start_worker(worker_args(worker_env_yaml, tmp_path / "b", 2, url), tmp_path / "b.log")
    try:
        killed = kill_mid_trial(a, engine_url(url), "shared", PARAMS)
        assert b.wait(timeout=WORKER_TIMEOUT_S) == 0, (tmp_path / "b.log").read_text()
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
    check_study(engine_url(url), killed, [a.pid, b.pid])
    assert "error" not in (tmp_path / "b.log").read_text().lower()
