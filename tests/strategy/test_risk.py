"""Risk limits one at a time (numba functions on a packed ``sp``) and StrategyConfig checks."""

from __future__ import annotations

import pytest

from mm_gym.errors import ConfigError
from mm_gym.market.config import MarketConfig
from mm_gym.strategy import risk
from mm_gym.strategy.config import StrategyConfig
from mm_gym.strategy.layout import pack_strategy


def sp_of(market: MarketConfig | None = None, **strategy):
    return pack_strategy(StrategyConfig(**strategy), (market or MarketConfig()).maker_fee_bps)


# ----------------------------------------------------------------------------- stops
def test_daily_stop_at_five_percent_of_capital():
    sp = sp_of(capital=10_000.0, daily_stop_fraction=0.05)
    assert not risk.daily_stop_hit(0.0, sp)
    assert not risk.daily_stop_hit(-499.0, sp)
    assert not risk.daily_stop_hit(-500.0, sp)
    assert risk.daily_stop_hit(-500.5, sp)
    assert not risk.daily_stop_hit(1e6, sp)


def test_per_symbol_stop_loss_long():
    sp = sp_of(stop_loss_fraction=0.025)
    # long 10 lots bought at 2000 ticks: loss 500 ticks*lots against 2.5% of the value
    assert not risk.position_stop_hit(10.0, 2000.0, 1960.0, sp)  # -400 vs 490
    assert risk.position_stop_hit(10.0, 2000.0, 1950.0, sp)  # -500 vs 487.5
    assert not risk.position_stop_hit(10.0, 2000.0, 2100.0, sp)  # a gain


def test_per_symbol_stop_loss_short():
    sp = sp_of(stop_loss_fraction=0.025)
    assert not risk.position_stop_hit(-10.0, 2000.0, 2050.0, sp)  # -500 vs 512.5
    assert risk.position_stop_hit(-10.0, 2000.0, 2060.0, sp)  # -600 vs 515
    assert not risk.position_stop_hit(-10.0, 2000.0, 1900.0, sp)


def test_no_position_no_stop_loss():
    assert not risk.position_stop_hit(0.0, 0.0, 2000.0, sp_of())


def test_stop_loss_fraction_scales_the_trigger():
    tight = sp_of(stop_loss_fraction=0.02)
    loose = sp_of(stop_loss_fraction=0.03)
    assert risk.position_stop_hit(5.0, 2000.0, 1955.0, tight)  # -2.25%
    assert not risk.position_stop_hit(5.0, 2000.0, 1955.0, loose)


def test_realised_spread_below_costs_needs_enough_fills():
    sp = sp_of(MarketConfig(maker_fee_bps=0.5), realised_spread_min_fills=10)
    assert not risk.realised_spread_too_low(-5.0, 9, sp)  # too few fills measured
    assert risk.realised_spread_too_low(-5.0, 10, sp)
    assert risk.realised_spread_too_low(0.49, 25, sp)  # below the maker fee
    assert not risk.realised_spread_too_low(0.6, 25, sp)


def test_widening_failed_means_exit_only_when_already_widened_and_holding():
    sp = sp_of(exit_spread_multiplier=2.0)
    assert risk.widening_failed(2.0, 3.0, sp)
    assert risk.widening_failed(3.0, -1.0, sp)
    assert not risk.widening_failed(1.5, 3.0, sp)  # not widened yet: widen first
    assert not risk.widening_failed(2.5, 0.0, sp)  # nothing to exit


# ----------------------------------------------------------------------------- config
def test_defaults_are_the_documents_numbers():
    c = StrategyConfig()
    assert c.soft_limit == 0.5 * c.max_inventory  # soft limit at 50% of max
    assert 0.02 <= c.stop_loss_fraction <= 0.03  # per-symbol stop at 2-3%
    assert c.daily_stop_fraction == 0.05  # daily stop at 5% of capital
    assert c.base_spread_bps == 10.0
    assert c.cancel_on_fill is True


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"base_spread_bps": 0.0}, "base_spread_bps"),
        ({"min_spread_bps": -1.0}, "min_spread_bps"),
        ({"max_inventory": 0}, "max_inventory"),
        ({"max_inventory": 2.5}, "max_inventory"),
        ({"soft_limit_fraction": 1.5}, "soft_limit_fraction"),
        ({"quote_size": 60, "max_inventory": 50}, "quote_size"),
        ({"quote_refresh_ms": 0.5}, "quote_refresh_ms"),
        ({"cancel_on_fill": 1}, "cancel_on_fill"),
        ({"trend_reduction_multiplier": 0.5}, "trend_reduction_multiplier"),
        ({"trend_shift_fraction": 1.5}, "trend_shift_fraction"),
        ({"max_volatility_bps": 1.0, "high_volatility_bps": 2.0}, "max_volatility_bps"),
        ({"stop_loss_fraction": 0.0}, "stop_loss_fraction"),
        ({"daily_stop_fraction": 1.5}, "daily_stop_fraction"),
        ({"capital": -1.0}, "capital"),
        ({"realised_spread_alpha": 0.0}, "realised_spread_alpha"),
        ({"pause_on_news": "yes"}, "pause_on_news"),
        ({"skew_bps_per_lot": float("nan")}, "skew_bps_per_lot"),
    ],
)
def test_invalid_strategy_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        StrategyConfig(**kwargs)


def test_unknown_strategy_key_is_refused_with_the_allowed_keys():
    with pytest.raises(ConfigError, match="spread_mult.*allowed keys"):
        StrategyConfig.from_dict({"spread_mult": 2.0})


def test_error_message_names_value_and_range():
    with pytest.raises(ConfigError) as err:
        StrategyConfig(soft_limit_fraction=1.5)
    assert str(err.value) == "soft_limit_fraction=1.5: allowed range is [0.0, 1.0]"
