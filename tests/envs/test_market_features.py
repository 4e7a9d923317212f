"""``market_features=True``: what a market maker watches besides the base observation."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym import RuleBasedPolicy
from mm_gym.envs.market_making import MarketMakingEnv, MarketMakingVectorEnv
from mm_gym.envs.observations import (
    FEATURE_NAMES,
    IDX,
    NUM_BASE_OBS,
    NUM_FEATURES,
    SINCE_FILL_CAP_MIN,
    order_flow_imbalance,
)
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS

COL = {name: NUM_BASE_OBS + k for k, name in enumerate(FEATURE_NAMES)}


def _rollout(n: int, seed: int, steps: int, **cfg):
    env = MarketMakingVectorEnv(n, session_s=600.0, threads=1, **cfg)
    policy = RuleBasedPolicy(env.config)
    obs, _ = env.reset(seed=seed)
    out = [(obs.copy(), None, None)]
    for _ in range(steps):
        obs, reward, _, _, info = env.step(policy.predict(obs)[0])
        out.append((obs.copy(), reward.copy(), info))
    return env, out


def test_features_sit_between_the_base_and_the_regime_and_leave_the_market_alone():
    _, plain = _rollout(8, 3, 300)
    env, rich = _rollout(8, 3, 300, market_features=True, expose_regime=True)
    assert env.single_observation_space.shape == (NUM_BASE_OBS + NUM_FEATURES + NUM_LABELS,)
    policy = RuleBasedPolicy(env.config)
    for (o1, r1, _), (o2, r2, info) in zip(plain, rich, strict=True):
        np.testing.assert_array_equal(o1, o2[:, :NUM_BASE_OBS])  # base columns unchanged
        if r1 is not None:
            np.testing.assert_array_equal(r1, r2)  # so is the market
            labels = [LABEL_NAMES.index(x) for x in info["regime"]]
            np.testing.assert_array_equal(o2[:, -NUM_LABELS:].argmax(axis=1), labels)
        detected = o2[:, IDX["detected_ranging"] : IDX["detected_ranging"] + 5]
        np.testing.assert_array_equal(detected.sum(axis=1), 1.0)
        np.testing.assert_array_equal(detected.argmax(axis=1), policy.detected_regime(o2))
        assert env.observation_space.contains(o2)


def test_time_since_fill_restarts_at_each_fill():
    _, steps = _rollout(16, 5, 599, market_features=True)  # within one episode
    fills = 0
    for (before, _, _), (after, _, info) in zip(steps, steps[1:], strict=False):
        since = after[:, COL["since_fill"]]
        filled = info["fills"] > 0
        fills += int(filled.sum())
        np.testing.assert_array_equal(since[filled], 0.0)
        grown = np.minimum(before[~filled, COL["since_fill"]] + 1 / 60, SINCE_FILL_CAP_MIN)
        np.testing.assert_allclose(since[~filled], grown, atol=1e-5)
    assert fills > 0


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ((100, 5, 101, 7), (100, 5, 101, 7), 0.0),  # nothing changed
        ((100, 5, 101, 7), (100, 8, 101, 7), 3 / 12),  # bid queue grew
        ((100, 5, 101, 7), (100, 5, 101, 3), 4 / 12),  # ask queue shrank
        ((100, 5, 101, 7), (101, 2, 102, 6), (2 + 7) / 12),  # both sides moved up
        ((100, 5, 101, 7), (99, 4, 100, 9), (-5 - 9) / 12),  # both sides moved down
    ],
)
def test_order_flow_imbalance_known_cases(before, after, expected):
    got = order_flow_imbalance(np.array([before], float), np.array([after], float))
    assert got[0] == pytest.approx(expected)


def test_order_flow_imbalance_is_zero_at_an_episode_start():
    env = MarketMakingEnv(session_s=5.0, market_features=True)
    obs, _ = env.reset(seed=2)
    assert obs[COL["order_flow_imbalance"]] == 0.0
    assert obs[COL["since_fill"]] == 0.0
