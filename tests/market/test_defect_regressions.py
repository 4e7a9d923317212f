"""Regression tests of kernel defects: each reproduces the reported scenario."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mm_gym.errors import ConfigError
from mm_gym.market import layout as L
from mm_gym.market.config import MarketConfig
from mm_gym.market.rng import seed_states
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.config import StrategyConfig
from tests.market import conftest as kernel_step
from tests.market.test_book import ORIGIN, check_book, lab, market_order, place, set_levels

QUOTING = (1.0, 0.5, 1.0)


def quoting(n: int, params: tuple[float, float, float] = QUOTING) -> np.ndarray:
    return np.tile(params, (n, 1))


# ----------------------------------------------------------------------------- 1: dead book
def test_empty_book_restarts_around_a_fair_value_outside_the_window():
    """Both sides empty and the fair value beyond the window: new orders re-centre it."""
    sim = lab()
    fair = L.F_FAIR
    sim.fs[0, fair] = sim.ints[0, L.I_ORIGIN] + 100.0  # 84 ticks above the 32-level window
    sim.advance(30.0, quoting(1, (1.0, 0.0, 0.0)))
    bb, ba, origin = sim.ints[0, L.I_BEST_BID], sim.ints[0, L.I_BEST_ASK], sim.ints[0, L.I_ORIGIN]
    assert sim.ints[0, L.I_VOL_ADDED] > 0
    assert bb >= 0 and ba >= 0
    assert origin <= sim.fs[0, fair] < origin + sim.book.shape[2]
    assert abs(0.5 * (bb + ba) - sim.fs[0, fair]) < 10
    assert sim.mid[0] == 0.5 * (bb + ba) * sim.market.tick_size
    check_book(sim)


def test_large_news_jumps_never_kill_a_market():
    """The reported scenario: frequent 400 bp news jumps, baseline-normal quoting."""
    n = 16
    sim = MarketSim(n, MarketConfig(news={"rate_per_hour": 60, "jump_bps_mean": 400}), threads=1)
    sim.reset(np.arange(n))
    params = quoting(n)
    gap_bps = []
    for _ in range(20):
        added = sim.ints[:, L.I_VOL_ADDED].copy()
        for _ in range(6):
            sim.advance(10.0, params)
            gap_bps.append(np.abs(sim.mid - sim.fair_value) / sim.fair_value * 1e4)
        assert (sim.ints[:, L.I_VOL_ADDED] > added).all(), "a market added no volume in 60 s"
    assert sim.ints[:, L.I_NEWS_COUNT].sum() > 100
    # the mid follows the fair value (inventory is not marked at a frozen mid far from it)
    typical = np.median(gap_bps, axis=0)
    assert typical.max() < 30, typical


# ----------------------------------------------------------------------------- 2: mid at fill
def test_fill_records_the_book_mid_at_the_fill_not_the_last_sampled_mid():
    sim = lab()
    tick = sim.market.tick_size
    set_levels(sim, bids={1999: 2, 1998: 5}, asks={2002: 5, 2003: 4})
    sim.fs[0, L.F_MID] = 1990.0  # the mid of the last sampling tick: stale
    place(sim, 0, 2000, size=3, ahead=0)
    market_order(sim, 0, 5)  # a background sell: the agent's bid first, then 1999
    market_order(sim, 1, 6, agent_taker=True)  # the agent buys 6: 2002 then 2003
    f = sim.fills(0)
    book_mid = [2000.5, (1998 + 2002) / 2]  # before each market order
    np.testing.assert_allclose(f["mid"], np.array([book_mid[0], book_mid[1], book_mid[1]]) * tick)
    captured = 3 * (book_mid[0] - 2000) * tick  # maker fills only
    assert sim.mfs[0, L.MF_SPREAD_CAPTURED] == captured
    assert sim.step_stats[0, L.S_SPREAD_CAPTURED] == captured
    assert sim.mq[0, 0, :3, L.MQ_MID].tolist() == [book_mid[0], book_mid[1], book_mid[1]]


# ----------------------------------------------------------------------------- 3: the window
def quoting_share(sim: MarketSim) -> np.ndarray:
    """Share of each market's time with at least one quote resting."""
    return sim.mfs[:, L.MF_QUOTING_TIME] / sim.time


@pytest.mark.parametrize(
    "price, params",
    [(2000.0, QUOTING), (1000.0, (3.0, 2.0, 1.0))],  # the reported cliffs
    ids=["price-2000", "price-1000-spread-3x"],
)
def test_quotes_far_from_the_mid_in_ticks_rest(price, params):
    """A small tick puts the quotes hundreds of ticks from the mid: the window holds them."""
    n = 4
    market = MarketConfig(
        initial_price=price, tick_size=0.01, pin_regime="ranging", news={"rate_per_hour": 0.0}
    )
    sim = MarketSim(n, market, threads=1)
    sim.reset(np.arange(n))
    sim.advance(600.0, quoting(n, params))
    assert (quoting_share(sim) > 0.5).all(), quoting_share(sim)  # the rest: risk-rule pauses
    assert (sim.mints[:, L.MI_QUOTES_OUTSIDE] == 0).all()
    assert sim.mints[:, L.MI_N_MAKER_FILLS].sum() > 0
    check_book(sim)


def test_window_too_wide_for_memory_is_rejected_naming_the_fields():
    market = MarketConfig(initial_price=10_000.0, tick_size=0.01)  # 1e6 ticks
    with pytest.raises(ConfigError, match=r"initial_price/tick_size=1e\+06.*base_spread_bps=10"):
        MarketSim(2, market)
    # narrower quotes fit
    sim = MarketSim(
        2,
        market,
        StrategyConfig(base_spread_bps=1.0, skew_bps_per_lot=0.0),
        max_spread_multiplier=1.0,
    )
    assert sim.book.shape[2] > market.window_levels


def test_quoting_parameters_beyond_the_window_sizing_are_an_error():
    sim = MarketSim(2, max_spread_multiplier=2.0, max_inventory_skew=1.0, threads=1)
    sim.reset([0, 1])
    sim.advance(1.0, quoting(2, (2.0, 1.0, 1.0)))
    with pytest.raises(ConfigError, match=r"params\[1, 0\]=2\.5: above max_spread_multiplier=2"):
        sim.advance(1.0, np.array([[1.0, 0.5, 1.0], [2.5, 0.5, 1.0]]))
    with pytest.raises(ConfigError, match=r"params\[0, 1\]=1\.5: above max_inventory_skew=1"):
        sim.advance(1.0, np.array([[1.0, 1.5, 1.0], [1.0, 0.5, 1.0]]))


def test_default_window_unchanged():
    assert MarketSim(1).book.shape[2] == MarketConfig().window_levels == 128


# ----------------------------------------------------------------------------- 4: in flight
def background_order(sim: MarketSim, hit_side: int, lots: int) -> None:
    """A background market order into market 0 at its current time."""
    kernel_step.market_order(sim, hit_side, lots)


def test_cancel_in_flight_lands_although_a_refresh_wants_the_same_quote():
    """Cancel on fill at 0.7 s (lands at 0.8 s); the refresh at 0.75 s wants the same ask."""
    still = {"limit_rate": 1e-9, "cancel_rate": 1e-9, "market_rate": 0.0, "informed_rate": 0.0}
    cfg = MarketConfig(
        initial_price=100.0,  # 2000 ticks, as the lab's
        window_levels=32,
        initial_depth=0,
        initial_levels=1,
        latency_ms=100.0,
        fill_log_capacity=100,
        pin_regime="ranging",
        news={"rate_per_hour": 0.0},
        **still,
    )
    strategy = StrategyConfig(cancel_on_fill=True)
    sim = MarketSim(1, cfg, strategy, threads=1, max_spread_multiplier=1.0, max_inventory_skew=0)
    sim.reset([0])
    assert sim.ints[0, L.I_ORIGIN] == ORIGIN
    set_levels(sim, bids={1998: 5, 1999: 3}, asks={2001: 3, 2002: 5})
    params = quoting(1, (1.0, 0.0, 1.0))
    sim.advance(0.7, params)
    assert sim.orders[0, :, L.O_PRICE].tolist() == [1999, 2001]
    assert sim.orders[0, :, L.O_ACTIVE].tolist() == [1, 1]
    placed = sim.order_time[0, 1]
    background_order(sim, 0, 4)  # 3 ahead, then 1 lot of the agent's bid: cancels the ask
    assert sim.inventory[0] == 1
    sim.advance(0.11, params)  # t = 0.81: the refresh at 0.75 s came and went
    assert sim.orders[0, 1, L.O_ACTIVE] == 0, "the cancel did not land"
    background_order(sim, 1, 2)  # would have filled the old ask (nothing ahead of it now)
    assert sim.inventory[0] == 1
    sim.advance(0.09, params)  # t = 0.9: the refresh's ask landed at 0.85 s, a new order
    assert sim.orders[0, 1, L.O_ACTIVE] == 1 and sim.orders[0, 1, L.O_PRICE] == 2001
    assert sim.order_time[0, 1] > placed and sim.order_time[0, 1] >= 0.8
    assert sim.orders[0, 1, L.O_AHEAD] == 1  # behind what was left at 2001
    check_book(sim)


@pytest.mark.parametrize("latency_ms", [100.0, 300.0])
def test_no_maker_fill_after_a_cancel_on_fill_has_landed(latency_ms):
    """After a quote fills, the other side's quote then resting is cancelled ``latency`` later:
    any later fill on that side comes from an order placed after the cancel landed."""
    cfg = MarketConfig(latency_ms=latency_ms, fill_log_capacity=20_000)
    n = 8
    sim = MarketSim(n, cfg, threads=1)
    sim.reset(np.arange(n))
    sim.advance(900.0, quoting(n))
    lat = latency_ms / 1000.0
    checked = 0
    for i in range(n):
        f = sim.fills(i)
        f = f[f["maker"] == 1.0]
        for side in (1.0, -1.0):
            other = f[f["side"] == -side]
            mine = f[f["side"] == side]
            placed = mine["time"] - mine["queue_wait"]
            for t in other["time"]:
                later = mine["time"] > t + lat
                assert (placed[later] >= t + lat - 1e-9).all(), (i, t)
                checked += later.any()
    assert checked > 100


def test_more_messages_in_flight_than_the_queues_hold_is_rejected():
    market = MarketConfig(latency_ms=3000.0)
    with pytest.raises(ConfigError, match=r"latency_ms=3000\.0 with quote_refresh_ms=1\.0"):
        MarketSim(1, market, StrategyConfig(quote_refresh_ms=1.0))
    sim = MarketSim(1, market, StrategyConfig(quote_refresh_ms=50.0))
    assert sim.pend_time.shape == (1, 3, 2 * 60 + 5)


# ----------------------------------------------------------------------------- 5: same instant
MIRROR = 2 * ORIGIN + 31  # p -> MIRROR - p reflects the lab's window onto itself


def land(sim: MarketSim, bid: tuple[int, int] | None, ask: tuple[int, int] | None) -> None:
    """Quote messages (price, lots; lots 0 cancels) landing together at t = 2."""
    for side, msg in ((0, bid), (1, ask)):
        if msg is not None:
            sim.pend[0, side, 0] = msg
            sim.pend_time[0, side, 0] = 2.0
    kernel_step.land_messages(sim, 2.0)


def test_quote_pair_landing_together_is_not_displaced_by_its_own_stale_quote():
    """A refresh moves both quotes up (or down) by two ticks; both land at the same instant."""
    for bid, ask in (((2001, 5), (2003, 5)), ((1997, 5), (1999, 5))):
        sim = lab()
        set_levels(sim, bids={1995: 5}, asks={2005: 5})
        place(sim, 0, 1999, size=5, ahead=0)
        place(sim, 1, 2001, size=5, ahead=0)
        land(sim, bid, ask)
        assert sim.orders[0, :, L.O_PRICE].tolist() == [bid[0], ask[0]]
        check_book(sim)


@st.composite
def landings(draw):
    """A book, the agent's resting quotes, inventory and the quote messages landing now."""
    bids = draw(st.dictionaries(st.integers(ORIGIN, 1999), st.integers(1, 6), max_size=4))
    asks = draw(st.dictionaries(st.integers(2000, ORIGIN + 31), st.integers(1, 6), max_size=4))
    best_bid, best_ask = max(bids, default=ORIGIN - 1), min(asks, default=ORIGIN + 32)
    resting = [None, None]
    if draw(st.booleans()):
        p = draw(st.integers(ORIGIN, best_ask - 1))
        resting[0] = (p, draw(st.integers(1, 5)), draw(st.integers(0, bids.get(p, 0))))
    low = max(best_bid, resting[0][0] if resting[0] else ORIGIN - 1) + 1
    if low <= ORIGIN + 31 and draw(st.booleans()):
        p = draw(st.integers(low, ORIGIN + 31))
        resting[1] = (p, draw(st.integers(1, 5)), draw(st.integers(0, asks.get(p, 0))))
    message = st.one_of(
        st.none(),
        st.just((-1, 0)),
        st.tuples(st.integers(ORIGIN, ORIGIN + 31), st.integers(1, 6)),
    )
    msgs = [draw(message), draw(message)]
    if msgs[0] and msgs[1] and msgs[0][1] > 0 and msgs[1][1] > 0:  # a pair from one refresh
        assume(msgs[0][0] < msgs[1][0])
    return bids, asks, resting, draw(st.integers(-50, 50)), msgs


def mirrored(p: int) -> int:
    return MIRROR - p if p >= 0 else p


@settings(max_examples=300, deadline=None)
@given(landings())
def test_landing_is_symmetric_between_bid_and_ask(case):
    """The mirror image of a landing (prices reflected, sides and inventory swapped) lands as
    the mirror image of its outcome."""
    bids, asks, resting, inv, msgs = case
    sims = []
    for mirror in (False, True):
        sim = lab()
        f = mirrored if mirror else (lambda p: p)
        levels = ({f(p): q for p, q in bids.items()}, {f(p): q for p, q in asks.items()})
        set_levels(sim, *(levels[::-1] if mirror else levels))
        for side in range(2):
            r = resting[1 - side if mirror else side]
            if r is not None:
                place(sim, side, f(r[0]), size=r[1], ahead=r[2])
        sim.mints[0, L.MI_INV] = -inv if mirror else inv
        sim.ints[0, L.I_BG_INV] = -sim.mints[0, L.MI_INV]  # bought from the background
        m = [None if x is None else (f(x[0]), x[1]) for x in msgs]
        land(sim, *(m[::-1] if mirror else m))
        check_book(sim)
        sims.append(sim)
    a, b = sims
    for side in range(2):
        x, y = a.orders[0, side], b.orders[0, 1 - side]
        assert x[L.O_ACTIVE] == y[L.O_ACTIVE]
        if x[L.O_ACTIVE]:
            assert x[L.O_PRICE] == MIRROR - y[L.O_PRICE]
            assert (x[L.O_SIZE], x[L.O_AHEAD]) == (y[L.O_SIZE], y[L.O_AHEAD])


# ----------------------------------------------------------------------------- 6: seeds
def test_seed_episode_stream_triples_give_distinct_states_across_2_to_the_32():
    big = 2**32
    seeds = [0, 1, 7, big - 1, big, big + 1, big + 7, 2 * big + 7, 2**63 - 1, -1, -(2**63)]
    episodes = [0, 1, 2, big - 1, big, big + 1]
    states = {}
    for stream in (0, 1, 2):
        for episode in episodes:
            out = seed_states(np.array(seeds), np.full(len(seeds), episode), stream)
            for seed, state in zip(seeds, out, strict=True):
                assert state not in states, (seed, episode, stream, states.get(state))
                states[state] = (seed, episode, stream)
    # the reported collision: seed 7 episode 1 and seed 2^32 + 7 episode 0
    first, second = seed_states(np.array([7, big + 7]), np.array([1, 0]))
    assert first != second


# ----------------------------------------------------------------------------- 7: pairing
def test_flow_arrivals_do_not_depend_on_the_policy():
    """Two policies on the same seeds: the same limit orders arrive (count and sizes) at every
    step, though their fills make the books, and so the cancellations, differ."""
    n = 8
    sims = []
    for params in ((1.0, 0.5, 1.0), (2.0, 1.0, 0.5)):
        sim = MarketSim(n, MarketConfig(news={"rate_per_hour": 30.0}), threads=1)
        sim.reset(np.arange(n))
        sims.append((sim, quoting(n, params)))
    for _ in range(300):
        for sim, params in sims:
            sim.advance(1.0, params)
        a, b = (sim.ints[:, L.I_VOL_ADDED] for sim, _ in sims)
        np.testing.assert_array_equal(a, b)
    a, b = (sim for sim, _ in sims)
    traded = (a.mints[:, L.MI_N_FILLS] > 0) & (b.mints[:, L.MI_N_FILLS] > 0)
    assert traded.sum() >= n // 2
    assert (a.ints[traded, L.I_VOL_CANCELLED] != b.ints[traded, L.I_VOL_CANCELLED]).all()
