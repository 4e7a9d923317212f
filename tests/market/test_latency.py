"""Feed latency: acting on data F old is acting F earlier, the orders landing F later."""

from __future__ import annotations

import numpy as np
import pytest

from mm_gym.errors import ConfigError
from mm_gym.market.config import MarketConfig
from mm_gym.market.sim import MarketSim


def _run(market: MarketConfig) -> tuple[np.ndarray, np.ndarray]:
    sim = MarketSim(8, market, threads=1)
    sim.reset(np.arange(8))
    for _ in range(300):
        sim.advance(1.0, np.tile([1.0, 0.5, 1.0], (8, 1)))
    return sim.fs.copy(), sim.ints.copy()


def test_feed_and_order_latency_add_up():
    split = _run(MarketConfig(latency_ms=2.0, feed_latency_ms=30.0))
    whole = _run(MarketConfig(latency_ms=32.0))
    for a, b in zip(split, whole, strict=True):
        np.testing.assert_array_equal(a, b)
    fresh = _run(MarketConfig(latency_ms=2.0))
    assert not np.array_equal(fresh[0], split[0])  # the feed's age changes the fills


def test_a_bad_feed_latency_is_named():
    with pytest.raises(
        ConfigError, match=r"feed_latency_ms=-1.0: allowed range is \[0.0, 10000.0\]"
    ):
        MarketConfig(feed_latency_ms=-1.0)
    assert MarketConfig(latency_ms=4.0, feed_latency_ms=6.0).reaction_latency_ms == 10.0
