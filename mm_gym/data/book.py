"""A price-level book rebuilt from events of the schema: the reference for what a recording
shows (its tests compare it with the source's own book files)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from mm_gym.data.schema import CLEAR, LEVEL

__all__ = ["LevelBook"]


class LevelBook:
    """Resting size per price, per side; ``levels`` > 0 keeps only the best ``levels`` prices
    of a side after each event (the depth the source shows)."""

    def __init__(self, levels: int = 0) -> None:
        self.levels = int(levels)
        self.bids: dict[int, float] = {}
        self.asks: dict[int, float] = {}

    def apply(self, kind: int, side: int, price: int, size: float) -> None:
        """Apply one event (only clear and level events change the book)."""
        if kind == CLEAR:
            self.bids.clear()
            self.asks.clear()
            return
        if kind != LEVEL:
            return
        book = self.bids if side > 0 else self.asks
        if size > 0:
            book[price] = size
        else:
            book.pop(price, None)
        if self.levels and len(book) > self.levels:
            worst = min(book) if side > 0 else max(book)
            del book[worst]

    def apply_all(self, events: Mapping[str, Iterable]) -> None:
        for kind, side, price, size in zip(
            events["kind"], events["side"], events["price"], events["size"], strict=True
        ):
            self.apply(int(kind), int(side), int(price), float(size))

    def top(self, depth: int) -> np.ndarray:
        """``(ask price, ask size, bid price, bid size)`` for levels 1..``depth``, flattened
        (LOBSTER's orderbook layout); an empty level reads price 0, size 0."""
        out = np.zeros(4 * depth, dtype=np.float64)
        asks = sorted(self.asks)[:depth]
        bids = sorted(self.bids, reverse=True)[:depth]
        for k, p in enumerate(asks):
            out[4 * k], out[4 * k + 1] = p, self.asks[p]
        for k, p in enumerate(bids):
            out[4 * k + 2], out[4 * k + 3] = p, self.bids[p]
        return out

    def best(self) -> tuple[int | None, int | None]:
        """(best bid, best ask) prices, None for an empty side."""
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)
