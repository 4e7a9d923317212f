"""Shipped configs (the top-level ``configs/``, installed as ``mm_gym.configs``): a name
resolves to the shipped file, a path to itself."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import mm_gym  # noqa: F401 - registers the ids
from mm_gym.config import SHIPPED_CONFIGS, resolve_config, shipped_configs
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError


def test_the_shipped_configs_are_the_package_mm_gym_configs():
    import mm_gym.configs

    assert Path(mm_gym.configs.__file__).parent == SHIPPED_CONFIGS
    assert {"ppo", "sac", "td3", "a2c", "recurrent_ppo", "ppo_as"} <= set(shipped_configs("agents"))
    assert "default" in shipped_configs("envs")
    assert {"default", "ranging", "high_vol"} <= set(shipped_configs("markets"))


def test_a_name_resolves_to_the_shipped_file_and_a_path_to_itself(tmp_path, monkeypatch):
    assert resolve_config("agents", "ppo") == SHIPPED_CONFIGS / "agents" / "ppo.yaml"
    mine = tmp_path / "ppo"  # an existing file wins over the shipped name
    mine.write_text("algo: ppo\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_config("agents", "ppo") == mine.relative_to(tmp_path)
    assert resolve_config("envs", tmp_path / "ppo") == tmp_path / "ppo"


def test_unknown_names_and_kinds_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"agent config 'ppoo': no such file.*ppo, ppo_as"):
        resolve_config("agents", "ppoo")
    with pytest.raises(ConfigError, match="config kind"):
        resolve_config("models", "ppo")


def test_envs_take_a_shipped_env_config_by_name():
    env = gym.make("mm_gym/MarketMaking-v0", config_path="default", session_s=8)
    assert env.unwrapped.config == EnvConfig(session_s=8)
    with pytest.raises(ConfigError, match="env config 'nope'"):
        gym.make("mm_gym/MarketMaking-v0", config_path="nope")


def test_an_env_takes_a_market_preset_by_name():
    from mm_gym.market.config import MarketConfig

    assert EnvConfig(market="small_tick").market == MarketConfig.preset("small_tick")
    with pytest.raises(ConfigError, match="market config 'nope'"):
        EnvConfig(market="nope")


def test_the_legacy_env_config_is_the_earlier_default_episode():
    from mm_gym.envs.core import make_config
    from mm_gym.market.config import MarketConfig

    legacy = make_config(config_path="legacy")
    assert legacy.market == MarketConfig.preset("legacy")
    assert legacy.strategy.high_volatility_bps == 2.1 and legacy.baseline.extreme_vol_bps == 4.5
    assert legacy.replace(market={}, strategy={}, baseline={}) == EnvConfig().replace(
        market=legacy.market.to_dict(),
        strategy={"high_volatility_bps": 2.1},
        baseline={"extreme_vol_bps": 4.5},
    )
