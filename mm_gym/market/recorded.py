"""A recorded market on the stylised facts' clock: a converted recording (``mm_gym.data``)
sampled into the ``MarketRecord`` that ``realism.market_stats`` measures, so the facts of a
real market come from the very code that measures a simulated one.

The recording is one market (one row). On the 1 s clock: the mid (currency; the last one
while a side of the book is empty), the spread in ticks (NaN while a side is empty), every
``depth_every_s`` the sizes on the first occupied levels of each side, and per clock step the
book's changes (level events, snapshots excepted, plus hidden executions) and the size
traded. The trades (executions per second, the trade-sign ACF) are the executions, visible
and hidden, with a known aggressor; for the sign ACF, executions at one timestamp merge into
one order, as a simulated order walking several levels counts once. Sizes are in the
source's units (shares, contracts), not lots.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mm_gym.config import check_range
from mm_gym.data.book import LevelBook
from mm_gym.data.schema import CLEAR, HIDDEN_TRADE, LEVEL, TRADE
from mm_gym.data.store import read_events, read_metadata
from mm_gym.errors import DataError
from mm_gym.market.realism import CLOCK_S, DEPTH_EVERY_S, DEPTH_LEVELS, MarketRecord

__all__ = ["infer_tick", "record_recording"]

NS = 1_000_000_000


def infer_tick(prices: np.ndarray) -> int:
    """The tick in price units: the greatest common divisor of the distinct prices (give it
    the book's prices: hidden executions may trade between ticks). A few hundred prices of a
    liquid day leave no common factor above the tick."""
    distinct = np.unique(prices[prices > 0])
    if distinct.size < 2:
        raise DataError("too few distinct prices to infer the tick; give it (--tick)")
    return int(np.gcd.reduce(distinct))


class _Sampler:
    """Walks the events in order and samples the book at each clock time it passes."""

    def __init__(self, levels: int, clock_ns: int, depth_every: int) -> None:
        self.book = LevelBook(levels)
        self.clock_ns = clock_ns
        self.depth_every = depth_every
        self.next_ns: int | None = None
        self.snapshot_ns: int | None = None  # levels at this time rebuild the book after a clear
        self.mid = math.nan
        self.mids: list[float] = []
        self.spreads: list[float] = []
        self.depth: list[np.ndarray] = []
        self.changes: list[int] = []
        self.volume: list[float] = []
        self.step_changes = 0
        self.step_volume = 0.0
        self.trade_ts: list[int] = []
        self.trade_signs: list[int] = []
        self.first_ns: int | None = None

    def feed(self, ev: dict[str, np.ndarray]) -> None:
        ts, kinds, sides = ev["ts"], ev["kind"], ev["side"]
        prices, sizes = ev["price"], ev["size"]
        for k in range(ts.size):
            t = int(ts[k])
            if self.next_ns is None:
                self.first_ns = t
                self.next_ns = t  # the first sample: the book as the first event time leaves it
            kind, side, price, size = int(kinds[k]), int(sides[k]), int(prices[k]), sizes[k]
            while t > self.next_ns:
                self._sample()
            if kind == CLEAR:
                self.snapshot_ns = t
            elif kind == LEVEL:
                if t != self.snapshot_ns:
                    self.step_changes += 1
            elif kind in (TRADE, HIDDEN_TRADE):
                self.step_volume += float(size)
                if kind == HIDDEN_TRADE:
                    self.step_changes += 1
                if side != 0:
                    self.trade_ts.append(t)
                    self.trade_signs.append(side)
            self.book.apply(kind, side, price, float(size))

    def finish(self) -> None:
        """Sample the book as the last event left it."""
        if self.next_ns is not None:
            self._sample()

    def _sample(self) -> None:
        bid, ask = self.book.best()
        if bid is not None and ask is not None and ask > bid:
            self.mid = 0.5 * (bid + ask)
            spread = float(ask - bid)
        else:
            spread = math.nan
        step = len(self.mids)
        self.mids.append(self.mid)
        if step > 0:  # the first sample opens the clock; steps lie between samples
            self.spreads.append(spread)
            self.changes.append(self.step_changes)
            self.volume.append(self.step_volume)
            if step % self.depth_every == 0:
                self.depth.append(self._depth())
        self.step_changes = 0
        self.step_volume = 0.0
        self.next_ns += self.clock_ns

    def _depth(self) -> np.ndarray:
        out = np.zeros((2, DEPTH_LEVELS), dtype=np.int64)
        for row, side, best_first in ((0, self.book.bids, True), (1, self.book.asks, False)):
            levels = sorted(side, reverse=best_first)[:DEPTH_LEVELS]
            out[row, : len(levels)] = [round(side[p]) for p in levels]
        return out


def record_recording(
    path: str | Path,
    *,
    tick: float | None = None,
    clock_s: float = CLOCK_S,
    depth_every_s: float = DEPTH_EVERY_S,
) -> MarketRecord:
    """Sample the recording at ``path`` (``mm-gym data convert``'s Parquet) on a ``clock_s``
    clock from its first event to its last. ``tick``: the tick in currency (default: inferred
    from the prices). Raises DataError for a recording without a two-sided book."""
    for name, value in (("clock_s", clock_s), ("depth_every_s", depth_every_s), ("tick", tick)):
        if value is not None:
            check_range(name, value, 0.0, low_open=True)
    meta = read_metadata(path)
    unit = float(meta["price_unit"])
    levels = int(meta.get("levels", "0"))
    sampler = _Sampler(levels, round(clock_s * NS), max(1, round(depth_every_s / clock_s)))
    tick_units: int | None = None
    for batch in read_events(path):
        if tick is None and tick_units is None:
            tick_units = infer_tick(batch["price"][batch["kind"] == LEVEL])
        sampler.feed(batch)
    sampler.finish()
    mids = np.asarray(sampler.mids)
    if mids.size < 2 or not np.isfinite(mids).any():
        raise DataError(f"{path}: no two-sided book a clock step apart; nothing to measure")
    # before the book first has both sides, the mid is unknown: start the clock there
    start = int(np.argmax(np.isfinite(mids)))
    tick_price = tick if tick is not None else tick_units * unit
    spreads = np.asarray(sampler.spreads[start:]) * unit / tick_price
    depth = np.asarray(sampler.depth, dtype=np.int64).reshape(-1, 2, DEPTH_LEVELS)
    depth = depth[start // sampler.depth_every :]
    mid = mids[start:] * unit
    first = sampler.first_ns + start * round(clock_s * NS)
    times = (np.asarray(sampler.trade_ts, dtype=np.int64) - first) / NS
    keep = times >= 0
    return MarketRecord(
        market=None,
        tick_size=float(tick_price),
        seeds=np.zeros(1, dtype=np.int64),
        dt=clock_s,
        mid=mid[None, :],
        spread_ticks=spreads[None, :],
        depth_bid=depth[:, 0][:, None, :],
        depth_ask=depth[:, 1][:, None, :],
        events=np.asarray(sampler.changes[start:], dtype=np.int64)[None, :],
        volume=np.asarray(sampler.volume[start:])[None, :],
        trade_times=[times[keep]],
        trade_signs=[np.asarray(sampler.trade_signs, dtype=np.float64)[keep]],
        trades_dropped=0,
    )
