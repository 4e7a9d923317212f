"""Helpers of the kernel tests: one kernel step on a ``MarketSim``'s own arrays (its
``state`` and ``market_params`` bundles), as the event loop would take it."""

from __future__ import annotations

from mm_gym.market import matching
from mm_gym.market.sim import MarketSim


def market_order(
    sim: MarketSim,
    hit_side: int,
    lots: int,
    agent_taker: bool = False,
    t: float | None = None,
    i: int = 0,
) -> int:
    """A market order into market ``i`` at ``t`` (its current time unless given) that takes
    side ``hit_side`` (0 sells into the bids): a background order, or the agent's own with
    ``agent_taker``. Returns the lots left unfilled."""
    t = float(sim.time[i]) if t is None else t
    taker = i if agent_taker else -1  # one maker per market: its row is the market's
    return matching.market_order(i, hit_side, lots, taker, t, sim.state, sim.market_params)


def land_messages(sim: MarketSim, t: float, i: int = 0) -> None:
    """The order messages of market ``i`` due at ``t`` land."""
    matching.land_messages(i, t, sim.state, sim.market_params)
