"""Shared fixtures of the agents' tests: tiny configs, a CLI runner, small trained runs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("stable_baselines3")

from mm_gym_agents.config import AgentConfig  # noqa: E402

TINY_NET = {"net_arch": [16, 16], "activation_fn": "tanh"}
SHORT_MM = {"session_s": 16}  # 16 one-second decision steps per episode
SHORT_AS = {"T": 0.08}  # 16 steps of dt = 0.005


def tiny(algo: str = "ppo", env_id: str = "MarketMaking-v0", **overrides: Any) -> AgentConfig:
    """A config small enough to train in seconds (4 markets, 16-step episodes)."""
    data: dict[str, Any] = {
        "algo": algo,
        "env_id": env_id,
        "env": dict(SHORT_AS if env_id.startswith("Avellaneda") else SHORT_MM),
        "n_envs": 4,
        "total_timesteps": 256,
        "policy_kwargs": dict(TINY_NET),
        "hyperparameters": {},
        "checkpoint_freq": 64,
    }
    if algo in ("ppo", "recurrent_ppo"):
        data["hyperparameters"] = {"n_steps": 16, "batch_size": 32, "n_epochs": 2}
    elif algo == "a2c":
        data["hyperparameters"] = {"n_steps": 8}
    else:
        data["hyperparameters"] = {"learning_starts": 32, "batch_size": 32, "buffer_size": 2000}
    if algo == "recurrent_ppo":
        data["policy_kwargs"] = {"net_arch": [16], "lstm_hidden_size": 8}
    data.update(overrides)
    return AgentConfig.from_dict(data)


@pytest.fixture
def cli():
    """``cli(*argv)`` -> exit status, through ``mm_gym.cli.main`` with the agents' commands."""
    from mm_gym import cli as cli_module

    def run(*argv: str) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cli_module.main([str(a) for a in argv])

    return run


def write_yaml(path: Path, data: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def mm_run(tmp_path_factory) -> Path:
    """A tiny trained PPO run on MarketMaking-v0 (with evaluation callback and checkpoints)."""
    from mm_gym_agents.train import train

    root = tmp_path_factory.mktemp("runs")
    cfg = tiny(eval_freq=128, eval_episodes=2)
    train(cfg, run_name="mm", runs_dir=root, progress_bar=False, log=lambda s: None)
    return root / "mm"


@pytest.fixture(scope="session")
def as_run(tmp_path_factory) -> Path:
    """A tiny trained PPO run on AvellanedaStoikov-v0."""
    from mm_gym_agents.train import train

    root = tmp_path_factory.mktemp("runs_as")
    cfg = tiny(env_id="AvellanedaStoikov-v0", normalize={"obs": False, "reward": True})
    train(cfg, run_name="as", runs_dir=root, progress_bar=False, log=lambda s: None)
    return root / "as"
