"""Commands, tuning targets and executors that installed packages plug into ``mm-gym``."""

from __future__ import annotations

import pytest

from mm_gym.commands.plugins import EXECUTOR_GROUP, load_executor
from mm_gym.errors import ConfigError


def test_an_executor_nobody_installed_says_what_installs_it():
    with pytest.raises(ConfigError, match=r"--nowhere: no executor installed; pip install"):
        load_executor("nowhere")


def test_the_ray_executor_is_the_agents_pool():
    pytest.importorskip("ray", reason="the cluster extra installs Ray")
    from importlib.metadata import entry_points

    (ep,) = entry_points(group=EXECUTOR_GROUP, name="ray")
    assert ep.value == "mm_gym_agents.cluster:RayPool"
    assert load_executor("ray").__name__ == "RayPool"


def test_sqlite_is_refused_when_the_cluster_spans_machines():
    from mm_gym.commands.tune import check_storage_reaches

    with pytest.raises(ConfigError, match="SQLite is a file on one machine .* spans 2"):
        check_storage_reaches("sqlite:////tmp/study.db", machines=2)
    check_storage_reaches("sqlite:////tmp/study.db", machines=1)
    check_storage_reaches("postgresql://u:p@db.example:5432/studies", machines=8)


def test_ray_workers_need_ray(capsys):
    from mm_gym.cli import main

    assert main(["tune", "baseline", "--ray-workers", "2", "--trials", "1"]) == 2
    assert "--ray-workers: needs --ray ADDRESS" in capsys.readouterr().err


def test_ray_workers_are_checked_before_the_cluster_is_joined(capsys):
    from mm_gym.cli import main

    argv = ["tune", "baseline", "--ray", "127.0.0.1:1", "--ray-workers", "0", "--trials", "1"]
    assert main(argv) == 2
    assert "--ray-workers=0: expected an integer >= 1" in capsys.readouterr().err
