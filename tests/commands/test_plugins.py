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
