"""AgentConfig: validation against the SB3 signatures, YAML files, derived objects."""

from __future__ import annotations

import pytest

from mm_gym.config import SHIPPED_CONFIGS
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.market.avellaneda_stoikov import ASConfig
from mm_gym_agents.config import AgentConfig

CONFIGS = sorted((SHIPPED_CONFIGS / "agents").glob("*.yaml"))


def test_every_algorithm_has_a_yaml_and_they_load():
    names = {p.stem for p in CONFIGS}
    assert {"ppo", "sac", "td3", "a2c", "recurrent_ppo", "ppo_as"} <= names
    for path in CONFIGS:
        cfg = AgentConfig.from_yaml(path)
        assert cfg.sb3_kwargs()["policy_kwargs"] is not None
        want = "AvellanedaStoikov-v0" if path.stem.endswith("_as") else "MarketMaking-v0"
        if path.stem.startswith("multi_maker"):
            want = "MultiMaker-v0"
        assert cfg.env_id == want


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"algo": "dqn"}, r"algo='dqn': allowed values are 'ppo'"),
        ({"hyperparameters": {"n_stepz": 8}}, r"hyperparameters\.n_stepz: unknown hyperparameter"),
        ({"algo": "sac", "hyperparameters": {"n_epochs": 3}}, r"hyperparameters\.n_epochs"),
        ({"hyperparameters": {"seed": 3}}, r"hyperparameters\.seed: not allowed here"),
        ({"hyperparameters": {"gamma": 1.5}}, r"hyperparameters\.gamma=1\.5: allowed range"),
        ({"hyperparameters": {"learning_rate": "fast"}}, r"learning_rate='fast'"),
        ({"hyperparameters": {"n_steps": 0}}, r"hyperparameters\.n_steps=0"),
        ({"hyperparameters": {"batch_size": 10_000}, "n_envs": 2}, r"batch_size=10000"),
        ({"policy_kwargs": {"activation_fn": "sigmoid"}}, r"activation_fn='sigmoid'"),
        ({"policy_kwargs": {"net_arch": [64, -1]}}, r"policy_kwargs\.net_arch"),
        ({"policy_kwargs": {"lstm_hidden_size": 8}}, r"policy_kwargs\.lstm_hidden_size: unknown"),
        (
            {"algo": "sac", "policy_kwargs": {"log_std_init": [-1, -1, -1]}},
            r"log_std_init=\[-1, -1, -1\]: a list \(one per action dimension\) needs an on-policy",
        ),
        ({"policy_kwargs": {"log_std_init": [-1, "x", -1]}}, r"log_std_init\[1\]='x'"),
        ({"policy_kwargs": {"log_std_init": [-1, 5.0, -1]}}, r"log_std_init\[1\]=5\.0"),
        ({"policy": "CnnLstmPolicy"}, r"policy='CnnLstmPolicy'"),
        ({"learning_rate": 1e-3}, r"learning_rate: unknown key for AgentConfig"),
        ({"env": {"session_s": -1}}, r"env\.session_s=-1"),
        ({"env": {"sessionz": 1}}, r"env\.sessionz: unknown key"),
        ({"env_id": "AvellanedaStoikov-v0", "env": {"sigma": -2}}, r"env\.sigma=-2"),
        ({"env_id": "Pong-v5"}, r"env_id='Pong-v5'"),
        ({"seed": 2**32}, r"seed=4294967296"),
        ({"n_envs": 0}, r"n_envs=0"),
        ({"normalize": {"obz": True}}, r"normalize\.obz: unknown key"),
        ({"action_noise": "normal"}, r"only for off-policy"),
        ({"bootstrap_time_limit": "no"}, r"bootstrap_time_limit='no'"),
        ({"train_env": {"reward_carry": "x"}}, r"train_env\.reward_carry='x'"),
        ({"train_env": {"sessionz": 1}}, r"train_env\.sessionz: unknown key"),
        ({"train_env": [1]}, r"train_env=\[1\]: expected a mapping"),
    ],
)
def test_bad_keys_and_values_name_the_field(data, message):
    with pytest.raises(ConfigError, match=message):
        AgentConfig.from_dict(data)


def test_train_env_changes_the_training_markets_only():
    cfg = AgentConfig.from_dict(
        {"env": {"session_s": 600.0}, "train_env": {"reward_carry": "expected"}}
    )
    assert cfg.env_config().reward_carry == "mid"
    assert cfg.train_env_config().reward_carry == "expected"
    assert cfg.train_env_config().session_s == 600.0  # env's overrides still apply
    plain = AgentConfig.from_dict({"env": {"session_s": 600.0}})
    assert plain.train_env_config() == plain.env_config()


def test_defaults_and_derived_objects():
    cfg = AgentConfig.from_dict(
        {
            "hyperparameters": {"learning_rate": "lin_1e-3", "clip_range": 3e-1, "gamma": "9.9e-1"},
            "policy_kwargs": {"net_arch": {"pi": [8], "vf": [8]}, "activation_fn": "relu"},
            "normalize": False,
        }
    )
    assert cfg.policy == "MlpPolicy" and not cfg.normalize.enabled
    kwargs = cfg.sb3_kwargs()
    assert kwargs["learning_rate"](1.0) == pytest.approx(1e-3)
    assert kwargs["learning_rate"](0.5) == pytest.approx(5e-4)
    assert kwargs["gamma"] == pytest.approx(0.99) and cfg.gamma == pytest.approx(0.99)
    import torch

    assert kwargs["policy_kwargs"]["activation_fn"] is torch.nn.ReLU
    assert isinstance(cfg.env_config(), EnvConfig)
    assert AgentConfig.from_dict({"algo": "recurrent_ppo"}).policy == "MlpLstmPolicy"
    as_cfg = AgentConfig.from_dict({"env_id": "mm_gym/AvellanedaStoikov-v0", "env": {"T": 0.5}})
    assert as_cfg.env_id == "AvellanedaStoikov-v0"
    assert isinstance(as_cfg.env_config(), ASConfig) and as_cfg.env_config().T == 0.5
    td3 = AgentConfig.from_dict(
        {"algo": "td3", "action_noise": "normal", "hyperparameters": {"train_freq": [1, "episode"]}}
    )
    assert td3.sb3_kwargs()["train_freq"] == (1, "episode")
    assert td3.make_action_noise(3) is not None


def test_resolved_config_round_trips():
    cfg = AgentConfig.from_dict({"env": {"session_s": 60, "market": {"pin_regime": "high_vol"}}})
    full = cfg.resolved()
    assert full.env["market"]["pin_regime"] == "high_vol" and "decision_interval_ms" in full.env
    again = AgentConfig.from_dict(full.to_dict())
    assert again.env_config() == cfg.env_config()
    merged = cfg.with_env({"market": {"latency_ms": 1.0}})
    assert merged.env_config().market.latency_ms == 1.0
    assert merged.env_config().market.pin_regime == "high_vol"
