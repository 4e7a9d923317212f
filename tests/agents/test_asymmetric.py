"""The asymmetric actor-critic: the critic reads the true regime, the actor never does."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

from mm_gym.envs.observations import NUM_BASE_OBS
from mm_gym.errors import ConfigError
from mm_gym.market.regimes import NUM_LABELS
from mm_gym_agents.asymmetric import AsymmetricActorCriticPolicy, MaskedFlatten
from mm_gym_agents.config import AgentConfig
from mm_gym_agents.policy import load_policy
from mm_gym_agents.run_dir import RunDir
from mm_gym_agents.train import train
from tests.agents.conftest import tiny

EXPOSED = {"session_s": 16, "expose_regime": True}


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def privileged_run(tmp_path_factory):
    cfg = tiny(env=EXPOSED, privileged_critic=True, total_timesteps=1024)
    return train(
        cfg,
        run_name="asym",
        runs_dir=tmp_path_factory.mktemp("runs"),
        progress_bar=False,
        log=_quiet,
    )


def _observations(rng: np.random.Generator, n: int) -> np.ndarray:
    obs = rng.normal(size=(n, NUM_BASE_OBS + NUM_LABELS)).astype(np.float32)
    obs[:, NUM_BASE_OBS:] = np.eye(NUM_LABELS, dtype=np.float32)[rng.integers(NUM_LABELS, size=n)]
    return obs


def test_actions_ignore_the_regime_and_values_read_it(privileged_run):
    model = privileged_run.model
    assert isinstance(model.policy, AsymmetricActorCriticPolicy)
    rng = np.random.default_rng(0)
    obs = _observations(rng, 64)
    other = obs.copy()
    other[:, NUM_BASE_OBS:] = np.roll(obs[:, NUM_BASE_OBS:], 1, axis=1)  # another regime
    a1, _ = model.predict(obs, deterministic=True)
    a2, _ = model.predict(other, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    with th.no_grad():
        v1 = model.policy.predict_values(th.as_tensor(obs))
        v2 = model.policy.predict_values(th.as_tensor(other))
    assert not th.allclose(v1, v2), "the critic does not read the regime columns"


def test_saved_agent_keeps_the_mask(privileged_run):
    policy = load_policy(RunDir.open(privileged_run.run.path), "final")
    assert isinstance(policy.model.policy, AsymmetricActorCriticPolicy)
    assert isinstance(policy.model.policy.pi_features_extractor, MaskedFlatten)
    obs = _observations(np.random.default_rng(1), 16)
    a1, _ = policy.predict(obs)
    obs[:, NUM_BASE_OBS:] = 0.0
    a2, _ = policy.predict(obs)
    np.testing.assert_array_equal(a1, a2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"privileged_critic": True}, r"needs env\.expose_regime: true"),
        (
            {"privileged_critic": True, "algo": "sac", "env": {"expose_regime": True}},
            r"privileged_critic=True: needs algo 'ppo' or 'a2c'",
        ),
        ({"privileged_critic": "yes"}, r"privileged_critic='yes'"),
    ],
)
def test_bad_privileged_critic_configs(data, message):
    with pytest.raises(ConfigError, match=message):
        AgentConfig.from_dict(data)


def test_masked_flatten_needs_columns_to_hide():
    from gymnasium import spaces

    with pytest.raises(ValueError, match="critic_only_obs=12"):
        MaskedFlatten(spaces.Box(-1, 1, (12,)), 12)
