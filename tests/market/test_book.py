"""The order book: invariants over random event sequences, queue priority, a matching oracle."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mm_gym.errors import ConfigError
from mm_gym.market import book as B
from mm_gym.market import layout as L
from mm_gym.market.config import MarketConfig
from mm_gym.market.messages import in_flight
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig
from tests.market import conftest as kernel_step

NO_NEWS = {"rate_per_hour": 0.0}


# ----------------------------------------------------------------------------- invariants
def check_book(sim: MarketSim, max_size_lots: int | None = None) -> None:
    """Assert every structural invariant of every market of ``sim`` (state between calls)."""
    cfg = sim.market
    n_lv = sim.book.shape[2]
    ints, book, orders = sim.ints, sim.book, sim.orders
    max_inv = sim.strategy.max_inventory
    initial = 2 * cfg.initial_depth * cfg.initial_levels
    assert (book >= 0).all(), "negative resting volume"
    for i in range(sim.n):
        origin = ints[i, L.I_ORIGIN]
        bid_lv = np.flatnonzero(book[i, 0])
        ask_lv = np.flatnonzero(book[i, 1])
        bb = origin + bid_lv[-1] if bid_lv.size else -1
        ba = origin + ask_lv[0] if ask_lv.size else -1
        where = f"market {i} at t={sim.time[i]:.4f}"
        # best prices are the extreme non-empty levels
        assert ints[i, L.I_BEST_BID] == bb, where
        assert ints[i, L.I_BEST_ASK] == ba, where
        # never crossed
        if bb >= 0 and ba >= 0:
            assert bb < ba, f"{where}: crossed book {bb} >= {ba}"
        # totals
        assert ints[i, L.I_VOL_BID] == book[i, 0].sum(), where
        assert ints[i, L.I_VOL_ASK] == book[i, 1].sum(), where
        # volume conservation
        flow = (
            initial
            + ints[i, L.I_VOL_ADDED]
            - ints[i, L.I_VOL_CANCELLED]
            - ints[i, L.I_VOL_TRADED]
            - ints[i, L.I_VOL_DROPPED]
        )
        assert flow == book[i].sum(), f"{where}: volume not conserved"
        # the makers' resting orders: inside the window, behind no more than the level, never
        # crossing the background book nor each other
        eff = [bb, ba]
        m = sim.makers
        for a in range(i * m, i * m + m):
            for side in range(2):
                o = orders[a, side]
                assert o[L.O_SIZE] >= 0, where
                if not o[L.O_ACTIVE]:
                    continue
                price = o[L.O_PRICE]
                j = price - origin
                assert 0 <= j < n_lv, f"{where}: maker {a} order outside the window"
                assert 0 <= o[L.O_AHEAD] <= book[i, side, j], (
                    f"{where}: queue ahead {o[L.O_AHEAD]} vs level {book[i, side, j]}"
                )
                assert 1 <= o[L.O_SIZE] <= o[L.O_ORIG_SIZE], where
                if max_size_lots is not None:
                    assert o[L.O_ORIG_SIZE] <= max_size_lots, where
                if side == 0:
                    assert ba < 0 or price < ba, f"{where}: maker bid {price} >= best ask {ba}"
                    eff[0] = max(eff[0], price)
                else:
                    assert bb < 0 or price > bb, f"{where}: maker ask {price} <= best bid {bb}"
                    eff[1] = price if eff[1] < 0 else min(eff[1], price)
            # the hard inventory limit
            assert abs(sim.mints[a, L.MI_INV]) <= max_inv, where
            assert sim.mfs[a, L.MF_MAX_ABS_INV] <= max_inv, where
        if eff[0] >= 0 and eff[1] >= 0:
            assert eff[0] < eff[1], f"{where}: crossed with the makers' quotes {eff}"
        # what the makers and the background hold sums to zero (fees go to the exchange)
        rows = slice(i * m, i * m + m)
        assert sim.mints[rows, L.MI_INV].sum() + ints[i, L.I_BG_INV] == 0, where
        money = sim.mfs[rows, L.MF_CASH] + sim.mfs[rows, L.MF_FEES]
        scale = 1.0 + np.abs(money).sum()
        assert abs(money.sum() + sim.fs[i, L.F_BG_CASH]) <= 1e-9 * scale, where


def check_fills_vs_orders(sim: MarketSim, max_size_lots: int) -> None:
    """Maker fills of one order (same side and placement time) never exceed its size."""
    for i in range(sim.n * sim.makers):
        assert sim.mints[i, L.MI_LOG_DROPPED] == 0
        f = sim.fills(i)
        assert (f["size"] >= 1).all()
        assert np.all(f["size"] == np.round(f["size"]))
        maker = f[f["maker"] == 1.0]
        assert (maker["queue_wait"] >= 0).all()
        per_order: dict[tuple[int, float], float] = collections.defaultdict(float)
        for side in (1.0, -1.0):
            mine = maker[maker["side"] == side]
            placed = mine["time"] - mine["queue_wait"]  # identifies the order, up to rounding
            order = np.argsort(placed, kind="stable")
            t0 = -np.inf
            for k in order:
                if placed[k] - t0 > 1e-6:
                    t0 = placed[k]
                per_order[(int(side), float(t0))] += mine["size"][k]
        for (side, t0), total in per_order.items():
            assert total <= max_size_lots, f"market {i}: {total} lots filled on one order"
            s = 0 if side > 0 else 1
            o = sim.orders[i, s]
            if o[L.O_ACTIVE] and abs(sim.order_time[i, s] - t0) < 1e-6:
                # the live order: what was filled plus what is left fits in its size
                assert total + o[L.O_SIZE] <= o[L.O_ORIG_SIZE], f"market {i} side {s}"


MARKETS = st.fixed_dictionaries(
    {
        "window_levels": st.sampled_from([32, 40, 64, 128]),
        "initial_depth": st.sampled_from([0, 1, 6, 40]),
        "initial_levels": st.integers(1, 8),
        "limit_rate": st.sampled_from([0.5, 10.0, 60.0]),
        "limit_size_mean": st.sampled_from([1.0, 2.0, 8.0]),
        "limit_distance_mean": st.sampled_from([1.0, 2.0, 4.0]),
        "cancel_rate": st.sampled_from([0.02, 0.3, 5.0]),
        "market_rate": st.sampled_from([0.0, 1.5, 20.0]),
        "market_size_mean": st.sampled_from([1.0, 3.0, 40.0]),
        "informed_rate": st.sampled_from([0.0, 1.0, 20.0]),
        "informed_size_mean": st.sampled_from([1.0, 5.0, 60.0]),
        "informed_edge_ticks": st.sampled_from([0.0, 0.5, 3.0]),
        "latency_ms": st.sampled_from([0.0, 5.0, 400.0, 3000.0]),
        "maker_fee_bps": st.sampled_from([-1.0, 0.5]),
        "pin_regime": st.sampled_from([None, "ranging", "high_vol", "trending_up"]),
        "news": st.fixed_dictionaries(
            {
                "rate_per_hour": st.sampled_from([0.0, 2.0, 900.0]),
                "announced_fraction": st.sampled_from([0.0, 0.5, 1.0]),
                "jump_bps_mean": st.sampled_from([5.0, 25.0, 400.0]),
                "duration_s": st.sampled_from([1.0, 30.0]),
                "depth_pull_fraction": st.sampled_from([0.0, 0.6, 0.99]),
            }
        ),
    }
)
STRATEGIES = st.fixed_dictionaries(
    {
        "max_inventory": st.sampled_from([1, 3, 50]),
        "quote_size": st.sampled_from([1, 5]),
        "cancel_on_fill": st.booleans(),
        "quote_refresh_ms": st.sampled_from([1.0, 50.0, 250.0]),
        "stop_loss_fraction": st.sampled_from([0.0005, 0.025]),
    }
)
# quoting parameters: narrow ones keep the small windows; wide ones make the window grow
PARAMS = {
    "narrow": (np.array([0.0, 0.01, 0.5, 1.0]), np.array([0.0, 0.5])),
    "wide": (np.array([0.0, 0.5, 3.0, 20.0]), np.array([0.0, 1.0, 5.0])),
}
SIZE_FRACS = np.array([0.0, 0.2, 1.0, 3.0, 40.0])
DTS = np.array([0.0005, 0.01, 0.3, 2.0, 7.0])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    market=MARKETS,
    strategy=STRATEGIES,
    quotes=st.sampled_from(sorted(PARAMS)),
    makers=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_book_invariants_random_sequences(market, strategy, quotes, makers, seed):
    # more messages in flight than that is rejected (test_defect_regressions)
    assume(market["latency_ms"] < 2000 * strategy["quote_refresh_ms"])
    market = {**market, "fill_log_capacity": 20_000}
    strategy["quote_size"] = min(strategy["quote_size"], strategy["max_inventory"])
    try:
        cfg = MarketConfig(**market)
    except ConfigError:  # a book that cannot hold is refused up front
        assume(False)
    spread_mults, skews = PARAMS[quotes]
    sim = MarketSim(
        3,
        market=cfg,
        strategy=StrategyConfig(**strategy),
        threads=1,
        max_spread_multiplier=spread_mults.max(),
        max_inventory_skew=skews.max(),
        makers=makers,
    )
    rng = np.random.default_rng(seed)
    sim.reset(rng.integers(0, 2**62, size=3))
    max_size = min(
        int(np.floor(SIZE_FRACS.max() * strategy["quote_size"] + 0.5)),
        2 * strategy["max_inventory"],
    )
    check_book(sim, max_size)
    rows = 3 * makers
    for _ in range(25):
        params = np.column_stack(
            [rng.choice(spread_mults, rows), rng.choice(skews, rows), rng.choice(SIZE_FRACS, rows)]
        )
        sim.advance(float(rng.choice(DTS)), params)
        check_book(sim, max_size)
    check_fills_vs_orders(sim, max_size)


def test_book_invariants_default_market_long_run():
    """The default market with news, quoting normally, checked every few seconds."""
    sim = MarketSim(6, market=MarketConfig(fill_log_capacity=50_000), threads=1)
    sim.reset(np.arange(100, 106))
    params = np.tile([1.0, 0.5, 1.0], (6, 1))
    for _ in range(240):
        sim.advance(5.0, params)
        check_book(sim, sim.strategy.quote_size)
    check_fills_vs_orders(sim, sim.strategy.quote_size)
    assert sim.mints[:, L.MI_N_FILLS].sum() > 100  # the agent traded: the checks had teeth
    assert sim.ints[:, L.I_NEWS_COUNT].sum() > 0
    assert (sim.mints[:, L.MI_QUOTES_OUTSIDE] == 0).all()


# ----------------------------------------------------------------------------- a small lab
ORIGIN = 2000 - 16  # window of 32 levels around the initial price of 2000 ticks


def lab(cancel_on_fill: bool = False) -> MarketSim:
    """One market with an empty window of 32 levels: ticks 1984..2015."""
    cfg = MarketConfig(
        initial_price=100.0,  # 2000 ticks of 0.05
        window_levels=32,
        initial_depth=0,
        initial_levels=1,
        latency_ms=0.0,
        fill_log_capacity=100,
        news=NO_NEWS,
    )
    strategy = StrategyConfig(cancel_on_fill=cancel_on_fill)
    # quotes no wider than 1x spread and no skew: the window stays at 32 levels
    sim = MarketSim(1, cfg, strategy, threads=1, max_spread_multiplier=1.0, max_inventory_skew=0.0)
    sim.reset([0])
    assert sim.ints[0, L.I_ORIGIN] == ORIGIN
    return sim


def set_levels(sim: MarketSim, bids: dict[int, int], asks: dict[int, int]) -> None:
    """Lay background volume (absolute tick -> lots) and make the summary columns agree."""
    sim.book[0] = 0
    for side, levels in ((0, bids), (1, asks)):
        for price, lots in levels.items():
            sim.book[0, side, price - ORIGIN] = lots
    sim.ints[0, L.I_VOL_BID] = sim.book[0, 0].sum()
    sim.ints[0, L.I_VOL_ASK] = sim.book[0, 1].sum()
    sim.ints[0, L.I_BEST_BID] = B.scan_best_bid(sim.book, 0, ORIGIN, ORIGIN + 31)
    sim.ints[0, L.I_BEST_ASK] = B.scan_best_ask(sim.book, 0, ORIGIN, ORIGIN)
    for col in (L.I_VOL_CANCELLED, L.I_VOL_TRADED, L.I_VOL_DROPPED):
        sim.ints[0, col] = 0
    sim.ints[0, L.I_VOL_ADDED] = sim.book[0].sum()  # keeps the conservation check valid


def place(sim: MarketSim, side: int, price: int, size: int, ahead: int) -> None:
    sim.orders[0, side] = 0
    sim.orders[0, side, L.O_ACTIVE] = 1
    sim.orders[0, side, L.O_PRICE] = price
    sim.orders[0, side, L.O_SIZE] = size
    sim.orders[0, side, L.O_ORIG_SIZE] = size
    sim.orders[0, side, L.O_AHEAD] = ahead


def market_order(sim: MarketSim, hit_side: int, lots: int, agent_taker: bool = False) -> int:
    """A market order into the lab at t = 1 (0: sells into the bids); the lots left."""
    return kernel_step.market_order(sim, hit_side, lots, agent_taker, t=1.0)


def level(sim: MarketSim, side: int, price: int) -> int:
    return int(sim.book[0, side, price - ORIGIN])


def fills(sim: MarketSim, a: int = 0) -> list[tuple[int, int, int, int]]:
    """(side, price in ticks, lots, maker) of each logged fill of maker row ``a``."""
    f = sim.fills(a)
    ticks = np.round(f["price"] / sim.market.tick_size).astype(int)
    return [
        (int(s), int(p), int(z), int(m))
        for s, p, z, m in zip(f["side"], ticks, f["size"], f["maker"], strict=True)
    ]


# ----------------------------------------------------------------------------- queue priority
def test_market_order_takes_queue_ahead_then_agent_then_rest():
    sim = lab()
    set_levels(sim, bids={1998: 5}, asks={2001: 10, 2002: 5})
    place(sim, 1, 2001, size=5, ahead=4)

    assert market_order(sim, 1, 3) == 0  # smaller than the queue ahead: the agent waits
    assert level(sim, 1, 2001) == 7 and sim.orders[0, 1, L.O_AHEAD] == 1
    assert sim.orders[0, 1, L.O_SIZE] == 5 and fills(sim) == []

    assert market_order(sim, 1, 4) == 0  # 1 ahead, then 3 of the agent's 5: partial fill
    assert level(sim, 1, 2001) == 6
    assert sim.orders[0, 1, L.O_AHEAD] == 0
    assert sim.orders[0, 1, L.O_SIZE] == 2 and sim.orders[0, 1, L.O_ACTIVE] == 1
    assert fills(sim) == [(-1, 2001, 3, 1)]
    assert sim.inventory[0] == -3

    assert market_order(sim, 1, 10) == 0  # the agent's 2, the 6 behind it, then 2002
    assert sim.orders[0, 1, L.O_ACTIVE] == 0 and sim.orders[0, 1, L.O_SIZE] == 0
    assert level(sim, 1, 2001) == 0 and level(sim, 1, 2002) == 3
    assert sim.ints[0, L.I_BEST_ASK] == 2002 and sim.ints[0, L.I_VOL_ASK] == 3
    assert fills(sim) == [(-1, 2001, 3, 1), (-1, 2001, 2, 1)]
    assert sim.ints[0, L.I_VOL_TRADED] == 3 + 1 + 6 + 2  # background lots only
    assert sim.inventory[0] == -5
    check_book(sim)


def test_market_order_agent_inside_spread_and_behind_the_touch():
    sim = lab()
    # the agent improves the bid: first in line
    set_levels(sim, bids={1998: 5}, asks={2002: 5})
    place(sim, 0, 1999, size=3, ahead=0)
    assert market_order(sim, 0, 4) == 0
    assert fills(sim) == [(1, 1999, 3, 1)]
    assert level(sim, 0, 1998) == 4 and sim.orders[0, 0, L.O_ACTIVE] == 0

    # the agent sits below the touch, behind one lot at its level
    sim = lab()
    set_levels(sim, bids={1999: 2, 1997: 3, 1996: 1, 1995: 4}, asks={2002: 5})
    place(sim, 0, 1996, size=2, ahead=1)
    assert market_order(sim, 0, 7) == 0
    assert fills(sim) == [(1, 1996, 1, 1)]
    assert level(sim, 0, 1999) == 0 and level(sim, 0, 1997) == 0 and level(sim, 0, 1996) == 0
    assert sim.orders[0, 0, L.O_SIZE] == 1 and sim.orders[0, 0, L.O_AHEAD] == 0
    assert sim.ints[0, L.I_BEST_BID] == 1995
    check_book(sim)

    # below a gap with no background volume at the agent's price
    sim = lab()
    set_levels(sim, bids={1999: 1}, asks={2002: 5})
    place(sim, 0, 1993, size=4, ahead=0)
    assert market_order(sim, 0, 9) == 9 - 1 - 4  # the window has no more bids
    assert fills(sim) == [(1, 1993, 4, 1)]
    assert sim.ints[0, L.I_BEST_BID] == -1 and sim.ints[0, L.I_VOL_BID] == 0


def test_agent_market_order_skips_own_quote():
    sim = lab()
    set_levels(sim, bids={1998: 5}, asks={2001: 2, 2003: 4})
    place(sim, 1, 2001, size=5, ahead=2)
    assert market_order(sim, 1, 4, agent_taker=True) == 0
    assert fills(sim) == [(1, 2001, 2, 0), (1, 2003, 2, 0)]
    assert sim.orders[0, 1, L.O_SIZE] == 5  # untouched
    assert sim.orders[0, 1, L.O_AHEAD] == 0  # but the queue in front of it was taken
    check_book(sim)
    tick, fee = sim.market.tick_size, sim.market.taker_fee_bps * 1e-4
    notional = (2001 * 2 + 2003 * 2) * tick
    assert sim.mfs[0, L.MF_FEES] == pytest.approx(notional * fee, rel=1e-12)
    assert sim.cash[0] == pytest.approx(-notional * (1 + fee), rel=1e-12)


def test_cancel_on_fill_cancels_the_other_quote():
    sim = lab(cancel_on_fill=True)
    set_levels(sim, bids={1998: 5}, asks={2002: 5})
    place(sim, 0, 1999, size=3, ahead=0)
    place(sim, 1, 2001, size=3, ahead=0)
    market_order(sim, 0, 1)
    assert in_flight(0, 1, sim.pend_time) == 1 and sim.pend[0, 1, 0, L.P_PRICE] == -1
    assert in_flight(0, 0, sim.pend_time) == 0


def activate(sim: MarketSim, side: int, price: int, lots: int, t: float = 2.0) -> None:
    """A quote message (cancel: price -1, lots 0) lands at ``t``."""
    sim.pend[0, side, 0, L.P_PRICE] = price
    sim.pend[0, side, 0, L.P_SIZE] = lots
    sim.pend_time[0, side, 0] = t
    kernel_step.land_messages(sim, t)


def test_order_entry_queue_position():
    sim = lab()
    set_levels(sim, bids={1999: 7, 1998: 3}, asks={2001: 4})
    activate(sim, 0, 1999, 5, t=1.0)  # joins the back of the queue
    o = sim.orders[0, 0]
    assert (o[L.O_ACTIVE], o[L.O_PRICE], o[L.O_SIZE], o[L.O_AHEAD]) == (1, 1999, 5, 7)
    # background volume that arrives later queues behind the agent
    B.add_volume(sim.book, sim.ints, 0, 0, 1999, 4)
    assert o[L.O_AHEAD] == 7
    market_order(sim, 0, 9)  # 7 ahead, then 2 of the agent's 5
    assert o[L.O_SIZE] == 3 and o[L.O_AHEAD] == 0
    # the same price with a smaller size keeps its place
    activate(sim, 0, 1999, 2, t=2.0)
    assert (o[L.O_SIZE], o[L.O_AHEAD], sim.order_time[0, 0]) == (2, 0, 1.0)
    # a larger size (topping a partly filled quote up) goes to the back of the queue
    activate(sim, 0, 1999, 5, t=3.0)
    assert (o[L.O_SIZE], o[L.O_ORIG_SIZE], o[L.O_AHEAD]) == (5, 5, level(sim, 0, 1999))
    assert sim.order_time[0, 0] == 3.0
    # a new price starts a new queue position
    activate(sim, 0, 1998, 5, t=4.0)
    assert (o[L.O_PRICE], o[L.O_AHEAD], sim.order_time[0, 0]) == (1998, 3, 4.0)
    # lots 0 cancels
    activate(sim, 0, -1, 0, t=5.0)
    assert o[L.O_ACTIVE] == 0


def test_order_entry_post_only_and_inventory_limit():
    sim = lab()
    set_levels(sim, bids={1998: 3}, asks={2001: 4})
    activate(sim, 0, 2003, 5)  # would cross: slides to one tick below the best ask
    assert sim.orders[0, 0, L.O_PRICE] == 2000
    activate(sim, 1, 1990, 5)  # the agent's own bid counts: no self-crossing
    assert sim.orders[0, 1, L.O_PRICE] == 2001
    check_book(sim)
    # the hard inventory limit cuts the size when the order lands
    max_inv = sim.strategy.max_inventory
    sim.mints[0, L.MI_INV] = max_inv - 2
    activate(sim, 0, 1998, 5)
    assert sim.orders[0, 0, L.O_SIZE] == 2
    sim.mints[0, L.MI_INV] = max_inv
    activate(sim, 0, 1997, 5)
    assert sim.orders[0, 0, L.O_ACTIVE] == 0
    activate(sim, 1, 2002, 5)
    assert sim.orders[0, 1, L.O_SIZE] == 5


# ----------------------------------------------------------------------------- the oracle
def oracle(
    levels: dict[int, int],
    agent: tuple[int, int, int] | None,
    hit_side: int,
    lots: int,
    agent_taker: bool,
):
    """Price-time priority by hand: the queue at the agent's level is [ahead, agent, behind].

    Returns (unfilled lots, levels after, agent (size, ahead) after, fills, traded lots).
    """
    levels = dict(levels)
    prices = {p for p, q in levels.items() if q > 0}
    if agent is not None and not agent_taker:
        prices.add(agent[0])
    order = sorted(prices, reverse=(hit_side == 0))
    size, ahead = (agent[1], agent[2]) if agent is not None else (0, 0)
    remaining, traded, out = lots, 0, []
    maker_side = 1 if hit_side == 0 else -1
    for p in order:
        if remaining == 0:
            break
        q = levels.get(p, 0)
        if agent is not None and not agent_taker and p == agent[0]:
            take = min(remaining, ahead)
            ahead -= take
            q -= take
            traded += take
            remaining -= take
            mine = min(remaining, size)
            size -= mine
            remaining -= mine
            if mine:
                out.append((maker_side, p, mine, 1))
        take = min(remaining, q)
        q -= take
        traded += take
        remaining -= take
        if agent_taker and take:
            out.append((-maker_side, p, take, 0))
            if agent is not None and p == agent[0]:  # skips its own quote: the front goes
                ahead -= min(take, ahead)
        levels[p] = q
    return remaining, levels, (size, ahead), out, traded


@st.composite
def books(draw):
    hit_side = draw(st.integers(0, 1))
    sign = -1 if hit_side == 0 else 1  # away from the spread
    touch = 1999 if hit_side == 0 else 2001
    levels = {touch + sign * k: draw(st.integers(0, 6)) for k in range(8)}
    agent = None
    if draw(st.booleans()):
        k = draw(st.integers(-1, 9))  # -1: one tick inside the spread
        price = touch + sign * k
        size = draw(st.integers(1, 6))
        ahead = draw(st.integers(0, levels.get(price, 0)))
        agent = (price, size, ahead)
    lots = draw(st.integers(1, 45))
    agent_taker = draw(st.booleans())
    return hit_side, levels, agent, lots, agent_taker


@settings(max_examples=300, deadline=None)
@given(books())
def test_market_order_matches_oracle(case):
    hit_side, levels, agent, lots, agent_taker = case
    sim = lab()
    far = {2010: 3} if hit_side == 0 else {1988: 3}  # the other side, out of the way
    if hit_side == 0:
        set_levels(sim, bids=levels, asks=far)
    else:
        set_levels(sim, bids=far, asks=levels)
    if agent is not None:
        place(sim, hit_side, agent[0], size=agent[1], ahead=agent[2])
    check_book(sim)
    want_left, want_levels, (want_size, want_ahead), want_fills, want_traded = oracle(
        levels, agent, hit_side, lots, agent_taker
    )

    left = market_order(sim, hit_side, lots, agent_taker)

    assert left == want_left
    for p, q in want_levels.items():
        assert level(sim, hit_side, p) == q, p
    assert sim.ints[0, L.I_VOL_TRADED] == want_traded
    assert fills(sim) == want_fills
    if agent is not None:
        o = sim.orders[0, hit_side]
        assert o[L.O_SIZE] == want_size
        assert o[L.O_ACTIVE] == (1 if want_size > 0 else 0)
        if want_size > 0:
            assert o[L.O_AHEAD] == want_ahead
    assert sim.inventory[0] == sum(s * z for s, _, z, _ in want_fills)
    check_book(sim)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda s: s.ints.__setitem__((0, L.I_BEST_BID), s.ints[0, L.I_BEST_BID] - 1),
        lambda s: s.ints.__setitem__((0, L.I_VOL_ASK), s.ints[0, L.I_VOL_ASK] + 1),
        lambda s: s.ints.__setitem__((0, L.I_VOL_ADDED), s.ints[0, L.I_VOL_ADDED] + 1),
        lambda s: s.orders.__setitem__((0, 0, L.O_AHEAD), 99),
        lambda s: s.orders.__setitem__((0, 0, L.O_AHEAD), -1),
        lambda s: s.orders.__setitem__((0, 1, L.O_PRICE), 1999),  # ask at the best bid
        lambda s: s.mints.__setitem__((0, L.MI_INV), 51),
    ],
)
def test_check_book_detects_corruption(corrupt):
    sim = lab()
    set_levels(sim, bids={1999: 5, 1998: 2}, asks={2001: 4})
    place(sim, 0, 1999, size=2, ahead=3)
    place(sim, 1, 2002, size=2, ahead=0)
    check_book(sim)
    corrupt(sim)
    with pytest.raises(AssertionError):
        check_book(sim)
