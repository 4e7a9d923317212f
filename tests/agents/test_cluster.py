"""Training runs, comparisons and tuning workers on a real Ray cluster: a head and a second
node started on loopback as ``ray start`` starts them, stopped at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.agents.conftest import tiny

ray = pytest.importorskip("ray", reason="the cluster extra installs Ray")

from mm_gym.errors import ConfigError  # noqa: E402
from mm_gym_agents.cluster import (  # noqa: E402
    RayPool,
    _host_port,
    check_shared_folder,
    connect,
    hosts_not_seeing,
)  # noqa: E402
from mm_gym_agents.report import compare_and_report  # noqa: E402
from mm_gym_agents.run_dir import COMPLETE, INCOMPLETE, RUNNING, RunDir  # noqa: E402
from mm_gym_agents.train import mark_incomplete, train_seeds  # noqa: E402

pytestmark = pytest.mark.slow

RAY = str(Path(sys.executable).parent / "ray")
NODE = ["--num-cpus=1", "--object-store-memory=80000000", "--disable-usage-stats"]


def _quiet(_: str) -> None:
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args: str) -> None:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([RAY, *args], check=True, capture_output=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def cluster():
    """The address of a two-node Ray cluster on loopback (one CPU per node)."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths
    address = f"127.0.0.1:{port}"
    try:
        _ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
             "--include-dashboard=false", f"--temp-dir={temp}", *NODE)  # fmt: skip
        _ray("start", f"--address={address}", "--node-ip-address=127.0.0.1", *NODE)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)


def test_an_address_nothing_answers_at_is_one_line(cli, capsys):
    port = _free_port()  # bound and closed: nothing listens
    code = cli("train", "--config", "ppo", "--seeds", "0-1", "--ray", f"127.0.0.1:{port}")
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"--ray 127.0.0.1:{port}: no Ray head answers there" in err


@pytest.mark.parametrize("address", ["nowhere", "host:port", ":6379"])
def test_a_malformed_address_says_what_is_expected(address):
    with pytest.raises(ConfigError, match="expected auto or the head's HOST:PORT"):
        connect(address)


def test_ray_needs_several_runs_and_no_workers(cli, capsys):
    assert cli("train", "--config", "ppo", "--ray", "auto") == 2
    assert "--ray: needs --seeds" in capsys.readouterr().err
    assert cli("train", "--config", "ppo", "--seeds", "0-1", "--workers", "2", "--ray", "auto") == 2
    assert "--workers: not with --ray" in capsys.readouterr().err


def test_a_tasks_error_is_its_own_and_a_task_no_node_fits_is_refused(cluster):
    with RayPool(cluster) as pool:
        error = pool.submit(_host_port, "nowhere").exception()  # raises in the task
        assert type(error) is ConfigError and "expected auto or the head's" in str(error)
        assert len(str(error).splitlines()) == 1
    with pytest.raises(
        ConfigError, match="a task needs 4 CPUs and the cluster's largest node has 1"
    ):
        RayPool(cluster, cpus=4)


def test_runs_train_and_compare_on_the_cluster_as_here(cluster, tmp_path):
    cfg = tiny(total_timesteps=256, checkpoint_freq=128)
    runs = tmp_path / "runs"
    train_seeds(cfg, [0, 1], run_name="c", runs_dir=runs, ray=cluster, log=_quiet)
    statuses = [RunDir.open(runs / f"c_seed{s}").status() for s in (0, 1)]
    assert [s["state"] for s in statuses] == [COMPLETE, COMPLETE]
    assert all(s["timesteps"] >= 256 for s in statuses)

    reports = {}
    for where, ray_address in (("here", None), ("cluster", cluster)):
        out = tmp_path / where / "compare_c"  # the report names its folder
        compare_and_report(
            [runs / "c_seed0", runs / "c_seed1"], episodes=2, out=out, ray=ray_address, log=_quiet
        )
        reports[where] = {p.name: p.read_text() for p in (out / "compare").glob("*.csv")}
        reports[where]["report.md"] = (out / "report.md").read_text().replace(str(out), "OUT")
    assert reports["cluster"] == reports["here"]
    assert "summary.csv" in reports["here"]


def test_a_run_whose_worker_is_killed_finishes_from_its_checkpoint(cluster, tmp_path):
    cfg = tiny(total_timesteps=8192, checkpoint_freq=256)
    runs = tmp_path / "runs"
    run = RunDir(runs / "k_seed0")
    errors: list[BaseException] = []

    def training() -> None:
        try:
            train_seeds(cfg, [0], run_name="k", runs_dir=runs, ray=cluster, log=_quiet)
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            errors.append(err)

    thread = threading.Thread(target=training)
    thread.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (run.status_path.exists() and run.list_checkpoints()):
        time.sleep(0.05)
    status = run.status()
    assert status["state"] == RUNNING and run.list_checkpoints(), "no checkpoint in 300 s"
    os.kill(status["pid"], signal.SIGKILL)  # the Ray worker training the run
    thread.join(timeout=600)
    assert not thread.is_alive() and not errors, errors
    done = run.status()
    assert done["state"] == COMPLETE and done["timesteps"] >= 8192
    assert done["resumed_from"] >= 256  # continued from a checkpoint, not from step 0


def test_the_runs_folder_must_be_seen_by_every_node(cluster, tmp_path):
    connect(cluster)
    try:
        check_shared_folder(tmp_path / "shared")  # one machine: every node sees it
        assert not list((tmp_path / "shared").iterdir())  # the marker is gone
        assert hosts_not_seeing(tmp_path / "nowhere") == [socket.gethostname()]
    finally:
        ray.shutdown()


def test_a_run_stopped_with_its_driver_is_left_incomplete(tmp_path):
    run = RunDir.create(tmp_path, "r", tiny())
    run.set_status(RUNNING, total_timesteps=256)
    mark_incomplete(run.path, "interrupted", "the driver was interrupted", _quiet)
    status = run.status()
    assert status["state"] == INCOMPLETE and status["reason"] == "interrupted"
    run.set_status(INCOMPLETE, reason="ValueError", detail="its own words")
    mark_incomplete(run.path, "WorkerCrashedError", "died", _quiet)  # its worker's mark stays
    assert run.status()["reason"] == "ValueError"
    run.set_status(COMPLETE, timesteps=256)
    mark_incomplete(run.path, "interrupted", "", _quiet)  # a finished run stays complete
    assert run.is_complete


def test_tuning_workers_share_one_study_on_the_cluster(cluster, cli, tmp_path):
    optuna = pytest.importorskip("optuna")
    out = tmp_path / "tune"
    env = tmp_path / "env.yaml"
    env.write_text(json.dumps({"session_s": 16}))
    code = cli(
        "tune", "baseline", "--env-config", env, "--trials", "4", "--episodes", "2",
        "--holdout-episodes", "2", "--seed", "3", "--out", out, "--ray", cluster,
        "--ray-workers", "2", "--no-progress",
    )  # fmt: skip
    assert code == 0
    study = optuna.load_study(study_name="baseline", storage=f"sqlite:///{out / 'study.db'}")
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) >= 4
    assert len({t.user_attrs["worker"] for t in finished}) == 2  # two workers, one study
    assert (out / "report.md").is_file() and (out / "holdout.csv").is_file()  # by the driver


def test_agent_trials_on_the_cluster_keep_their_folders(cluster, cli, tmp_path, monkeypatch):
    optuna = pytest.importorskip("optuna")
    from tests.agents.conftest import write_yaml
    from tests.agents.test_tune import SPACE

    write_yaml(tmp_path / "tiny.yaml", tiny(total_timesteps=5_000, eval_freq=1_000).to_dict())
    write_yaml(tmp_path / "space.yaml", SPACE)
    monkeypatch.chdir(tmp_path)  # relative file options: made absolute for the tasks
    code = cli(
        "tune", "agent", "--config", "tiny.yaml", "--space", "space.yaml", "--timesteps", 128,
        "--eval-every", 64, "--eval-episodes", 2, "--trials", 3, "--out", "study", "--seed", 0,
        "--ray", cluster, "--ray-workers", 2, "--no-progress",
    )  # fmt: skip
    assert code == 0
    out = tmp_path / "study"
    study = optuna.load_study(study_name="agent-ppo", storage=f"sqlite:///{out / 'study.db'}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) >= 3
    for trial in complete:
        assert (out / "trials" / f"trial_{trial.number:04d}" / "final_model.zip").is_file()
    assert (out / "report.md").is_file() and (out / "best_agent.yaml").is_file()
