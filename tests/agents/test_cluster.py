"""Training runs, comparisons and tuning workers on a real Ray cluster: a head and a second
node started on loopback as ``ray start`` starts them, stopped at the end.

Every command that joins the cluster runs in a process of its own, as a user runs it: a
driver still joined when the cluster stops exits, and it must not be this one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.agents.conftest import tiny, write_yaml

ray = pytest.importorskip("ray", reason="the cluster extra installs Ray")

from mm_gym.errors import ConfigError  # noqa: E402
from mm_gym_agents.cluster import connect  # noqa: E402
from mm_gym_agents.run_dir import COMPLETE, INCOMPLETE, RUNNING, RunDir  # noqa: E402
from mm_gym_agents.train import mark_incomplete  # noqa: E402

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
NODE = ["--num-cpus=1", "--object-store-memory=80000000", "--disable-usage-stats"]
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


def _quiet(_: str) -> None:
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args: str) -> None:
    subprocess.run([BIN / "ray", *args], check=True, capture_output=True, timeout=120, env=ENV)


def mm_gym(*args, cwd: Path) -> subprocess.CompletedProcess:
    """``mm-gym ARGS`` in a process of its own; fails the test unless it succeeds."""
    proc = subprocess.run(
        [BIN / "mm-gym", *map(str, args)], cwd=cwd, capture_output=True, text=True,
        timeout=600, env=ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def driver(script: str, *args: str) -> list[str]:
    """The output lines of a Python ``script`` run as a driver of its own."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=600,
        env=ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


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
        subprocess.run([BIN / "ray", "stop", "--force"], capture_output=True, timeout=120)


@pytest.fixture
def tiny_yaml(tmp_path) -> Path:
    return write_yaml(
        tmp_path / "tiny.yaml", tiny(total_timesteps=256, checkpoint_freq=128).to_dict()
    )


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


TASKS = """
import sys
from mm_gym.errors import ConfigError
from mm_gym_agents.cluster import RayPool, _host_port
with RayPool(sys.argv[1]) as pool:
    error = pool.submit(_host_port, "nowhere").exception()  # raises in the task
    print(type(error).__name__, len(str(error).splitlines()), str(error))
try:
    RayPool(sys.argv[1], cpus=4)
except ConfigError as err:
    print("refused", err)
"""


def test_a_tasks_error_is_its_own_and_a_task_no_node_fits_is_refused(cluster):
    error, refused = driver(TASKS, cluster)
    assert error.startswith("ConfigError 1 ") and "expected auto or the head's" in error
    assert "a task needs 4 CPUs and the cluster's largest node has 1" in refused


def test_runs_train_and_compare_on_the_cluster_as_here(cluster, tmp_path, tiny_yaml):
    mm_gym("train", "--config", tiny_yaml, "--seeds", "0,1", "--run-name", "c",
           "--runs-dir", "runs", "--ray", cluster, cwd=tmp_path)  # fmt: skip
    statuses = [RunDir.open(tmp_path / "runs" / f"c_seed{s}").status() for s in (0, 1)]
    assert [s["state"] for s in statuses] == [COMPLETE, COMPLETE]
    assert all(s["timesteps"] >= 256 for s in statuses)

    reports = {}
    for where, ray_options in (("here", []), ("cluster", ["--ray", cluster])):
        out = tmp_path / where / "compare_c"  # the report names its folder
        mm_gym("compare", "runs/c_seed0", "runs/c_seed1", "--episodes", 2, "--out", out,
               "--no-progress", *ray_options, cwd=tmp_path)  # fmt: skip
        reports[where] = {p.name: p.read_text() for p in (out / "compare").glob("*.csv")}
        reports[where]["report.md"] = (out / "report.md").read_text().replace(str(out), "OUT")
    assert reports["cluster"] == reports["here"]
    assert "summary.csv" in reports["here"]


def test_a_run_whose_worker_is_killed_finishes_from_its_checkpoint(cluster, tmp_path):
    config = write_yaml(
        tmp_path / "k.yaml", tiny(total_timesteps=8192, checkpoint_freq=256).to_dict()
    )
    run = RunDir(tmp_path / "runs" / "k_seed0")
    training = subprocess.Popen(
        [BIN / "mm-gym", "train", "--config", config, "--seeds", "0", "--run-name", "k",
         "--runs-dir", tmp_path / "runs", "--ray", cluster],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (
            run.status_path.exists() and run.list_checkpoints()
        ):
            time.sleep(0.05)
        status = run.status()
        assert status["state"] == RUNNING and run.list_checkpoints(), "no checkpoint in 300 s"
        os.kill(status["pid"], signal.SIGKILL)  # the Ray worker training the run
        output, _ = training.communicate(timeout=600)
    finally:
        training.kill()
    assert training.returncode == 0, output[-3000:]
    done = run.status()
    assert done["state"] == COMPLETE and done["timesteps"] >= 8192
    assert done["resumed_from"] >= 256  # continued from a checkpoint, not from step 0


SHARED = """
import sys
from mm_gym_agents.cluster import check_shared_folder, connect, hosts_not_seeing
connect(sys.argv[1])
check_shared_folder(sys.argv[2])  # one machine: every node sees it
print(hosts_not_seeing(sys.argv[3]))
"""


def test_the_runs_folder_must_be_seen_by_every_node(cluster, tmp_path):
    (line,) = driver(SHARED, cluster, str(tmp_path / "shared"), str(tmp_path / "nowhere"))
    assert not list((tmp_path / "shared").iterdir())  # the marker is gone
    assert line == str([socket.gethostname()])  # a path no node sees names every host


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


def test_tuning_workers_share_one_study_on_the_cluster(cluster, tmp_path):
    optuna = pytest.importorskip("optuna")
    (tmp_path / "env.yaml").write_text(json.dumps({"session_s": 16}))
    mm_gym("tune", "baseline", "--env-config", "env.yaml", "--trials", 4, "--episodes", 2,
           "--holdout-episodes", 2, "--seed", 3, "--out", "tune", "--ray", cluster,
           "--ray-workers", 2, "--no-progress", cwd=tmp_path)  # fmt: skip
    out = tmp_path / "tune"
    study = optuna.load_study(study_name="baseline", storage=f"sqlite:///{out / 'study.db'}")
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) >= 4
    assert len({t.user_attrs["worker"] for t in finished}) == 2  # two workers, one study
    assert (out / "report.md").is_file() and (out / "holdout.csv").is_file()  # by the driver


def test_agent_trials_on_the_cluster_keep_their_folders(cluster, tmp_path):
    optuna = pytest.importorskip("optuna")
    from tests.agents.test_tune import SPACE

    write_yaml(tmp_path / "tiny.yaml", tiny(total_timesteps=5_000, eval_freq=1_000).to_dict())
    write_yaml(tmp_path / "space.yaml", SPACE)
    mm_gym("tune", "agent", "--config", "tiny.yaml", "--space", "space.yaml", "--timesteps", 128,
           "--eval-every", 64, "--eval-episodes", 2, "--trials", 3, "--out", "study", "--seed", 0,
           "--ray", cluster, "--ray-workers", 2, "--no-progress", cwd=tmp_path)  # fmt: skip
    out = tmp_path / "study"
    study = optuna.load_study(study_name="agent-ppo", storage=f"sqlite:///{out / 'study.db'}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) >= 3
    for trial in complete:
        assert (out / "trials" / f"trial_{trial.number:04d}" / "final_model.zip").is_file()
    assert (out / "report.md").is_file() and (out / "best_agent.yaml").is_file()
