"""Validated parameters of the rule-based market maker, field by field.

The strategy is specified in docs/market-maker-strategy.md.
"""

from __future__ import annotations

import dataclasses

from mm_gym.config import Config, check_bool, check_range
from mm_gym.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class StrategyConfig(Config):
    """Every parameter and rule of the market-maker strategy.

    Spread: ``base_spread_bps * spread_multiplier``, floored at ``min_spread_bps`` plus the
    round-trip maker cost. Skew: quotes shift by ``-excess_inventory * skew_bps_per_lot *
    inventory_skew`` where the excess is the inventory beyond the soft limit. Size:
    ``size_fraction * quote_size`` lots, cut to the room left under ``max_inventory``.
    """

    # spread
    base_spread_bps: float = 10.0
    min_spread_bps: float = 2.0
    # inventory
    max_inventory: int = 50
    soft_limit_fraction: float = 0.5
    skew_bps_per_lot: float = 0.4
    # size
    quote_size: int = 5
    # quote adjustment
    quote_refresh_ms: float = 250.0
    cancel_on_fill: bool = True
    # regime-specific behaviour (keyed on the observable trend signal)
    trend_threshold: float = 1.0
    trend_widen_fraction: float = 0.5
    trend_shift_fraction: float = 0.25
    trend_reduction_multiplier: float = 2.0
    # when not to quote
    pause_on_news: bool = True
    max_volatility_bps: float = 8.0
    # the feature's level that separates high volatility on the default market: its median is
    # 0.90 bps/sqrt(s) ranging and 1.60 in high vol; 1.4 catches 66% of high-vol time (2.1,
    # set for the legacy market, caught 20% of it there), and the baseline's objective moved
    # by +3.1 [-0.6, 6.8] over 64 episodes
    high_volatility_bps: float = 1.4
    # risk limits
    stop_loss_fraction: float = 0.025
    daily_stop_fraction: float = 0.05
    capital: float = 10_000.0
    realised_spread_min_fills: int = 10
    realised_spread_alpha: float = 0.1
    pause_duration_s: float = 10.0
    exit_spread_multiplier: float = 2.0

    def validate(self) -> None:
        check_range("base_spread_bps", self.base_spread_bps, 0.0, 10_000.0, low_open=True)
        check_range("min_spread_bps", self.min_spread_bps, 0.0, 10_000.0)
        _int("max_inventory", self.max_inventory, 1, 10_000_000)
        check_range("soft_limit_fraction", self.soft_limit_fraction, 0.0, 1.0)
        check_range("skew_bps_per_lot", self.skew_bps_per_lot, 0.0, 10_000.0)
        _int("quote_size", self.quote_size, 1, self.max_inventory)
        check_range("quote_refresh_ms", self.quote_refresh_ms, 1.0, 3_600_000.0)
        check_bool("cancel_on_fill", self.cancel_on_fill)
        check_range("trend_threshold", self.trend_threshold, 0.0, None, low_open=True)
        check_range("trend_widen_fraction", self.trend_widen_fraction, 0.0, 10.0)
        check_range("trend_shift_fraction", self.trend_shift_fraction, 0.0, 1.0)
        check_range("trend_reduction_multiplier", self.trend_reduction_multiplier, 1.0, 100.0)
        check_bool("pause_on_news", self.pause_on_news)
        check_range("high_volatility_bps", self.high_volatility_bps, 0.0, None, low_open=True)
        check_range("max_volatility_bps", self.max_volatility_bps, self.high_volatility_bps, None)
        check_range("stop_loss_fraction", self.stop_loss_fraction, 0.0, 1.0, low_open=True)
        check_range("daily_stop_fraction", self.daily_stop_fraction, 0.0, 1.0, low_open=True)
        check_range("capital", self.capital, 0.0, None, low_open=True)
        _int("realised_spread_min_fills", self.realised_spread_min_fills, 1, 1_000_000)
        check_range("realised_spread_alpha", self.realised_spread_alpha, 0.0, 1.0, low_open=True)
        check_range("pause_duration_s", self.pause_duration_s, 0.0, 86_400.0)
        check_range("exit_spread_multiplier", self.exit_spread_multiplier, 0.0, 100.0)

    @property
    def soft_limit(self) -> float:
        """Inventory (lots) at which skewing starts."""
        return self.soft_limit_fraction * self.max_inventory


def _int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}={value!r}: expected an integer in [{low}, {high}]")
    check_range(name, value, low, high)
