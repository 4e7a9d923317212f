"""Several market makers in one book: queue priority among them, trades between them, post-only
against each other, the accounts of makers and background summing to zero, a silent maker
changing nothing, determinism, and identical makers earning the same in distribution."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.market import layout as L
from mm_gym.market import matching
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MAX_MAKERS, MarketSim
from mm_gym.strategy.config import StrategyConfig
from tests.market.test_book import (
    NO_NEWS,
    ORIGIN,
    check_book,
    check_fills_vs_orders,
    fills,
    set_levels,
)


def lab(makers: int = 2) -> MarketSim:
    """One market with ``makers`` makers and an empty window of 32 levels: ticks 1984..2015."""
    cfg = MarketConfig(
        initial_price=100.0,
        window_levels=32,
        initial_depth=0,
        initial_levels=1,
        latency_ms=0.0,
        fill_log_capacity=100,
        news=NO_NEWS,
    )
    strategy = StrategyConfig(cancel_on_fill=False)
    sim = MarketSim(
        1,
        cfg,
        strategy,
        threads=1,
        max_spread_multiplier=1.0,
        max_inventory_skew=0.0,
        makers=makers,
    )
    sim.reset([0])
    assert sim.ints[0, L.I_ORIGIN] == ORIGIN
    return sim


def place(sim: MarketSim, a: int, side: int, price: int, size: int, ahead: int, t: float) -> None:
    """Maker row ``a``'s order on ``side`` rests at ``price`` behind ``ahead`` background lots,
    having joined at ``t`` (the market's next join)."""
    o = sim.orders[a, side]
    o[:] = 0
    o[L.O_ACTIVE], o[L.O_PRICE], o[L.O_SIZE], o[L.O_ORIG_SIZE] = 1, price, size, size
    o[L.O_AHEAD] = ahead
    sim.ints[0, L.I_JOINS] += 1
    o[L.O_SEQ] = sim.ints[0, L.I_JOINS]
    sim.order_time[a, side] = t


def market_order(sim: MarketSim, hit_side: int, lots: int, taker: int = -1) -> int:
    """A market order at t = 5 (0: sells into the bids) from the background (-1) or maker row
    ``taker``; the lots left."""
    return matching.market_order(0, hit_side, lots, taker, 5.0, sim.state, sim.market_params)


def test_makers_fill_in_queue_order_among_the_background():
    sim = lab()
    set_levels(sim, bids={1998: 5}, asks={2001: 10})
    place(sim, 0, 1, 2001, size=3, ahead=2, t=1.0)
    place(sim, 1, 1, 2001, size=2, ahead=5, t=0.5)  # earlier, but behind more background
    assert market_order(sim, 1, 12) == 0
    # 2 background lots, maker 0's 3, 3 background lots, maker 1's 2, 2 of the 5 behind
    assert fills(sim, 0) == [(-1, 2001, 3, 1)]
    assert fills(sim, 1) == [(-1, 2001, 2, 1)]
    assert sim.book[0, 1, 2001 - ORIGIN] == 3 and sim.ints[0, L.I_VOL_TRADED] == 7
    assert sim.ints[0, L.I_BG_INV] == 5
    check_book(sim)


def test_equal_queue_places_go_to_the_maker_that_joined_first():
    sim = lab()
    set_levels(sim, bids={1998: 5}, asks={2001: 6})
    place(sim, 1, 1, 2001, size=2, ahead=4, t=1.0)
    place(sim, 0, 1, 2001, size=2, ahead=4, t=1.0)  # at the same instant, but after
    assert market_order(sim, 1, 5) == 0
    assert fills(sim, 1) == [(-1, 2001, 1, 1)] and fills(sim, 0) == []
    assert sim.orders[0, 1, L.O_AHEAD] == 0  # the background ahead of both is gone
    check_book(sim)


def test_a_makers_market_order_takes_the_others_quotes_and_skips_its_own():
    sim = lab()
    set_levels(sim, bids={1999: 1, 1997: 4}, asks={2002: 5})
    place(sim, 0, 0, 1999, size=2, ahead=1, t=1.0)  # maker 0's own bid: skipped
    place(sim, 1, 0, 1999, size=2, ahead=1, t=1.5)
    assert market_order(sim, 0, 5, taker=0) == 0
    # maker 0 sells: 1 background lot, maker 1's 2 lots (one fill at 1999), 2 at 1997
    assert fills(sim, 0) == [(-1, 1999, 3, 0), (-1, 1997, 2, 0)]
    assert fills(sim, 1) == [(1, 1999, 2, 1)]
    assert sim.orders[0, 0, L.O_SIZE] == 2 and sim.orders[0, 0, L.O_AHEAD] == 0
    assert sim.inventory.tolist() == [-5, 2] and sim.ints[0, L.I_BG_INV] == 3
    tick = sim.market.tick_size
    maker_fee = sim.market.maker_fee_bps * 1e-4
    taker_fee = sim.market.taker_fee_bps * 1e-4
    sold = (1999 * 3 + 1997 * 2) * tick
    assert sim.cash[0] == pytest.approx(sold * (1 - taker_fee), rel=1e-12)
    assert sim.cash[1] == pytest.approx(-1999 * 2 * tick * (1 + maker_fee), rel=1e-12)
    assert sim.fs[0, L.F_BG_CASH] == pytest.approx(-(1999 * 1 + 1997 * 2) * tick, rel=1e-12)
    check_book(sim)


def test_post_only_slides_behind_the_other_makers_quotes():
    sim = lab()
    set_levels(sim, bids={1996: 3}, asks={2004: 3})
    place(sim, 1, 1, 2000, size=2, ahead=0, t=1.0)  # maker 1 offers inside the spread
    place(sim, 1, 0, 1998, size=2, ahead=0, t=1.0)
    sim.pend[0, 0, 0] = (2001, 4)  # maker 0's bid through maker 1's ask
    sim.pend_time[0, 0, 0] = 2.0
    matching.land_messages(0, 2.0, sim.state, sim.market_params)
    assert sim.orders[0, 0, L.O_PRICE] == 1999
    sim.pend[0, 1, 0] = (1997, 4)  # its ask through maker 1's bid (and its own)
    sim.pend_time[0, 1, 0] = 3.0
    matching.land_messages(0, 3.0, sim.state, sim.market_params)
    assert sim.orders[0, 1, L.O_PRICE] == 2000
    assert fills(sim, 0) == [] and fills(sim, 1) == []
    check_book(sim)


def run(sim: MarketSim, params: np.ndarray, steps: int, dt: float) -> None:
    for _ in range(steps):
        sim.advance(dt, params)
        check_book(sim, sim.strategy.quote_size)


@pytest.mark.parametrize("makers", [2, 4])
def test_accounts_and_fill_logs_agree_with_several_makers(makers):
    """Competing makers with a tight stop loss (taker fills against each other): every
    invariant of the book and of the accounts holds, and each maker's fill log adds up to
    its cash, fees and inventory."""
    market = MarketConfig(fill_log_capacity=20_000)
    strategy = StrategyConfig(stop_loss_fraction=0.0005, max_inventory=20)
    sim = MarketSim(4, market, strategy, threads=1, makers=makers)
    sim.reset(np.arange(20, 24))
    params = np.tile([1.0, 0.5, 1.0], (4 * makers, 1))
    params[::2, 0] = 0.6  # half the makers quote tighter
    run(sim, params, 30, 10.0)
    check_fills_vs_orders(sim, sim.strategy.quote_size)
    maker_fee, taker_fee = market.maker_fee_bps * 1e-4, market.taker_fee_bps * 1e-4
    for a in range(4 * makers):
        f = sim.fills(a)
        assert len(f) == sim.mints[a, L.MI_N_FILLS]
        maker = f["maker"] == 1.0
        notional = f["price"] * f["size"]
        fees = notional * np.where(maker, maker_fee, taker_fee)
        gross = np.abs(notional).sum() + 1.0
        assert sim.cash[a] == pytest.approx(
            -(f["side"] * notional).sum() - fees.sum(), abs=1e-9 * gross
        )
        assert sim.inventory[a] == int((f["side"] * f["size"]).sum())
    maker_fills = sim.mints[:, L.MI_N_MAKER_FILLS]
    assert maker_fills[::2].sum() > maker_fills[1::2].sum() > 0  # tighter quotes trade more
    assert (sim.mints[:, L.MI_N_FILLS] > sim.mints[:, L.MI_N_MAKER_FILLS]).any()  # and took
    assert (sim.equity == sim.cash + sim.inventory * np.repeat(sim.mid, makers)).all()


def test_a_maker_that_never_quotes_changes_nothing():
    """A second maker with size 0 sends no order: the first maker's market is the one-maker
    market, bit for bit."""
    market = MarketConfig(fill_log_capacity=5_000)
    one = MarketSim(4, market, threads=1)
    two = MarketSim(4, market, threads=1, makers=2)
    for sim in (one, two):
        sim.reset(np.arange(7, 11))
    p1 = np.tile([0.8, 0.5, 1.0], (4, 1))
    p2 = np.repeat(p1, 2, axis=0)
    p2[1::2, 2] = 0.0
    for _ in range(60):
        one.advance(5.0, p1)
        two.advance(5.0, p2)
    for name in ("book", "fs", "ints", "rng"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    for name in ("mfs", "mints", "orders", "order_time", "log", "mq", "pend_time"):
        a, b = getattr(one, name), getattr(two, name)
        np.testing.assert_array_equal(a, b[0::2], err_msg=name)
    assert (two.mints[1::2, L.MI_QUOTES_SENT] == 0).all() and (
        two.mints[1::2, L.MI_N_FILLS] == 0
    ).all()
    assert one.mints[:, L.MI_N_FILLS].sum() > 0


def test_several_makers_are_deterministic_under_a_seed():
    def final(threads: int) -> list[np.ndarray]:
        sim = MarketSim(4, MarketConfig(fill_log_capacity=2_000), threads=threads, makers=3)
        sim.reset(np.arange(4))
        params = np.tile([[0.7, 0.5, 1.0], [1.0, 1.0, 0.5], [1.5, 0.2, 1.0]], (4, 1))
        for _ in range(20):
            sim.advance(10.0, params)
        return [sim.book, sim.fs, sim.ints, sim.mfs, sim.mints, sim.log]

    for a, b in zip(final(1), final(2), strict=True):
        np.testing.assert_array_equal(a, b)


def test_identical_makers_earn_the_same_in_distribution():
    """Two makers with the same parameters: the mean difference of their PnL, fills and
    volume over independent markets is within four standard errors of zero."""
    n = 48
    sim = MarketSim(n, MarketConfig(), threads=2, makers=2)
    sim.reset(np.arange(1000, 1000 + n))
    params = np.tile([1.0, 0.5, 1.0], (2 * n, 1))
    for _ in range(30):
        sim.advance(20.0, params)
    for name, values in (
        ("pnl", sim.equity),
        ("fills", sim.mints[:, L.MI_N_MAKER_FILLS].astype(float)),
        ("volume", sim.mfs[:, L.MF_VOLUME]),
    ):
        diff = values[0::2] - values[1::2]
        se = diff.std(ddof=1) / np.sqrt(n)
        assert se > 0, name
        assert abs(diff.mean()) < 4 * se, f"{name}: {diff.mean():.3g} +- {se:.3g}"


def test_competition_takes_fills_from_each_maker():
    """A maker alone in the book trades more than each of two makers quoting alike."""
    fills = {}
    for makers in (1, 2):
        sim = MarketSim(16, MarketConfig(), threads=2, makers=makers)
        sim.reset(np.arange(16))
        params = np.tile([1.0, 0.5, 1.0], (16 * makers, 1))
        for _ in range(30):
            sim.advance(20.0, params)
        fills[makers] = sim.mints[:, L.MI_N_MAKER_FILLS].mean()
    assert fills[2] < fills[1]


@pytest.mark.parametrize("makers", [0, MAX_MAKERS + 1, 1.5, True, "2"])
def test_a_bad_number_of_makers_is_refused(makers):
    with pytest.raises(ConfigError, match=f"makers={makers!r}: expected an integer from 1 to"):
        MarketSim(2, makers=makers)


def test_params_need_a_row_per_maker():
    sim = MarketSim(2, makers=3)
    sim.reset([0, 1])
    with pytest.raises(
        ConfigError, match=r"params shape \(2, 3\): expected \(6, 3\), a row per maker"
    ):
        sim.advance(1.0, np.ones((2, 3)))
