"""The queue-position models (``mm_gym.market.queue_model``): where our order stands when
lots leave its level by trades, cancellations and pulls."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.market import book as B
from mm_gym.market import layout as L
from mm_gym.market import queue_model as QM
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim
from tests.market.test_book import (
    ORIGIN,
    check_book,
    fills,
    lab,
    level,
    market_order,
    place,
    set_levels,
)


def test_cancelled_lots_ahead_random_lot_model():
    sim = lab()
    orders, mp = sim.orders, sim.mp
    place(sim, 0, 1999, size=3, ahead=4)

    def f(side, price, level_lots, lots, u):
        return QM.ahead_removed(QM.CANCEL, orders, 0, side, price, level_lots, lots, u, mp)

    assert f(0, 1998, 10, 3, 0.0) == 0  # another level
    assert f(1, 1999, 10, 3, 0.0) == 0  # another side
    assert f(0, 1999, 10, 3, 0.1) == 3  # the block sits ahead
    assert f(0, 1999, 10, 6, 0.1) == 4  # ... cut where the queue ahead ends
    assert f(0, 1999, 10, 3, 0.9) == 0  # it sits behind
    assert f(0, 1999, 10, 8, 0.9) == 2  # ... what does not fit behind is ahead
    # a single lot comes from ahead with probability ahead / level
    us = (np.arange(1000) + 0.5) / 1000
    share = np.mean([f(0, 1999, 10, 1, u) for u in us])
    assert share == pytest.approx(0.4, abs=1e-9)
    orders[0, 0, L.O_ACTIVE] = 0
    assert f(0, 1999, 10, 3, 0.1) == 0


def test_queue_models_agree_on_trades_and_differ_on_cancels_and_pulls():
    sim = lab()
    orders, mp = sim.orders, sim.mp
    place(sim, 0, 1999, size=3, ahead=4)  # a level of 10: 4 ahead, 6 behind

    def f(cause, lots, u):
        return QM.ahead_removed(cause, orders, 0, 0, 1999, 10, lots, u, mp)

    assert mp[L.MP_QUEUE_MODEL] == QM.QUEUE_RANDOM_LOT  # what a MarketConfig packs
    assert (f(QM.TRADE, 3, 0.0), f(QM.TRADE, 9, 0.0)) == (3, 4)  # from the front
    assert f(QM.PULL, 5, 0.5) == 2  # the share of what is ahead
    assert f(QM.PULL, 10, 1.0) == 4  # a whole level pulled
    mp[L.MP_QUEUE_MODEL] = QM.QUEUE_RISK_AVERSE
    assert (f(QM.TRADE, 3, 0.0), f(QM.TRADE, 9, 0.0)) == (3, 4)
    assert [f(QM.CANCEL, lots, 0.0) for lots in (3, 6, 8)] == [0, 0, 2]  # behind first
    assert (f(QM.PULL, 5, 0.5), f(QM.PULL, 10, 1.0)) == (0, 4)


def test_risk_averse_queue_model_in_the_event_loop():
    """Under the risk-averse model the agent moves up its queues only by trades (and by
    cancellations larger than what is behind it), so on the same seeds it is filled less
    often; the book's invariants hold under both."""
    maker_fills = {}
    for name in ("random_lot", "risk_averse"):
        sim = MarketSim(4, MarketConfig(fill_log_capacity=5000, queue_model=name), threads=1)
        model = int(sim.mp[L.MP_QUEUE_MODEL])
        assert (
            model == {"random_lot": QM.QUEUE_RANDOM_LOT, "risk_averse": QM.QUEUE_RISK_AVERSE}[name]
        )
        sim.reset(np.arange(4))
        sim.advance(600.0, np.tile([1.0, 0.5, 1.0], (4, 1)))
        check_book(sim, sim.strategy.quote_size)
        maker_fills[model] = sim.mints[:, L.MI_N_MAKER_FILLS].sum()
    assert 0 < maker_fills[QM.QUEUE_RISK_AVERSE] < maker_fills[QM.QUEUE_RANDOM_LOT]


def cancel(sim: MarketSim, side: int, price: int, lots: int, u: float) -> None:
    """A background cancellation as the event loop does it."""
    j = price - ORIGIN
    lvl = level(sim, side, price)
    assert lvl == sim.book[0, side, j]
    sim.ints[0, L.I_VOL_CANCELLED] += lots
    B.withdraw(QM.CANCEL, sim.book, sim.ints, sim.orders, 0, side, j, lots, u, sim.mp)


def test_cancellations_reduce_queue_ahead():
    sim = lab()
    set_levels(sim, bids={1999: 10, 1998: 2}, asks={2001: 5})
    place(sim, 0, 1999, size=3, ahead=6)
    cancel(sim, 0, 1999, 2, 0.2)  # from ahead
    assert level(sim, 0, 1999) == 8 and sim.orders[0, 0, L.O_AHEAD] == 4
    check_book(sim)
    cancel(sim, 0, 1999, 3, 0.9)  # from behind: the agent keeps its place
    assert level(sim, 0, 1999) == 5 and sim.orders[0, 0, L.O_AHEAD] == 4
    cancel(sim, 0, 1999, 2, 0.99)  # 1 behind, the other from ahead
    assert level(sim, 0, 1999) == 3 and sim.orders[0, 0, L.O_AHEAD] == 3
    check_book(sim)
    cancel(sim, 0, 1999, 3, 0.5)
    assert sim.orders[0, 0, L.O_AHEAD] == 0 and level(sim, 0, 1999) == 0
    check_book(sim)
    assert sim.ints[0, L.I_BEST_BID] == 1998 and sim.ints[0, L.I_VOL_BID] == 2
    # the agent's own order still rests, now first in line at the best bid
    assert market_order(sim, 0, 1) == 0
    assert fills(sim) == [(1, 1999, 1, 1)]


def test_an_unknown_queue_model_is_an_error_naming_the_choices():
    with pytest.raises(ConfigError, match="queue_model='fifo'.*random_lot.*risk_averse.*power"):
        MarketConfig(queue_model="fifo")
    for bad in (0.0, 11.0, float("nan")):
        with pytest.raises(ConfigError, match="queue_power="):
            MarketConfig(queue_model="power", queue_power=bad)


def test_the_power_model_places_cancellations_by_where_we_stand():
    sim = lab()
    orders, mp = sim.orders, sim.mp
    place(sim, 0, 1999, size=3, ahead=4)  # a level of 10: 4 ahead, 6 behind
    mp[L.MP_QUEUE_MODEL] = QM.QUEUE_POWER
    mp[L.MP_QUEUE_POWER] = 3.0

    def f(cause, lots, u):
        return QM.ahead_removed(cause, orders, 0, 0, 1999, 10, lots, u, mp)

    p_ahead = 4**3 / (4**3 + 6**3)  # 0.229: standing near the front, most cancels are behind
    assert f(QM.CANCEL, 3, p_ahead - 0.01) == 3  # starts ahead of us
    assert f(QM.CANCEL, 3, p_ahead + 0.01) == 0  # behind us
    assert f(QM.CANCEL, 8, p_ahead + 0.01) == 2  # behind, and what does not fit there
    assert (f(QM.TRADE, 9, 0.0), f(QM.PULL, 5, 0.5)) == (4, 2)


def test_power_one_is_the_random_lot_model():
    """With exponent 1 the power model draws the same and decides the same: identical runs."""
    runs = []
    for cfg in (
        MarketConfig(fill_log_capacity=2000),
        MarketConfig(fill_log_capacity=2000, queue_model="power", queue_power=1.0),
    ):
        sim = MarketSim(4, cfg, threads=1)
        sim.reset(np.arange(4))
        sim.advance(600.0, np.tile([1.0, 0.5, 1.0], (4, 1)))
        runs.append(
            (sim.mints.copy(), sim.ints.copy(), sim.mfs.copy(), sim.fs.copy(), sim.log.copy())
        )
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert runs[0][0][:, L.MI_N_MAKER_FILLS].sum() > 0
