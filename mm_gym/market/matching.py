"""The exchange side of the makers' orders: market orders walking the book (the makers' quotes
among the background orders by price-time priority), quote messages landing and resting
(post-only), and the makers' market orders landing (never beyond what flattens a position).
"""

from __future__ import annotations

import numba as nb

from mm_gym.market.book import effective_best, mid_ticks, withdraw
from mm_gym.market.fills import agent_fill, background_fill
from mm_gym.market.jit import njit_unliteral
from mm_gym.market.layout import (
    I_BEST_ASK,
    I_BEST_BID,
    I_JOINS,
    I_ORIGIN,
    I_VOL_TRADED,
    MI_INV,
    MI_QUOTES_OUTSIDE,
    MP_MAKERS,
    O_ACTIVE,
    O_AHEAD,
    O_ORIG_SIZE,
    O_PRICE,
    O_SEQ,
    O_SIZE,
)
from mm_gym.market.messages import receive
from mm_gym.market.queue_model import TRADE
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.layout import SP_MAX_INV


@nb.njit(cache=True, inline="always")  # once per level a market order walks: inlined
def first_in_queue(orders, i, m, side, price, skip) -> int:
    """The row of market ``i``'s maker (of ``m``) first in the queue at ``price`` on ``side``,
    not ``skip``; -1 if none rests there. Makers are served in the order of the background
    lots ahead of them, the earlier to join first among equals (``O_SEQ``)."""
    first = -1
    for a in range(i * m, i * m + m):
        if a == skip or orders[a, side, O_ACTIVE] == 0 or orders[a, side, O_PRICE] != price:
            continue
        if first < 0:
            first = a
            continue
        ahead = orders[a, side, O_AHEAD]
        lead = orders[first, side, O_AHEAD]
        if ahead < lead or (ahead == lead and orders[a, side, O_SEQ] < orders[first, side, O_SEQ]):
            first = a
    return first


@njit_unliteral
def market_order(i, hit_side, lots, taker, t, s: MarketState, p: MarketParams):
    """A market order of ``lots`` that takes side ``hit_side`` (0: sells into bids, 1: buys
    from asks) of market ``i``, walking the book; ``taker``: the maker row that sent it, -1
    for the background. At each level the makers' resting orders fill by price-time priority
    among the background lots; a maker's order skips its own quote. Returns the lots left
    unfilled (the window ran out of volume)."""
    book = s.book
    ints = s.ints
    orders = s.orders
    m = int(p.mp[MP_MAKERS])
    remaining = lots
    direction = -1 if hit_side == 0 else 1
    maker_side = 1 if hit_side == 0 else -1  # a resting bid that is hit buys
    price = effective_best(ints, orders, i, m, hit_side, taker)
    if price < 0:
        return remaining
    mid = mid_ticks(ints, s.fs, i)  # before the order walks the book
    origin = ints[i, I_ORIGIN]
    n = book.shape[2]
    while remaining > 0:
        j = price - origin
        if j < 0 or j >= n:
            break
        took = 0  # lots the taker got at this level
        got_from_makers = 0  # of which from other makers' quotes
        while remaining > 0:  # the makers resting here, each after the lots ahead of it
            a = first_in_queue(orders, i, m, hit_side, price, taker)
            if a < 0:
                break
            take = min(remaining, orders[a, hit_side, O_AHEAD])
            if take > 0:
                remaining -= take
                ints[i, I_VOL_TRADED] += take
                withdraw(TRADE, book, ints, orders, i, hit_side, j, take, 0.0, p.mp)
                took += take
            filled = min(remaining, orders[a, hit_side, O_SIZE])
            if filled == 0:
                break
            remaining -= filled
            orders[a, hit_side, O_SIZE] -= filled
            if orders[a, hit_side, O_SIZE] == 0:
                orders[a, hit_side, O_ACTIVE] = 0
            agent_fill(a, maker_side, price, filled, True, mid, t, s, p)
            got_from_makers += filled
            if taker < 0:
                background_fill(i, -maker_side, price, filled, s, p)
            took += filled
        avail = book[i, hit_side, j]
        if remaining > 0 and avail > 0:  # the background behind the makers (or all of it)
            take = min(remaining, avail)
            remaining -= take
            ints[i, I_VOL_TRADED] += take
            withdraw(TRADE, book, ints, orders, i, hit_side, j, take, 0.0, p.mp)
            took += take
        if taker >= 0 and took > 0:  # one fill of the taker per level
            agent_fill(taker, -maker_side, price, took, False, mid, t, s, p)
            if took > got_from_makers:
                background_fill(i, maker_side, price, took - got_from_makers, s, p)
        if remaining == 0:
            break
        # next level with volume, or a maker's order if one lies on the way
        nxt = ints[i, I_BEST_BID] if hit_side == 0 else ints[i, I_BEST_ASK]
        for a in range(i * m, i * m + m):
            if a != taker and orders[a, hit_side, O_ACTIVE] == 1:
                ap = orders[a, hit_side, O_PRICE]
                if (ap - price) * direction > 0 and (nxt < 0 or (nxt - ap) * direction > 0):
                    nxt = ap
        if nxt < 0 or nxt == price:
            break
        price = nxt
    return remaining


@njit_unliteral
def room_lots(a, side, lots, mints, sp):
    """``lots`` cut to the room left under maker ``a``'s hard inventory limit (checked on
    landing)."""
    max_inv = int(sp[SP_MAX_INV])
    inv = mints[a, MI_INV]
    return min(lots, max_inv - inv if side == 0 else max_inv + inv)


@njit_unliteral
def rest_quote(a, m, side, price, lots, other, t, s: MarketState):
    """A quote message of maker ``a`` (of ``m`` per market) lands: its order on ``side``
    becomes (price, lots), lots <= 0 cancels.

    Post-only: a quote that would cross slides to the touch of the book (background and the
    other makers' quotes) or of ``other``, the maker's own opposite quote as it stands after
    this instant (-1: none), so it never takes liquidity nor trades with itself."""
    ints = s.ints
    mints = s.mints
    orders = s.orders
    i = a // m
    if lots <= 0 or price < 0:
        orders[a, side, O_ACTIVE] = 0
        return
    if side == 0:
        ba = effective_best(ints, orders, i, m, 1, a)
        if other >= 0 and (ba < 0 or other < ba):
            ba = other
        if ba >= 0 and price >= ba:
            price = ba - 1
    else:
        bb = effective_best(ints, orders, i, m, 0, a)
        if other >= 0 and other > bb:
            bb = other
        if bb >= 0 and price <= bb:
            price = bb + 1
    j = price - ints[i, I_ORIGIN]
    if j < 0 or j >= s.book.shape[2]:  # the price moved far beyond what the window was sized for
        orders[a, side, O_ACTIVE] = 0
        mints[a, MI_QUOTES_OUTSIDE] += 1
        return
    if (
        orders[a, side, O_ACTIVE] == 1
        and orders[a, side, O_PRICE] == price
        and lots <= orders[a, side, O_SIZE]
    ):
        orders[a, side, O_SIZE] = lots  # same price, no larger: keeps its place in the queue
        return
    # a new price or a larger size (a partly filled quote topped up) joins the back of the queue
    orders[a, side, O_ACTIVE] = 1
    orders[a, side, O_PRICE] = price
    orders[a, side, O_SIZE] = lots
    orders[a, side, O_ORIG_SIZE] = lots
    orders[a, side, O_AHEAD] = s.book[i, side, j]
    ints[i, I_JOINS] += 1
    orders[a, side, O_SEQ] = ints[i, I_JOINS]
    s.order_time[a, side] = t


@nb.njit(cache=True, inline="always")  # called every few events: inlined (see ``state``)
def land_messages(a, t, s: MarketState, p: MarketParams):
    """Maker ``a``'s messages due at ``t`` reach the exchange, each side's in the order sent;
    a bid and an ask landing at the same instant land together (neither sees the other's
    stale quote). Then a market order, never beyond what flattens the position."""
    pend = s.pend
    pend_time = s.pend_time
    mints = s.mints
    orders = s.orders
    m = int(p.mp[MP_MAKERS])
    while pend_time[a, 0, 0] <= t or pend_time[a, 1, 0] <= t:
        bid = pend_time[a, 0, 0] <= t
        ask = pend_time[a, 1, 0] <= t
        bid_price = ask_price = -1
        bid_lots = ask_lots = 0
        if bid:
            bid_price, bid_lots = receive(a, 0, pend, pend_time)
            bid_lots = room_lots(a, 0, bid_lots, mints, p.sp)
        if ask:
            ask_price, ask_lots = receive(a, 1, pend, pend_time)
            ask_lots = room_lots(a, 1, ask_lots, mints, p.sp)
        # each side's post-only check sees the other side's quote as it stands after this
        # instant: the one landing with it, or the one resting
        if bid:
            other = ask_price if ask_lots > 0 else -1
            if not ask and orders[a, 1, O_ACTIVE] == 1:
                other = orders[a, 1, O_PRICE]
            rest_quote(a, m, 0, bid_price, bid_lots, other, t, s)
        if ask:
            other = bid_price if bid_lots > 0 else -1
            if not bid and orders[a, 0, O_ACTIVE] == 1:
                other = orders[a, 0, O_PRICE]
            rest_quote(a, m, 1, ask_price, ask_lots, other, t, s)
    if pend_time[a, 2, 0] > t:
        return
    lots = receive(a, 2, pend, pend_time)[1]
    inv = mints[a, MI_INV]
    lots = min(lots, max(-inv, 0)) if lots > 0 else -min(-lots, max(inv, 0))
    if lots == 0:
        return
    market_order(a // m, 1 if lots > 0 else 0, abs(lots), a, t, s, p)
