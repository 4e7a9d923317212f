"""Order-book operations on one market's background volume (numba, structure of arrays).

``book[i, 0, :]`` holds resting bid lots per level, ``book[i, 1, :]`` ask lots; level ``j``
is the absolute tick ``origin + j``. The market makers' orders are kept apart (``orders``, rows
``i * M .. i * M + M - 1`` for market ``i``) with the background volume ahead of each (how
much, the models of ``queue_model`` say).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.jit import njit_unliteral
from mm_gym.market.layout import (
    F_MID,
    I_BEST_ASK,
    I_BEST_BID,
    I_ORIGIN,
    I_VOL_ASK,
    I_VOL_BID,
    I_VOL_DROPPED,
    MI_QUOTES_OUTSIDE,
    MP_MAKERS,
    O_ACTIVE,
    O_AHEAD,
    O_PRICE,
)
from mm_gym.market.queue_model import ahead_removed


@nb.njit(cache=True)
def scan_best_bid(book: np.ndarray, i: int, origin: int, start: int) -> int:
    """Highest level at or below absolute tick ``start`` with bid volume (-1: none)."""
    j = min(start - origin, book.shape[2] - 1)
    while j >= 0:
        if book[i, 0, j] > 0:
            return origin + j
        j -= 1
    return -1


@nb.njit(cache=True)
def scan_best_ask(book: np.ndarray, i: int, origin: int, start: int) -> int:
    """Lowest level at or above absolute tick ``start`` with ask volume (-1: none)."""
    j = max(start - origin, 0)
    n = book.shape[2]
    while j < n:
        if book[i, 1, j] > 0:
            return origin + j
        j += 1
    return -1


@nb.njit(cache=True)
def mid_ticks(ints: np.ndarray, fs: np.ndarray, i: int) -> float:
    """Mid of the background book in ticks (the last mid while a side is empty)."""
    bb = ints[i, I_BEST_BID]
    ba = ints[i, I_BEST_ASK]
    if bb >= 0 and ba >= 0:
        return 0.5 * (bb + ba)
    return fs[i, F_MID]


@nb.njit(cache=True, inline="always")  # several times an event: inlined (see ``state``)
def effective_best(
    ints: np.ndarray, orders: np.ndarray, i: int, m: int, side: int, skip: int
) -> int:
    """Best price of a side of market ``i`` including its ``m`` makers' resting orders, all
    but row ``skip`` (-1: none skipped); -1 if the side is empty."""
    best = ints[i, I_BEST_BID] if side == 0 else ints[i, I_BEST_ASK]
    for a in range(i * m, i * m + m):
        if a == skip or orders[a, side, O_ACTIVE] == 0:
            continue
        price = orders[a, side, O_PRICE]
        if best < 0 or (price > best if side == 0 else price < best):
            best = price
    return best


@njit_unliteral
def add_volume(
    book: np.ndarray, ints: np.ndarray, i: int, side: int, price: int, lots: int
) -> bool:
    """Rest ``lots`` of background volume at ``price``; False if outside the window."""
    j = price - ints[i, I_ORIGIN]
    if j < 0 or j >= book.shape[2]:
        return False
    book[i, side, j] += lots
    if side == 0:
        ints[i, I_VOL_BID] += lots
        if ints[i, I_BEST_BID] < 0 or price > ints[i, I_BEST_BID]:
            ints[i, I_BEST_BID] = price
    else:
        ints[i, I_VOL_ASK] += lots
        if ints[i, I_BEST_ASK] < 0 or price < ints[i, I_BEST_ASK]:
            ints[i, I_BEST_ASK] = price
    return True


@nb.njit(cache=True)
def remove_volume(book: np.ndarray, ints: np.ndarray, i: int, side: int, j: int, lots: int) -> None:
    """Remove ``lots`` of background volume at level ``j``; keeps the totals and the best price
    of the side up to date (the makers' places in the queue are ``withdraw``'s)."""
    book[i, side, j] -= lots
    origin = ints[i, I_ORIGIN]
    # a side left empty needs no scan of the window (a recorded book one level deep empties
    # a side at every change of its best price)
    if side == 0:
        ints[i, I_VOL_BID] -= lots
        if book[i, 0, j] == 0 and ints[i, I_BEST_BID] == origin + j:
            empty = ints[i, I_VOL_BID] == 0
            ints[i, I_BEST_BID] = -1 if empty else scan_best_bid(book, i, origin, origin + j)
    else:
        ints[i, I_VOL_ASK] -= lots
        if book[i, 1, j] == 0 and ints[i, I_BEST_ASK] == origin + j:
            empty = ints[i, I_VOL_ASK] == 0
            ints[i, I_BEST_ASK] = -1 if empty else scan_best_ask(book, i, origin, origin + j)


@nb.njit(cache=True, inline="always")  # every cancellation and trade: inlined (see ``state``)
def withdraw(cause, book, ints, orders, i, side, j, lots, u, mp) -> None:
    """``lots`` of background volume leave level ``j`` for ``cause`` (``queue_model``'s
    ``TRADE``, ``CANCEL`` or ``PULL``, placed by ``u``): each maker resting there moves up by
    the lots that were ahead of it, then the volume goes."""
    m = int(mp[MP_MAKERS])
    price = ints[i, I_ORIGIN] + j
    level = book[i, side, j]
    for a in range(i * m, i * m + m):
        ahead = ahead_removed(cause, orders, a, side, price, level, lots, u, mp)
        if ahead > 0:
            orders[a, side, O_AHEAD] -= ahead
    remove_volume(book, ints, i, side, j, lots)


@nb.njit(cache=True)
def recentre(
    book: np.ndarray,
    ints: np.ndarray,
    orders: np.ndarray,
    mints: np.ndarray,
    i: int,
    m: int,
    mid: float,
) -> None:
    """Shift the window so that ``mid`` (ticks) sits in its middle, when near an edge.

    Volume that leaves the window is counted in ``I_VOL_DROPPED``; an order of one of the
    market's ``m`` makers that leaves the window is cancelled (counted in its
    ``MI_QUOTES_OUTSIDE``).
    """
    n = book.shape[2]
    origin = ints[i, I_ORIGIN]
    pos = mid - origin
    if n // 4 <= pos <= n - n // 4:
        return
    new_origin = int(mid) - n // 2
    shift = new_origin - origin
    dropped = 0
    for side in range(2):
        if shift > 0:
            for j in range(n):
                if j < shift:
                    dropped += book[i, side, j]
                src = j + shift
                book[i, side, j] = book[i, side, src] if src < n else 0
        else:
            for j in range(n - 1, -1, -1):
                if j - shift >= n:
                    dropped += book[i, side, j]
                src = j + shift
                book[i, side, j] = book[i, side, src] if src >= 0 else 0
    ints[i, I_ORIGIN] = new_origin
    ints[i, I_VOL_DROPPED] += dropped
    vb = 0
    va = 0
    for j in range(n):
        vb += book[i, 0, j]
        va += book[i, 1, j]
    ints[i, I_VOL_BID] = vb
    ints[i, I_VOL_ASK] = va
    ints[i, I_BEST_BID] = scan_best_bid(book, i, new_origin, new_origin + n - 1)
    ints[i, I_BEST_ASK] = scan_best_ask(book, i, new_origin, new_origin)
    for a in range(i * m, i * m + m):
        for side in range(2):
            if orders[a, side, O_ACTIVE] == 1:
                j = orders[a, side, O_PRICE] - new_origin
                if j < 0 or j >= n:
                    orders[a, side, O_ACTIVE] = 0
                    mints[a, MI_QUOTES_OUTSIDE] += 1
                elif orders[a, side, O_AHEAD] > book[i, side, j]:
                    orders[a, side, O_AHEAD] = book[i, side, j]
