"""``MarketView``: keeps one market of a ``MarketMakingCore`` in view for a rendering env.

The only per-step work of a rendering env is ``MarketView.record`` (a handful of numbers of
one market); an env without a ``render_mode`` has no view and does nothing. ``take_snapshot``
copies what a picture needs out of the core's arrays; ``mm_gym.rendering`` draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mm_gym.envs.observations import INFO_NAMES
from mm_gym.market import layout as lay
from mm_gym.market.regimes import LABEL_NAMES
from mm_gym.rendering.snapshot import (
    HISTORY_S,
    LADDER_HALF,
    MAX_HISTORY,
    History,
    Quote,
    Snapshot,
)
from mm_gym.rendering.text import ladder_text
from mm_gym.strategy import layout as sl

if TYPE_CHECKING:
    from mm_gym.envs.core import MarketMakingCore

__all__ = ["MarketView", "take_snapshot"]

_INFO_REGIME = INFO_NAMES.index("regime_id")  # columns of MarketMakingCore.info_arr
_INFO_NEWS = INFO_NAMES.index("news_flag")


def take_snapshot(core: MarketMakingCore, i: int = 0) -> Snapshot:
    """Copy what a picture of market ``i`` needs out of the core's arrays."""
    sim = core.sim
    fs, ints = sim.fs[i], sim.ints[i]
    mfs, mints = sim.mfs[i], sim.mints[i]  # one maker per market: its row is the market's
    bb, ba = int(ints[lay.I_BEST_BID]), int(ints[lay.I_BEST_ASK])
    centre = (bb + ba) // 2 if bb >= 0 and ba >= 0 else round(fs[lay.F_MID])
    levels = np.arange(centre - LADDER_HALF, centre + LADDER_HALF + 1)
    idx = levels - ints[lay.I_ORIGIN]
    inside = (idx >= 0) & (idx < sim.book.shape[2])
    safe = np.clip(idx, 0, sim.book.shape[2] - 1)
    tick = sim.market.tick_size
    mid = float(fs[lay.F_MID] * tick)
    inventory = int(mints[lay.MI_INV])
    halted = bool(mints[lay.MI_HALTED])
    p = core.params[i]
    return Snapshot(
        time=float(fs[lay.F_T] - core.t_start[i]),
        session_s=core.config.session_s,
        tick=tick,
        mid=mid,
        levels=levels,
        bid_depth=np.where(inside, sim.book[i, 0, safe], 0),
        ask_depth=np.where(inside, sim.book[i, 1, safe], 0),
        best_bid=bb,
        best_ask=ba,
        bid=_quote(sim.orders[i, 0]),
        ask=_quote(sim.orders[i, 1]),
        inventory=inventory,
        soft_limit=float(sim.sp[sl.SP_SOFT_LIMIT]),
        max_inventory=int(sim.sp[sl.SP_MAX_INV]),
        equity=float(mfs[lay.MF_CASH] + inventory * mid),
        fills=int(mints[lay.MI_N_FILLS]),
        params=(float(p[0]), float(p[1]), float(p[2])),
        regime=LABEL_NAMES[int(core.info_arr[i, _INFO_REGIME])],
        news=bool(core.info_arr[i, _INFO_NEWS] > 0.5),
        paused=halted or bool(fs[lay.F_T] < mfs[lay.MF_PAUSE_UNTIL]),
        halted=halted,
    )


def _quote(order: np.ndarray) -> Quote | None:
    if not order[lay.O_ACTIVE]:
        return None
    return Quote(int(order[lay.O_PRICE]), int(order[lay.O_SIZE]), int(order[lay.O_AHEAD]))


class MarketView:
    """Keeps market ``market`` of a core in view: ``record`` after each reset and step,
    ``render`` for an RGB frame (``rgb_array``) or a text ladder (``ansi``)."""

    def __init__(self, core: MarketMakingCore, mode: str, title: str, market: int = 0) -> None:
        self.core = core
        self.mode = mode
        self.title = title
        self.market = market
        self.window_s = min(HISTORY_S, MAX_HISTORY * core.dt)
        self.history = History(int(round(self.window_s / core.dt)) + 1)
        self._renderer = None  # made at the first rgb_array frame (imports matplotlib)

    def record(self) -> None:
        """Add the current decision step; a new episode starts a new history."""
        i, core = self.market, self.core
        if core.steps[i] == 0:
            self.history.clear()
        fs, orders = core.sim.fs[i], core.sim.orders[i]
        mfs, mints = core.sim.mfs[i], core.sim.mints[i]
        tick = core.sim.market.tick_size
        mid = fs[lay.F_MID] * tick
        bid, ask = (
            orders[side, lay.O_PRICE] * tick if orders[side, lay.O_ACTIVE] else np.nan
            for side in (0, 1)
        )
        equity = mfs[lay.MF_CASH] + mints[lay.MI_INV] * mid
        self.history.append((fs[lay.F_T] - core.t_start[i], mid, bid, ask, equity))

    def render(
        self, title: str | None = None, along: Sequence[MarketView] = ()
    ) -> np.ndarray | str:
        """The picture of the market now, headed by ``title`` (default: the view's); an RGB
        frame's history panels share their y-scales with the views ``along``."""
        snap = take_snapshot(self.core, self.market)
        if self.mode == "ansi":
            return ladder_text(snap, title or self.title)
        if self._renderer is None:
            from mm_gym.rendering.frame import FrameRenderer

            self._renderer = FrameRenderer(self.window_s)
        others = [view.history.series() for view in along]
        return self._renderer.draw(snap, self.history.series(), title or self.title, others)
