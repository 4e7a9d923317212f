"""The baseline with Gaussian noise on its table's parameters (what exploring around it costs)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import mm_gym  # noqa: F401  (registers the envs)
from mm_gym.envs.baseline_policy import NoisyRuleBasedPolicy, RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import run_episodes

CFG = EnvConfig(session_s=60.0)


@pytest.fixture(scope="module")
def observations() -> np.ndarray:
    """4,000 copies of one first observation: the table gives each the same parameters."""
    env = gym.make("mm_gym/MarketMaking-v0", session_s=60.0)
    obs, _ = env.reset(seed=3)
    env.close()
    return np.tile(obs, (4000, 1))


def test_zero_noise_is_the_baseline(observations):
    noisy, _ = NoisyRuleBasedPolicy(CFG, [0.0, 0.0, 0.0]).predict(observations)
    plain, _ = RuleBasedPolicy(CFG).predict(observations)
    np.testing.assert_array_equal(noisy, plain)
    a = run_episodes(NoisyRuleBasedPolicy(CFG, [0, 0, 0]), CFG, [4, 5]).episodes
    b = run_episodes(RuleBasedPolicy(CFG), CFG, [4, 5]).episodes
    pd.testing.assert_frame_equal(a, b)


def test_noise_has_its_standard_deviations_around_the_table(observations):
    sd = np.array([0.2, 0.1, 0.05])
    table = RuleBasedPolicy(CFG).params(observations)
    noisy = NoisyRuleBasedPolicy(CFG, sd, seed=1).params(observations)
    delta = noisy - table
    n = len(delta)
    # the sample sd of n normal draws is within 5 of its standard errors (sd / sqrt(2n))
    np.testing.assert_allclose(delta.std(axis=0), sd, atol=float(5 * sd.max() / np.sqrt(2 * n)))
    assert np.abs(delta.mean(axis=0)).max() < 5 * sd.max() / np.sqrt(n)
    # each parameter gets its own draw: no correlation between them
    corr = np.corrcoef(delta.T)
    assert np.abs(corr[np.triu_indices(3, 1)]).max() < 5 / np.sqrt(n)


def test_noisy_actions_are_held_to_the_ranges(observations):
    actions, state = NoisyRuleBasedPolicy(CFG, [10.0, 10.0, 10.0]).predict(observations, "s")
    assert state == "s" and actions.dtype == np.float32
    assert actions.min() == -1.0 and actions.max() == 1.0  # far beyond: at the edges
    assert np.isin(actions, [-1.0, 1.0]).mean() > 0.9


def test_the_seed_fixes_the_noise(observations):
    first = NoisyRuleBasedPolicy(CFG, [0.3, 0.3, 0.3], seed=7).predict(observations)[0]
    again = NoisyRuleBasedPolicy(CFG, [0.3, 0.3, 0.3], seed=7).predict(observations)[0]
    other = NoisyRuleBasedPolicy(CFG, [0.3, 0.3, 0.3], seed=8).predict(observations)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "noise, message",
    [
        ([0.1, 0.1], "noise_sd=[0.1, 0.1]: expected three finite numbers >= 0"),
        ([0.1, -0.1, 0.1], "expected three finite numbers >= 0"),
        ([0.1, float("nan"), 0.1], "expected three finite numbers >= 0"),
        ("wide", "noise_sd='wide'"),
    ],
)
def test_bad_noise_is_refused(noise, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        NoisyRuleBasedPolicy(CFG, noise)


def test_residual_mode_is_refused():
    with pytest.raises(ConfigError, match="action_mode='residual'; it needs 'absolute'"):
        NoisyRuleBasedPolicy(EnvConfig(action_mode="residual"), [0.1, 0.1, 0.1])
