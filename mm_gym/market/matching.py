"""The exchange side of our orders: market orders walking the book (ours among the background
orders by price-time priority), our quote messages landing and resting (post-only), and our
market orders landing (never beyond what flattens the position).
"""

from __future__ import annotations

import numba as nb

from mm_gym.market.book import effective_best, mid_ticks, remove_volume
from mm_gym.market.fills import agent_fill
from mm_gym.market.jit import njit_unliteral
from mm_gym.market.layout import (
    I_BEST_ASK,
    I_BEST_BID,
    I_INV,
    I_ORIGIN,
    I_QUOTES_OUTSIDE,
    I_VOL_TRADED,
    O_ACTIVE,
    O_AHEAD,
    O_ORIG_SIZE,
    O_PRICE,
    O_SIZE,
)
from mm_gym.market.messages import receive
from mm_gym.market.queue_model import TRADE, ahead_removed
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.layout import SP_MAX_INV


@njit_unliteral
def market_order(i, hit_side, lots, agent_taker, t, s: MarketState, p: MarketParams):
    """A market order of ``lots`` that takes side ``hit_side`` (0: sells into bids, 1: buys
    from asks), walking the book. A background order fills the agent's resting order by
    price-time priority; an agent order (``agent_taker``) skips the agent's own quotes.
    Returns the lots left unfilled (the window ran out of volume)."""
    book = s.book
    ints = s.ints
    orders = s.orders
    remaining = lots
    direction = -1 if hit_side == 0 else 1
    if agent_taker:
        price = ints[i, I_BEST_BID] if hit_side == 0 else ints[i, I_BEST_ASK]
    else:
        price = effective_best(ints, orders, i, hit_side)
    if price < 0:
        return remaining
    mid = mid_ticks(ints, s.fs, i)  # before the order walks the book
    origin = ints[i, I_ORIGIN]
    n = book.shape[2]
    while remaining > 0:
        j = price - origin
        if j < 0 or j >= n:
            break
        agent_here = (
            (not agent_taker)
            and orders[i, hit_side, O_ACTIVE] == 1
            and orders[i, hit_side, O_PRICE] == price
        )
        agent_lots = 0
        if agent_here:
            take = ahead_removed(
                TRADE, orders, i, hit_side, price, book[i, hit_side, j], remaining, 0.0, p.mp
            )
            if take > 0:
                remaining -= take
                ints[i, I_VOL_TRADED] += take
                remove_volume(book, ints, orders, i, hit_side, j, take, take)
            agent_lots = min(remaining, orders[i, hit_side, O_SIZE])
            remaining -= agent_lots
            orders[i, hit_side, O_SIZE] -= agent_lots
            if orders[i, hit_side, O_SIZE] == 0:
                orders[i, hit_side, O_ACTIVE] = 0
        avail = book[i, hit_side, j]
        if remaining > 0 and avail > 0:
            take = min(remaining, avail)
            remaining -= take
            ints[i, I_VOL_TRADED] += take
            from_ahead = 0
            if agent_taker:
                # the agent's own quote is skipped: the queue in front of it is taken first
                from_ahead = ahead_removed(
                    TRADE, orders, i, hit_side, price, avail, take, 0.0, p.mp
                )
            remove_volume(book, ints, orders, i, hit_side, j, take, from_ahead)
            if agent_taker:
                agent_lots = take
        if agent_lots > 0:  # maker: the agent's quote was hit; taker: the agent's order took
            maker_side = 1 if hit_side == 0 else -1
            side = -maker_side if agent_taker else maker_side
            agent_fill(i, side, price, agent_lots, not agent_taker, mid, t, s, p)
        if remaining == 0:
            break
        # next level with volume, or the agent's order if it lies on the way
        nxt = ints[i, I_BEST_BID] if hit_side == 0 else ints[i, I_BEST_ASK]
        if (not agent_taker) and orders[i, hit_side, O_ACTIVE] == 1:
            ap = orders[i, hit_side, O_PRICE]
            if (ap - price) * direction > 0 and (nxt < 0 or (nxt - ap) * direction > 0):
                nxt = ap
        if nxt < 0 or nxt == price:
            break
        price = nxt
    return remaining


@njit_unliteral
def room_lots(i, side, lots, ints, sp):
    """``lots`` cut to the room left under the hard inventory limit (checked on landing)."""
    max_inv = int(sp[SP_MAX_INV])
    inv = ints[i, I_INV]
    return min(lots, max_inv - inv if side == 0 else max_inv + inv)


@njit_unliteral
def rest_quote(i, side, price, lots, other, t, s: MarketState):
    """A quote message lands: the order on ``side`` becomes (price, lots), lots <= 0 cancels.

    Post-only: a quote that would cross slides to the touch of the background book or of
    ``other``, the agent's opposite quote as it stands after this instant (-1: none), so the
    agent never trades with itself."""
    ints = s.ints
    orders = s.orders
    if lots <= 0 or price < 0:
        orders[i, side, O_ACTIVE] = 0
        return
    if side == 0:
        ba = ints[i, I_BEST_ASK]
        if other >= 0 and (ba < 0 or other < ba):
            ba = other
        if ba >= 0 and price >= ba:
            price = ba - 1
    else:
        bb = ints[i, I_BEST_BID]
        if other >= 0 and other > bb:
            bb = other
        if bb >= 0 and price <= bb:
            price = bb + 1
    j = price - ints[i, I_ORIGIN]
    if j < 0 or j >= s.book.shape[2]:  # the price moved far beyond what the window was sized for
        orders[i, side, O_ACTIVE] = 0
        ints[i, I_QUOTES_OUTSIDE] += 1
        return
    if (
        orders[i, side, O_ACTIVE] == 1
        and orders[i, side, O_PRICE] == price
        and lots <= orders[i, side, O_SIZE]
    ):
        orders[i, side, O_SIZE] = lots  # same price, no larger: keeps its place in the queue
        return
    # a new price or a larger size (a partly filled quote topped up) joins the back of the queue
    orders[i, side, O_ACTIVE] = 1
    orders[i, side, O_PRICE] = price
    orders[i, side, O_SIZE] = lots
    orders[i, side, O_ORIG_SIZE] = lots
    orders[i, side, O_AHEAD] = s.book[i, side, j]
    s.order_time[i, side] = t


@nb.njit(cache=True, inline="always")  # called every few events: inlined (see ``state``)
def land_messages(i, t, s: MarketState, p: MarketParams):
    """The messages due at ``t`` reach the exchange, each side's in the order sent; a bid and
    an ask landing at the same instant land together (neither sees the other's stale quote).
    Then a market order, never beyond what flattens the position."""
    pend = s.pend
    pend_time = s.pend_time
    ints = s.ints
    orders = s.orders
    while pend_time[i, 0, 0] <= t or pend_time[i, 1, 0] <= t:
        bid = pend_time[i, 0, 0] <= t
        ask = pend_time[i, 1, 0] <= t
        bid_price = ask_price = -1
        bid_lots = ask_lots = 0
        if bid:
            bid_price, bid_lots = receive(i, 0, pend, pend_time)
            bid_lots = room_lots(i, 0, bid_lots, ints, p.sp)
        if ask:
            ask_price, ask_lots = receive(i, 1, pend, pend_time)
            ask_lots = room_lots(i, 1, ask_lots, ints, p.sp)
        # each side's post-only check sees the other side's quote as it stands after this
        # instant: the one landing with it, or the one resting
        if bid:
            other = ask_price if ask_lots > 0 else -1
            if not ask and orders[i, 1, O_ACTIVE] == 1:
                other = orders[i, 1, O_PRICE]
            rest_quote(i, 0, bid_price, bid_lots, other, t, s)
        if ask:
            other = bid_price if bid_lots > 0 else -1
            if not bid and orders[i, 0, O_ACTIVE] == 1:
                other = orders[i, 0, O_PRICE]
            rest_quote(i, 1, ask_price, ask_lots, other, t, s)
    if pend_time[i, 2, 0] > t:
        return
    lots = receive(i, 2, pend, pend_time)[1]
    inv = ints[i, I_INV]
    lots = min(lots, max(-inv, 0)) if lots > 0 else -min(-lots, max(inv, 0))
    if lots == 0:
        return
    market_order(i, 1 if lots > 0 else 0, abs(lots), True, t, s, p)
