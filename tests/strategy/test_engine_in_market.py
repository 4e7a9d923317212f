"""The quoting engine inside the market: order handling, stops and the hard inventory limit.

Most tests use a quiet market (almost no background flow, no news) so the agent's orders and
the book stay where the test put them; fills are made by background market orders
(``tests.market.conftest.market_order``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import MarketMakingCore
from mm_gym.market import layout as lay
from mm_gym.market.config import MarketConfig
from mm_gym.market.messages import in_flight
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig
from tests.market.conftest import market_order

QUIET = {
    "limit_rate": 1e-9,
    "cancel_rate": 1e-9,
    "market_rate": 0.0,
    "informed_rate": 0.0,
    "pin_regime": "ranging",
    "news": {"rate_per_hour": 0.0},
}
NORMAL = np.array([[1.0, 0.5, 1.0]])  # the table's normal row
LATENCY_S = 0.02


def quiet_sim(latency_ms: float = 1000 * LATENCY_S, fill_log: int = 0, **strategy) -> MarketSim:
    market = MarketConfig(**QUIET, latency_ms=latency_ms, fill_log_capacity=fill_log)
    sim = MarketSim(1, market, StrategyConfig(**strategy))
    sim.reset([7])
    return sim


def lots_to_fill_bid(sim: MarketSim) -> int:
    """Background lots a market sell needs to fill the agent's whole bid."""
    origin = sim.ints[0, lay.I_ORIGIN]
    price = sim.orders[0, 0, lay.O_PRICE]
    best = sim.ints[0, lay.I_BEST_BID]
    better = int(sim.book[0, 0, price - origin + 1 : best - origin + 1].sum())
    return better + int(sim.orders[0, 0, lay.O_AHEAD]) + int(sim.orders[0, 0, lay.O_SIZE])


def level(sim: MarketSim, side: int, price: int) -> int:
    return int(sim.book[0, side, price - sim.ints[0, lay.I_ORIGIN]])


def active(sim: MarketSim, side: int) -> bool:
    return bool(sim.orders[0, side, lay.O_ACTIVE] == 1)


# ----------------------------------------------------------------------------- orders
@pytest.mark.parametrize("cancel_on_fill", [True, False])
def test_cancel_on_fill_cancels_the_opposite_quote_after_latency(cancel_on_fill):
    sim = quiet_sim(cancel_on_fill=cancel_on_fill)
    sim.advance(1.1, NORMAL)  # refreshes at 0, 0.25, ..., 1.0; the next at 1.25
    assert active(sim, 0) and active(sim, 1)
    size = int(sim.orders[0, 0, lay.O_SIZE])
    assert market_order(sim, 0, lots_to_fill_bid(sim)) == 0
    assert sim.inventory[0] == size and not active(sim, 0)
    if cancel_on_fill:
        assert in_flight(0, 1, sim.pend_time) == 1
        assert sim.pend[0, 1, 0, lay.P_PRICE] == -1
        assert sim.pend_time[0, 1, 0] == pytest.approx(1.1 + LATENCY_S)
    sim.advance(0.5 * LATENCY_S, NORMAL)
    assert active(sim, 1)  # the cancel is still on its way
    sim.advance(0.05, NORMAL)  # past the latency, before the next refresh
    assert active(sim, 1) != cancel_on_fill


def test_same_price_refresh_keeps_the_queue_position_a_new_price_requeues():
    sim = quiet_sim()
    sim.advance(1.1, NORMAL)
    price = int(sim.orders[0, 0, lay.O_PRICE])
    assert sim.orders[0, 0, lay.O_SIZE] == 5
    assert sim.orders[0, 0, lay.O_AHEAD] == level(sim, 0, price)  # joined at the back
    sim.orders[0, 0, lay.O_AHEAD] = 2  # the queue moved up
    sent = sim.mints[0, lay.MI_QUOTES_SENT]

    sim.advance(0.5, np.array([[1.0, 0.5, 0.6]]))  # 3 lots, same price: an amendment
    assert sim.mints[0, lay.MI_QUOTES_SENT] > sent
    assert sim.orders[0, 0, lay.O_PRICE] == price and sim.orders[0, 0, lay.O_SIZE] == 3
    assert sim.orders[0, 0, lay.O_AHEAD] == 2  # kept its place

    sim.advance(0.5, np.array([[3.0, 0.5, 0.6]]))  # wider: a new price, back of that queue
    new_price = int(sim.orders[0, 0, lay.O_PRICE])
    assert new_price < price
    assert sim.orders[0, 0, lay.O_AHEAD] == level(sim, 0, new_price)


def test_topping_up_a_quote_joins_the_back_of_the_queue():
    sim = quiet_sim()
    sim.advance(1.1, np.array([[1.0, 0.5, 0.6]]))
    price = int(sim.orders[0, 0, lay.O_PRICE])
    sim.orders[0, 0, lay.O_AHEAD] = 1
    sim.advance(0.5, NORMAL)  # 3 -> 5 lots at the same price
    assert sim.orders[0, 0, lay.O_PRICE] == price and sim.orders[0, 0, lay.O_SIZE] == 5
    assert sim.orders[0, 0, lay.O_AHEAD] == level(sim, 0, price)


def test_orders_land_after_the_latency():
    sim = quiet_sim(latency_ms=300.0)
    sim.advance(0.2, NORMAL)  # sent at t=0, land at 0.3
    assert not active(sim, 0) and not active(sim, 1)
    sim.advance(0.2, NORMAL)
    assert active(sim, 0) and active(sim, 1)


# ----------------------------------------------------------------------------- stops
def test_per_symbol_stop_flattens_with_a_market_order():
    sim = quiet_sim(fill_log=64, stop_loss_fraction=0.025)
    sim.advance(1.1, NORMAL)
    tick = sim.market.tick_size
    mid = sim.fs[0, lay.F_MID]
    # a long position bought 3% above the mid: beyond the 2.5% stop
    sim.mints[0, lay.MI_INV] = 10
    sim.mfs[0, lay.MF_AVG_COST] = mid * 1.03
    sim.mfs[0, lay.MF_CASH] = -10 * mid * 1.03 * tick
    fees_before = sim.mfs[0, lay.MF_FEES]
    sim.advance(0.2, NORMAL)  # refresh at 1.25, market order lands at 1.27
    assert sim.mints[0, lay.MI_STOP_LOSSES] == 1
    assert sim.inventory[0] == 0
    fills = sim.fills(0)
    taker = fills[fills["maker"] == 0]
    assert taker["size"].sum() == 10 and (taker["side"] == -1).all()
    assert taker["time"].min() == pytest.approx(1.25 + LATENCY_S)
    taker_fee = sim.market.taker_fee_bps * 1e-4 * float((taker["price"] * taker["size"]).sum())
    assert sim.mfs[0, lay.MF_FEES] - fees_before == pytest.approx(taker_fee)
    assert taker_fee > 0
    sim.advance(0.5, NORMAL)
    assert active(sim, 0) and active(sim, 1)  # quoting resumes after a per-symbol stop
    # the liquidation is a taker fill: it never enters the realised spread of the quotes
    sim.advance(2.0, NORMAL)
    assert sim.mints[0, lay.MI_RS_COUNT] == 0
    assert sim.mfs[0, lay.MF_MOW1] == 10  # but its markout is measured


def test_daily_stop_halts_for_the_rest_of_the_episode():
    market = MarketConfig(pin_regime="ranging", news={"rate_per_hour": 0.0})
    core = MarketMakingCore(1, EnvConfig(session_s=60.0, market=market))
    core.reset(np.array([3]))
    action = core.params_to_action(np.array([[1.0, 0.5, 1.0]]))
    _, _, terminated, _, _ = core.step(action)
    assert not terminated[0]
    sim = core.sim
    # lose 6% of capital (the daily stop is 5%) while holding 4 lots
    sim.mfs[0, lay.MF_CASH] -= 0.06 * sim.strategy.capital
    sim.mints[0, lay.MI_INV] += 4
    sim.mfs[0, lay.MF_CASH] -= 4 * sim.mid[0]
    _, _, terminated, truncated, _ = core.step(action)
    assert terminated[0] and not truncated[0]
    assert sim.mints[0, lay.MI_HALTED] == 1
    assert sim.inventory[0] == 0  # flattened
    fills = sim.mints[0, lay.MI_N_FILLS]
    for _ in range(5):  # the background keeps trading; the agent never again
        _, _, terminated, truncated, _ = core.step(action)
        assert terminated[0] and not truncated[0]
        assert not active(sim, 0) and not active(sim, 1)
        assert np.isnan(sim.mfs[0, lay.MF_BID_QUOTE]) and np.isnan(sim.mfs[0, lay.MF_ASK_QUOTE])
    assert sim.mints[0, lay.MI_N_FILLS] == fills
    assert sim.ints[0, lay.I_EVENTS] > 0


def test_realised_spread_below_costs_pauses_quoting():
    sim = quiet_sim(pause_duration_s=10.0, realised_spread_min_fills=10)
    sim.advance(1.1, NORMAL)
    sim.mfs[0, lay.MF_RS_EWMA] = -1.0  # fills lost money after 1 s
    sim.mints[0, lay.MI_RS_COUNT] = 10
    sim.advance(0.2, NORMAL)  # refresh at 1.25
    assert sim.mints[0, lay.MI_SPREAD_PAUSES] == 1 and sim.mints[0, lay.MI_EXITS] == 0
    assert sim.mfs[0, lay.MF_PAUSE_UNTIL] == pytest.approx(11.25)
    assert sim.mints[0, lay.MI_RS_COUNT] == 0  # measured afresh after the pause
    assert not active(sim, 0) and not active(sim, 1)
    sim.advance(9.0, NORMAL)
    assert not active(sim, 0) and not active(sim, 1)
    sim.advance(1.0, NORMAL)  # the pause is over
    assert active(sim, 0) and active(sim, 1)


def test_widening_failed_exits_the_position():
    sim = quiet_sim(exit_spread_multiplier=2.0)
    wide = np.array([[2.0, 0.5, 1.0]])
    sim.advance(1.1, wide)
    sim.mints[0, lay.MI_INV] = -3
    sim.mfs[0, lay.MF_AVG_COST] = sim.fs[0, lay.F_MID]
    sim.mfs[0, lay.MF_RS_EWMA] = -1.0
    sim.mints[0, lay.MI_RS_COUNT] = 10
    sim.advance(0.2, wide)
    assert sim.mints[0, lay.MI_SPREAD_PAUSES] == 1 and sim.mints[0, lay.MI_EXITS] == 1
    assert sim.inventory[0] == 0  # bought back with a market order


def test_news_flag_pulls_the_quotes():
    sim = quiet_sim()
    sim.advance(1.1, NORMAL)
    sim.fs[0, lay.F_NEWS_ANNOUNCED_AT] = 1.0  # an announced news is near
    sim.advance(0.2, NORMAL)
    assert not active(sim, 0) and not active(sim, 1)
    assert np.isnan(sim.mfs[0, lay.MF_BID_QUOTE])


def test_halted_market_never_quotes():
    sim = quiet_sim()
    sim.mints[0, lay.MI_HALTED] = 1
    sim.advance(2.0, NORMAL)
    assert not active(sim, 0) and not active(sim, 1)
    assert sim.mints[0, lay.MI_QUOTES_SENT] == 0


# ----------------------------------------------------------------------------- hard limit
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    max_inventory=st.integers(1, 4),
    latency_ms=st.sampled_from([0.0, 300.0]),
    market_rate=st.sampled_from([5.0, 60.0]),
    informed_rate=st.sampled_from([5.0, 40.0]),
    refresh_ms=st.sampled_from([10.0, 250.0]),
    cancel_on_fill=st.booleans(),
)
def test_hard_inventory_limit_is_never_exceeded(
    seed, max_inventory, latency_ms, market_rate, informed_rate, refresh_ms, cancel_on_fill
):
    market = MarketConfig(
        market_rate=market_rate,
        market_size_mean=6.0,
        informed_rate=informed_rate,
        informed_size_mean=8.0,
        latency_ms=latency_ms,
        news={"rate_per_hour": 360.0, "announced_fraction": 0.0},
    )
    strategy = StrategyConfig(
        max_inventory=max_inventory,
        quote_size=max_inventory,
        quote_refresh_ms=refresh_ms,
        cancel_on_fill=cancel_on_fill,
        soft_limit_fraction=1.0,
    )
    n = 4
    sim = MarketSim(n, market, strategy)
    sim.reset(seed + np.arange(n))
    rng = np.random.default_rng(seed)
    for _ in range(25):
        params = np.column_stack(
            [rng.uniform(0.5, 3.0, n), rng.uniform(0.0, 2.0, n), rng.uniform(0.0, 1.0, n)]
        )
        sim.advance(0.4, params)
        assert np.abs(sim.inventory).max() <= max_inventory
    assert sim.mfs[:, lay.MF_MAX_ABS_INV].max() <= max_inventory
    assert sim.mints[:, lay.MI_N_MAKER_FILLS].sum() > 0  # the flow did hit the quotes
