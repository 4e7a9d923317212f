"""The rule-based baseline: detect the regime from observable features, look up the table.

The parameter table of docs/market-maker-strategy.md (spread multiplier, inventory skew,
size fraction):

| condition | spread | skew | size |
|-----------|--------|------|------|
| normal    | 1.0x   | 0.5  | 100% |
| trending  | 1.5x   | 0.3  | 80%  |
| high vol  | 2-3x   | 1.0  | 50%  |
| news      | pause  | -    | 0%   |
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mm_gym.config import Config, check_range
from mm_gym.errors import ConfigError
from mm_gym.strategy.config import StrategyConfig

DETECTED_NORMAL = 0
DETECTED_TRENDING_UP = 1
DETECTED_TRENDING_DOWN = 2
DETECTED_HIGH_VOL = 3
DETECTED_NEWS = 4
DETECTED_NAMES = ("ranging", "trending_up", "trending_down", "high_vol", "news")


@dataclasses.dataclass(frozen=True)
class BaselineConfig(Config):
    """The parameter table of the document, and where the high-vol spread reaches its top.

    The detector's thresholds are the strategy's own (``StrategyConfig.trend_threshold`` and
    ``high_volatility_bps``): the rules that key on a trend or on high volatility and the
    detector that labels them read one value.
    """

    extreme_vol_bps: float = 3.0  # above the feature's upper quartile in high vol (1.97)
    normal: tuple = (1.0, 0.5, 1.0)
    trending: tuple = (1.5, 0.3, 0.8)
    high_vol: tuple = (2.0, 1.0, 0.5)
    high_vol_max_spread: float = 3.0
    news: tuple = (1.0, 0.5, 0.0)

    def __post_init__(self) -> None:
        for name in ("normal", "trending", "high_vol", "news"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        super().__post_init__()

    def validate(self) -> None:
        check_range("extreme_vol_bps", self.extreme_vol_bps, 0.0, None, low_open=True)
        for name in ("normal", "trending", "high_vol", "news"):
            row = getattr(self, name)
            if not isinstance(row, tuple) or len(row) != 3:
                raise ConfigError(
                    f"{name}={row!r}: expected (spread_multiplier, inventory_skew, size_fraction)"
                )
            check_range(f"{name}[0] (spread_multiplier)", row[0], 0.0, None, low_open=True)
            check_range(f"{name}[1] (inventory_skew)", row[1], 0.0, None)
            check_range(f"{name}[2] (size_fraction)", row[2], 0.0, 1.0)
        check_range("high_vol_max_spread", self.high_vol_max_spread, self.high_vol[0], None)


def detect_regime(
    vol_short_bps: np.ndarray,
    trend_strength: np.ndarray,
    news_flag: np.ndarray,
    strategy: StrategyConfig,
) -> np.ndarray:
    """Regime per market from observable features only: news, then high vol, then trend.

    The thresholds are the strategy's ``trend_threshold`` and ``high_volatility_bps``.
    """
    vol = np.asarray(vol_short_bps, dtype=np.float64)
    trend = np.asarray(trend_strength, dtype=np.float64)
    out = np.full(vol.shape, DETECTED_NORMAL, dtype=np.int64)
    out[trend > strategy.trend_threshold] = DETECTED_TRENDING_UP
    out[trend < -strategy.trend_threshold] = DETECTED_TRENDING_DOWN
    out[vol >= strategy.high_volatility_bps] = DETECTED_HIGH_VOL
    out[np.asarray(news_flag, dtype=bool)] = DETECTED_NEWS
    return out


def table_params(
    detected: np.ndarray,
    vol_short_bps: np.ndarray,
    cfg: BaselineConfig,
    strategy: StrategyConfig,
) -> np.ndarray:
    """The document's table: (spread multiplier, inventory skew, size fraction) per market.

    In high volatility the spread multiplier rises from ``high_vol[0]`` (2x) at the detection
    threshold (``strategy.high_volatility_bps``) to ``high_vol_max_spread`` (3x) at
    ``extreme_vol_bps``.
    """
    rows = np.array([cfg.normal, cfg.trending, cfg.trending, cfg.high_vol, cfg.news])
    params = rows[detected].copy()
    hv = detected == DETECTED_HIGH_VOL
    if hv.any():
        lo, hi = strategy.high_volatility_bps, cfg.extreme_vol_bps
        frac = np.clip((np.asarray(vol_short_bps, dtype=np.float64)[hv] - lo) / (hi - lo), 0.0, 1.0)
        params[hv, 0] = cfg.high_vol[0] + frac * (cfg.high_vol_max_spread - cfg.high_vol[0])
    return params
