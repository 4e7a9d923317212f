"""The baseline: regime detector, the document's parameter table, and RuleBasedPolicy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import mm_gym
from mm_gym import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import MarketMakingCore
from mm_gym.envs.observations import IDX, NUM_BASE_OBS
from mm_gym.errors import ConfigError
from mm_gym.strategy.baseline import (
    DETECTED_HIGH_VOL,
    DETECTED_NAMES,
    DETECTED_NEWS,
    DETECTED_NORMAL,
    DETECTED_TRENDING_DOWN,
    DETECTED_TRENDING_UP,
    BaselineConfig,
    detect_regime,
    table_params,
)
from mm_gym.strategy.config import StrategyConfig

CFG = BaselineConfig()
STRATEGY = StrategyConfig()


def obs_rows(vol=(0.5,), trend=(0.0,), news=(0.0,), dim=NUM_BASE_OBS) -> np.ndarray:
    vol, trend, news = np.broadcast_arrays(
        np.asarray(vol, float), np.asarray(trend, float), np.asarray(news, float)
    )
    obs = np.zeros((vol.size, dim), dtype=np.float32)
    obs[:, IDX["vol_short"]] = vol
    obs[:, IDX["vol_long"]] = vol
    obs[:, IDX["trend"]] = trend
    obs[:, IDX["news_flag"]] = news
    obs[:, IDX["time_left"]] = 1.0
    return obs


# ----------------------------------------------------------------------------- table
def test_table_is_the_documents_table():
    ids = np.array(
        [
            DETECTED_NORMAL,
            DETECTED_TRENDING_UP,
            DETECTED_TRENDING_DOWN,
            DETECTED_HIGH_VOL,
            DETECTED_NEWS,
        ]
    )
    vol = np.array([0.5, 0.5, 0.5, STRATEGY.high_volatility_bps, 9.0])
    p = table_params(ids, vol, CFG, STRATEGY)
    assert p[0] == pytest.approx([1.0, 0.5, 1.0])  # normal: 1.0x, 0.5, 100%
    assert p[1] == pytest.approx([1.5, 0.3, 0.8])  # trending: 1.5x, 0.3, 80%
    assert p[2] == pytest.approx([1.5, 0.3, 0.8])
    assert p[3] == pytest.approx([2.0, 1.0, 0.5])  # high vol: 2x at the threshold, 1.0, 50%
    assert p[4][2] == 0.0  # news: size 0, i.e. pause


def test_high_vol_spread_rises_from_two_to_three_times():
    lo, hi = STRATEGY.high_volatility_bps, CFG.extreme_vol_bps
    vol = np.array([lo, 0.5 * (lo + hi), hi, 3 * hi])
    p = table_params(np.full(4, DETECTED_HIGH_VOL), vol, CFG, STRATEGY)
    assert p[:, 0] == pytest.approx([2.0, 2.5, 3.0, 3.0])
    assert (p[:, 1] == 1.0).all() and (p[:, 2] == 0.5).all()


def test_table_rows_come_from_the_config():
    cfg = BaselineConfig(normal=[1.2, 0.4, 0.9], trending=(2.0, 0.2, 0.6))
    assert cfg.normal == (1.2, 0.4, 0.9)  # YAML lists become tuples
    p = table_params(
        np.array([DETECTED_NORMAL, DETECTED_TRENDING_DOWN]), np.zeros(2), cfg, STRATEGY
    )
    assert p == pytest.approx(np.array([[1.2, 0.4, 0.9], [2.0, 0.2, 0.6]]))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"normal": (1.0, 0.5)}, "normal"),
        ({"trending": (1.5, 0.3, 1.5)}, "trending"),
        ({"high_vol": (0.0, 1.0, 0.5)}, "high_vol"),
        ({"extreme_vol_bps": 0.0}, "extreme_vol_bps"),
        ({"high_vol_max_spread": 1.0}, "high_vol_max_spread"),
    ],
)
def test_invalid_baseline_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        BaselineConfig(**kwargs)


def test_extreme_vol_must_lie_above_the_strategys_high_vol_threshold():
    with pytest.raises(ConfigError, match=r"baseline\.extreme_vol_bps.*high_volatility_bps"):
        EnvConfig(strategy={"high_volatility_bps": 5.0, "max_volatility_bps": 9.0})


def test_detector_and_engine_read_one_threshold():
    """Moving the strategy's trend threshold moves the detector's: one source."""
    trend = np.array([1.5])
    low = StrategyConfig(trend_threshold=1.0)
    high = StrategyConfig(trend_threshold=2.0)
    assert detect_regime(np.zeros(1), trend, np.zeros(1, bool), low)[0] == DETECTED_TRENDING_UP
    assert detect_regime(np.zeros(1), trend, np.zeros(1, bool), high)[0] == DETECTED_NORMAL
    assert not hasattr(BaselineConfig(), "trend_threshold")


# ----------------------------------------------------------------------------- detector
def test_detector_reads_news_then_volatility_then_trend():
    t, v = STRATEGY.trend_threshold, STRATEGY.high_volatility_bps
    vol = np.array([0.5, 0.5, 0.5, v, v, 0.5, v + 1.0])
    trend = np.array([0.0, t + 0.1, -t - 0.1, 0.0, t + 5.0, t + 5.0, -5.0])
    news = np.array([False, False, False, False, False, True, True])
    assert detect_regime(vol, trend, news, STRATEGY).tolist() == [
        DETECTED_NORMAL,
        DETECTED_TRENDING_UP,
        DETECTED_TRENDING_DOWN,
        DETECTED_HIGH_VOL,
        DETECTED_HIGH_VOL,
        DETECTED_NEWS,
        DETECTED_NEWS,
    ]


def test_detector_thresholds():
    t, v = STRATEGY.trend_threshold, STRATEGY.high_volatility_bps
    got = detect_regime(np.array([v - 1e-6, v]), np.array([t, -t]), np.zeros(2, bool), STRATEGY)
    assert got.tolist() == [DETECTED_NORMAL, DETECTED_HIGH_VOL]  # vol >= v; |trend| > t


def test_detected_names_are_the_regime_labels():
    from mm_gym.market.regimes import LABEL_NAMES

    assert DETECTED_NAMES == LABEL_NAMES


# ----------------------------------------------------------------------------- policy
def test_policy_actions_decode_to_the_table_params():
    cfg = EnvConfig()
    policy = RuleBasedPolicy(cfg)
    obs = obs_rows(
        vol=[0.5, 0.5, 0.5, 2.5, 5.0, 0.5],
        trend=[0.0, 3.0, -3.0, 0.0, 0.0, 0.0],
        news=[0, 0, 0, 0, 0, 1],
    )
    actions, state = policy.predict(obs)
    assert state is None
    assert actions.dtype == np.float32 and actions.shape == (6, 3)
    assert (np.abs(actions) <= 1.0).all()
    core = MarketMakingCore(6, cfg)
    params, clipped = core.action_to_params(actions)
    assert clipped.sum() == 0
    want = table_params(
        policy.detected_regime(obs), obs[:, IDX["vol_short"]], cfg.baseline, cfg.strategy
    )
    assert params == pytest.approx(want, abs=1e-6)
    assert params == pytest.approx(core.baseline_params(obs), abs=1e-6)
    assert policy.detected_regime(obs).tolist() == [0, 1, 2, 3, 3, 4]


def test_policy_on_a_single_observation():
    policy = RuleBasedPolicy()
    obs = obs_rows(vol=[2.5])[0]
    action, _ = policy.predict(obs, state="s", episode_start=np.array([True]))
    assert action.shape == (3,)
    assert policy.detected_regime(obs) == DETECTED_HIGH_VOL
    lo, hi = STRATEGY.high_volatility_bps, CFG.extreme_vol_bps  # the ramp from 2x to 3x
    assert policy.params(obs) == pytest.approx([2.0 + min((2.5 - lo) / (hi - lo), 1.0), 1.0, 0.5])
    _, state = policy.predict(obs, state="s")
    assert state == "s"  # passed through


def test_policy_in_residual_mode_acts_zero_and_the_env_applies_the_table():
    cfg = EnvConfig(action_mode="residual")
    policy = RuleBasedPolicy(cfg)
    obs = obs_rows(vol=[0.5, 2.5], trend=[3.0, 0.0])
    actions, _ = policy.predict(obs)
    assert actions.dtype == np.float32 and not actions.any()
    core = MarketMakingCore(2, cfg)
    core.obs[:] = obs
    params, _ = core.action_to_params(actions)
    assert params == pytest.approx(core.baseline_params(obs))


def test_table_params_beyond_the_action_range_are_held_at_the_edge():
    cfg = EnvConfig(spread_multiplier_range=(0.5, 2.5))
    actions, _ = RuleBasedPolicy(cfg).predict(obs_rows(vol=[10.0]))  # wants 3x
    assert actions[0, 0] == 1.0


def test_policy_handles_the_regime_ablation_observation():
    cfg = EnvConfig(expose_regime=True)
    obs = obs_rows(vol=[0.5], dim=MarketMakingCore(1, cfg).obs_dim)
    actions, _ = RuleBasedPolicy(cfg).predict(obs)
    assert actions.shape == (1, 3)


def test_policy_rejects_a_wrong_observation_shape():
    policy = RuleBasedPolicy()
    with pytest.raises(ConfigError, match="observation shape"):
        policy.predict(np.zeros(5))
    with pytest.raises(ConfigError, match="observation shape"):
        policy.predict(np.zeros((2, 3, NUM_BASE_OBS)))
    with pytest.raises(ConfigError, match="config"):
        RuleBasedPolicy({"session_s": 10})


def test_policy_drives_the_registered_env():
    assert mm_gym.RuleBasedPolicy is RuleBasedPolicy
    env = gym.make("mm_gym/MarketMaking-v0", session_s=20.0)
    policy = RuleBasedPolicy(env.unwrapped.config)
    obs, _ = env.reset(seed=1)
    steps, done = 0, False
    while not done:
        action, _ = policy.predict(obs)
        assert env.action_space.contains(action)
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
        steps += 1
    assert steps == 20
    env.close()
