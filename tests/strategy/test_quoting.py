"""The quoting engine's rules, one at a time (numba functions called on a packed ``sp``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mm_gym.market.config import MarketConfig
from mm_gym.strategy import quoting as Q
from mm_gym.strategy.config import StrategyConfig
from mm_gym.strategy.layout import pack_strategy

MID = 100_000.0  # ticks: 1 bp = 10 ticks, so bps shifts show up exactly


def sp_of(market: MarketConfig | None = None, **strategy) -> np.ndarray:
    return pack_strategy(StrategyConfig(**strategy), (market or MarketConfig()).maker_fee_bps)


def quotes(sp, inventory=0.0, mult=1.0, skew=0.5, size=1.0, trend=0.0, mid=MID):
    return Q.compute_quotes(mid, float(inventory), mult, skew, size, trend, sp)


# ----------------------------------------------------------------------------- spread
def test_spread_floor_is_min_spread_plus_round_trip_maker_fee():
    sp = sp_of(MarketConfig(maker_fee_bps=0.5), min_spread_bps=2.0)
    assert Q.floor_spread_bps(sp) == pytest.approx(3.0)
    assert Q.quoted_spread_bps(0.1, sp) == pytest.approx(3.0)  # 1 bp wanted, floored
    bid, _, ask, _ = quotes(sp, mult=0.1)
    assert (bid, ask) == (MID - 15, MID + 15)


def test_spread_floor_ignores_a_maker_rebate():
    sp = sp_of(MarketConfig(maker_fee_bps=-0.25), min_spread_bps=2.0)
    assert Q.floor_spread_bps(sp) == pytest.approx(2.0)


@pytest.mark.parametrize("mult", [1.0, 1.5, 2.0, 3.0])
def test_spread_multiplier_scales_the_base_spread(mult):
    sp = sp_of(base_spread_bps=10.0)
    assert Q.quoted_spread_bps(mult, sp) == pytest.approx(10.0 * mult)
    bid, _, ask, _ = quotes(sp, mult=mult)
    half_ticks = 5.0 * mult * MID * 1e-4
    assert MID - bid == pytest.approx(half_ticks)
    assert ask - MID == pytest.approx(half_ticks)


def test_quotes_are_rounded_outward_on_the_tick_grid_and_never_cross():
    sp = sp_of(base_spread_bps=10.0, min_spread_bps=0.0)
    bid, _, ask, _ = quotes(sp, mid=2000.5)  # half spread 1.00025 ticks
    assert bid == 1999 and ask == 2002
    bid, _, ask, _ = Q.compute_quotes(
        2000.0, 0.0, 1e-6, 0.0, 1.0, 0.0, sp_of(MarketConfig(maker_fee_bps=0.0), min_spread_bps=0.0)
    )
    assert ask > bid


# ----------------------------------------------------------------------------- skew
def test_no_skew_up_to_the_soft_limit():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5)
    flat = quotes(sp)
    for inv in (-25, -10, 0, 10, 25):
        assert Q.skew_shift_bps(float(inv), 1.0, 0, sp) == 0.0
        b, _, a, _ = quotes(sp, inventory=inv, skew=1.0)
        assert (b, a) == (flat[0], flat[2])


@pytest.mark.parametrize("skew", [0.5, 1.0, 2.0])
def test_long_beyond_the_soft_limit_lowers_both_quotes(skew):
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, skew_bps_per_lot=0.4)
    # 10 lots beyond the soft limit of 25: shift -10 * 0.4 * skew bps
    assert Q.skew_shift_bps(35.0, skew, 0, sp) == pytest.approx(-4.0 * skew)
    b0, _, a0, _ = quotes(sp)
    b, _, a, _ = quotes(sp, inventory=35, skew=skew)
    shift_ticks = 4.0 * skew * MID * 1e-4
    assert b == pytest.approx(b0 - shift_ticks)
    assert a == pytest.approx(a0 - shift_ticks)


def test_short_beyond_the_soft_limit_raises_both_quotes():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, skew_bps_per_lot=0.4)
    assert Q.skew_shift_bps(-35.0, 1.0, 0, sp) == pytest.approx(4.0)
    b0, _, a0, _ = quotes(sp)
    b, _, a, _ = quotes(sp, inventory=-35, skew=1.0)
    assert b == b0 + 40 and a == a0 + 40


def test_zero_inventory_skew_parameter_means_no_skew():
    sp = sp_of()
    assert Q.skew_shift_bps(45.0, 0.0, 0, sp) == 0.0


def test_skew_grows_linearly_with_the_excess_inventory():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, skew_bps_per_lot=0.4)
    shifts = [Q.skew_shift_bps(float(inv), 1.0, 0, sp) for inv in (30, 35, 40, 50)]
    assert np.allclose(shifts, [-2.0, -4.0, -6.0, -10.0])


# ----------------------------------------------------------------------------- size
@pytest.mark.parametrize(
    "fraction, lots",
    [(1.0, 5), (0.8, 4), (0.5, 3), (0.3, 2), (0.2, 1), (0.1, 1), (0.09, 0), (0.0, 0)],
)
def test_size_is_the_fraction_of_quote_size_rounded_half_up(fraction, lots):
    sp = sp_of(quote_size=5)
    assert Q.quote_size_lots(fraction, sp) == lots


def test_size_zero_quotes_nothing_and_is_a_pause():
    sp = sp_of(quote_size=5)
    _, bid_lots, _, ask_lots = quotes(sp, size=0.05)
    assert bid_lots == 0 and ask_lots == 0
    assert Q.pause_reason(0, False, 0.5, 5.0, False, False, sp) == Q.PAUSE_SIZE_ZERO


# ----------------------------------------------------------------------------- hard limit
@pytest.mark.parametrize(
    "inventory, bid_lots, ask_lots",
    [(0, 5, 5), (47, 3, 5), (50, 0, 5), (-48, 5, 2), (-50, 5, 0)],
)
def test_hard_limit_cuts_sizes_to_the_room_left(inventory, bid_lots, ask_lots):
    sp = sp_of(max_inventory=50, quote_size=5)
    _, b, _, a = quotes(sp, inventory=inventory)
    assert (b, a) == (bid_lots, ask_lots)


def test_at_the_hard_limit_the_skew_is_largest_and_only_the_reducing_side_quotes():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, skew_bps_per_lot=0.4, quote_size=5)
    b0, _, a0, _ = quotes(sp)
    b, bl, a, al = quotes(sp, inventory=50, skew=1.0)
    assert bl == 0 and al == 5
    assert a == a0 - 100 and b == b0 - 100  # 25 lots beyond the soft limit: -10 bps


# ----------------------------------------------------------------------------- trends
def test_trend_direction_uses_a_strict_threshold():
    sp = sp_of(trend_threshold=1.0)
    assert Q.trend_direction(1.0, sp) == 0
    assert Q.trend_direction(1.01, sp) == 1
    assert Q.trend_direction(-1.01, sp) == -1
    assert Q.trend_direction(0.3, sp) == 0


def test_trending_up_widens_the_ask_and_shifts_quotes_up():
    sp = sp_of(trend_threshold=1.0, trend_widen_fraction=0.5, trend_shift_fraction=0.25)
    b0, _, a0, _ = quotes(sp)
    b, _, a, _ = quotes(sp, trend=2.0)
    # half spread 5 bps = 50 ticks; ask side 75 ticks; both shifted up 0.25 * 5 bps
    assert b == np.floor(MID + 12.5 - 50) and a == np.ceil(MID + 12.5 + 75)
    assert b > b0 and a > a0
    center = MID + 12.5
    assert a - center > center - b  # the ask side is wider


def test_trending_down_widens_the_bid_and_shifts_quotes_down():
    sp = sp_of(trend_threshold=1.0, trend_widen_fraction=0.5, trend_shift_fraction=0.25)
    b0, _, a0, _ = quotes(sp)
    b, _, a, _ = quotes(sp, trend=-2.0)
    assert b == np.floor(MID - 12.5 - 75) and a == np.ceil(MID - 12.5 + 50)
    assert b < b0 and a < a0
    center = MID - 12.5
    assert center - b > a - center  # the bid side is wider


def test_inventory_against_the_trend_is_skewed_harder():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, trend_reduction_multiplier=2.0)
    plain_short = Q.skew_shift_bps(-35.0, 1.0, 0, sp)
    plain_long = Q.skew_shift_bps(35.0, 1.0, 0, sp)
    # short in an up-trend and long in a down-trend: against the trend, reduced faster
    assert Q.skew_shift_bps(-35.0, 1.0, 1, sp) == pytest.approx(2.0 * plain_short)
    assert Q.skew_shift_bps(35.0, 1.0, -1, sp) == pytest.approx(2.0 * plain_long)
    # with the trend: the normal skew
    assert Q.skew_shift_bps(35.0, 1.0, 1, sp) == pytest.approx(plain_long)
    assert Q.skew_shift_bps(-35.0, 1.0, -1, sp) == pytest.approx(plain_short)


def test_trend_reduction_shows_in_the_quotes():
    sp = sp_of(
        max_inventory=50,
        soft_limit_fraction=0.5,
        skew_bps_per_lot=0.4,
        trend_reduction_multiplier=3.0,
        trend_shift_fraction=0.0,
        trend_widen_fraction=0.0,
    )
    b_flat, _, _, _ = quotes(sp, inventory=-35, skew=1.0, trend=0.0)
    b_up, _, _, _ = quotes(sp, inventory=-35, skew=1.0, trend=2.0)
    assert b_flat == MID - 50 + 40
    assert b_up == MID - 50 + 120


# ----------------------------------------------------------------------------- widest quote
@settings(max_examples=300, deadline=None)
@given(
    base=st.floats(0.1, 500.0),
    max_inventory=st.integers(1, 200),
    soft=st.floats(0.0, 1.0),
    skew_per_lot=st.floats(0.0, 5.0),
    widen=st.floats(0.0, 3.0),
    shift=st.floats(0.0, 1.0),
    reduction=st.floats(1.0, 5.0),
    max_mult=st.floats(0.01, 10.0),
    max_skew=st.floats(0.0, 5.0),
    u=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(-1.0, 1.0)),
    trend=st.floats(-5.0, 5.0),
    mid=st.floats(1000.0, 1e6),
)
def test_widest_quote_bounds_every_quote(
    base,
    max_inventory,
    soft,
    skew_per_lot,
    widen,
    shift,
    reduction,
    max_mult,
    max_skew,
    u,
    trend,
    mid,
):
    sp = sp_of(
        base_spread_bps=base,
        max_inventory=max_inventory,
        soft_limit_fraction=soft,
        skew_bps_per_lot=skew_per_lot,
        quote_size=1,
        trend_widen_fraction=widen,
        trend_shift_fraction=shift,
        trend_reduction_multiplier=reduction,
    )
    reach = Q.widest_quote_bps(max_mult, max_skew, sp) * mid * 1e-4 + 1.0  # ticks
    inventory = round(u[2] * max_inventory)
    bid, _, ask, _ = quotes(sp, inventory, u[0] * max_mult, u[1] * max_skew, 1.0, trend, mid)
    assert abs(bid - mid) <= reach + 1e-6
    assert abs(ask - mid) <= reach + 1e-6


def test_widest_quote_is_reached():
    sp = sp_of(max_inventory=50, soft_limit_fraction=0.5, skew_bps_per_lot=0.4)
    # long at the hard limit in a down-trend: the bid is the widest quote
    bid, _, _, _ = quotes(sp, inventory=50, mult=3.0, skew=2.0, trend=-2.0)
    assert MID - bid == pytest.approx(Q.widest_quote_bps(3.0, 2.0, sp) * MID * 1e-4, abs=1.0)
    assert Q.widest_quote_bps(3.0, 2.0, sp) == pytest.approx(15.0 * 1.75 + 25 * 0.4 * 2 * 2)


# ----------------------------------------------------------------------------- pauses
def _reason(sp, size=5, news=False, vol=0.5, spread=5.0, paused=False, halted=False):
    return Q.pause_reason(size, news, vol, spread, paused, halted, sp)


def test_no_pause_in_normal_conditions():
    assert _reason(sp_of()) == 0


def test_news_flag_pauses_unless_disabled():
    assert _reason(sp_of(), news=True) == Q.PAUSE_NEWS
    assert _reason(sp_of(pause_on_news=False), news=True) == 0


def test_extreme_volatility_pauses():
    sp = sp_of(max_volatility_bps=8.0)
    assert _reason(sp, vol=8.0) == 0
    assert _reason(sp, vol=8.5) == Q.PAUSE_EXTREME_VOL


def test_spread_collapse_in_high_volatility_pauses():
    sp = sp_of(high_volatility_bps=2.0, min_spread_bps=2.0)
    assert _reason(sp, vol=3.0, spread=1.0) == Q.PAUSE_SPREAD_COLLAPSE
    assert _reason(sp, vol=3.0, spread=5.0) == 0  # spread fine
    assert _reason(sp, vol=1.0, spread=1.0) == 0  # calm market: a tight spread is fine
    # the threshold is the profitable floor (min spread + round-trip maker fee), not min spread
    assert float(Q.floor_spread_bps(sp)) > 2.5
    assert _reason(sp, vol=3.0, spread=2.5) == Q.PAUSE_SPREAD_COLLAPSE
    assert _reason(sp, vol=3.0, spread=float("inf")) == 0  # an empty side is no collapse


def test_realised_spread_pause_and_halt_flags():
    sp = sp_of()
    assert _reason(sp, paused=True) == Q.PAUSE_REALISED_SPREAD
    assert _reason(sp, halted=True) == Q.PAUSE_HALTED


def test_pause_reasons_combine_as_bit_flags():
    sp = sp_of(max_volatility_bps=8.0, high_volatility_bps=2.0, min_spread_bps=2.0)
    r = _reason(sp, size=0, news=True, vol=9.0, spread=1.0, paused=True, halted=True)
    assert r == (
        Q.PAUSE_SIZE_ZERO
        | Q.PAUSE_NEWS
        | Q.PAUSE_EXTREME_VOL
        | Q.PAUSE_SPREAD_COLLAPSE
        | Q.PAUSE_REALISED_SPREAD
        | Q.PAUSE_HALTED
    )
