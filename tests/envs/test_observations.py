"""What the observation carries: the clock of the trading day, the detector's regime and its
table row, and nothing of the hidden regime at the start of an episode."""

from __future__ import annotations

import numpy as np

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import baseline_params, detected_regime
from mm_gym.envs.market_making import MarketMakingVectorEnv
from mm_gym.envs.observations import (
    DETECTED_OBS_NAMES,
    IDX,
    OBS_NAMES,
    TABLE_OBS_NAMES,
)

CLOCK = ("day_sin", "day_cos", "to_close")


def _day_fraction(obs: np.ndarray) -> np.ndarray:
    return 1.0 - obs[:, IDX["to_close"]].astype(np.float64)


def _intraday_level(u: np.ndarray, amplitude: float) -> np.ndarray:
    x = 2.0 * u - 1.0
    return (1.0 + amplitude * (3.0 * x * x - 1.0)) / np.sqrt(1.0 + 0.8 * amplitude**2)


def test_first_observation_says_nothing_of_the_starting_regime() -> None:
    """At reset every column is the same in every market, except the clock, the volatility
    estimates (the market's unconditional level times the intraday level of the clock), the
    announced-news flag and what the detector makes of those: so the first observation is a
    function of the time of day and the news schedule alone, whatever the regime."""
    config = EnvConfig(session_s=60.0)
    env = MarketMakingVectorEnv(num_envs=128, config=config)
    obs, info = env.reset(seed=11)
    assert len(set(info["regime"].tolist())) >= 3  # markets start in several regimes
    derived = {"vol_short", "vol_long", "news_flag", *CLOCK, *DETECTED_OBS_NAMES}
    derived |= set(TABLE_OBS_NAMES)
    for name in OBS_NAMES:
        if name not in derived:
            column = obs[:, IDX[name]]
            assert np.all(column == column[0]), name
    level = _intraday_level(_day_fraction(obs), config.market.volatility.intraday_amplitude)
    for name in ("vol_short", "vol_long"):
        ratio = obs[:, IDX[name]] / level
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4, err_msg=name)


def test_clock_is_the_time_of_day_and_advances_with_the_market() -> None:
    config = EnvConfig(session_s=600.0)
    env = MarketMakingVectorEnv(num_envs=8, config=config)
    obs, _ = env.reset(seed=3)
    u0 = _day_fraction(obs)
    phase = 2.0 * np.pi * u0
    np.testing.assert_allclose(obs[:, IDX["day_sin"]], np.sin(phase), atol=1e-5)
    np.testing.assert_allclose(obs[:, IDX["day_cos"]], np.cos(phase), atol=1e-5)
    assert len(np.unique(np.round(u0, 4))) == 8  # each market starts at its own time of day
    steps = 100
    for _ in range(steps):
        obs, *_ = env.step(np.zeros((8, 3), np.float32))
    gone = steps * config.decision_interval_ms / 1000.0 / config.market.volatility.day_s
    expected = (u0 + gone) % 1.0
    np.testing.assert_allclose(_day_fraction(obs), expected, atol=1e-5)


def test_detected_regime_and_table_row_are_the_baselines() -> None:
    config = EnvConfig(session_s=600.0)
    env = MarketMakingVectorEnv(num_envs=32, config=config)
    env.reset(seed=5)
    seen = set()
    for _ in range(300):
        obs, *_ = env.step(np.zeros((32, 3), np.float32))
        detected = detected_regime(obs, config)
        onehot = obs[:, [IDX[n] for n in DETECTED_OBS_NAMES]]
        assert np.array_equal(onehot.argmax(axis=1), detected) and np.all(onehot.sum(1) == 1)
        table = obs[:, [IDX[n] for n in TABLE_OBS_NAMES]]
        np.testing.assert_allclose(table, baseline_params(obs, config), rtol=1e-6)
        seen |= set(detected.tolist())
    assert len(seen) >= 2
