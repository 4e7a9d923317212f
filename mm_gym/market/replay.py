"""The replay market: a recording's book, event by event, with our orders resting in it.

The recording (``mm_gym.data``'s event schema) drives the background book; nothing is
simulated but our orders. They go through the simulator's own code: quote refreshes by the
strategy engine, messages landing after the latency, post-only resting, fills, fees, risk
limits and markouts (``event_loop``, ``matching``, ``fills``); only the background differs.

- **Level events** set a level's size. Lots that leave a level where our order rests are ahead
  of it by ``MarketConfig.queue_model`` (``queue_model.ahead_removed`` with ``CANCEL``); lots
  that arrive join behind it, except at a level the recording may not have shown (beyond its
  ``levels`` depth): what appears there is placed ahead of us (we cannot know where we stood).
  Lots that arrive on the other side at or through our resting price would have traded with
  it: our order fills (maker, at its price) up to their size.
- **Trades** at a price take the level from the front (the lots leave the book at once; the
  level events that follow, in the schema's order, set the level as recorded): our order
  there fills with what the trade's size leaves after the lots ahead of it; our order at a
  better price than the trade fills up to the trade's size (the aggressor would have met it
  first). A hidden execution fills only our orders at a better price. A trade whose
  aggressor is unknown (an auction cross) fills nothing of ours and leaves the book to the
  level events.
- **No market impact**: our fills take nothing from the recorded flow (the recorded trade
  still takes its size from the recorded book, and the next level events set the levels as
  recorded); our own market orders take the recorded book's volume until the recording next
  sets that level.
- A snapshot (clear) empties the book and drops our resting orders (the strategy re-quotes).
- No regime is known on a recording: the regime chain and news never run, and the fair value
  is the mid.

An episode is a window of the recording: market ``i`` starts at ``start[i]`` s into it, after
a warm-up that replays the recording from its first event (no orders of ours): the book as it
stood then, and the volatility and trend estimates updated by all of the recording before the
window (they start at the market config's level; a window early in the day still carries
part of that start).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market.book import add_volume, mid_ticks, recentre, remove_volume, withdraw
from mm_gym.market.event_loop import sample_tick
from mm_gym.market.fills import agent_fill, background_fill
from mm_gym.market.layout import (
    F_FAIR,
    F_FEAT_MID,
    F_MID,
    F_NEWS_ANNOUNCED_AT,
    F_NEWS_END,
    F_NEXT_FEATURE,
    F_NEXT_NEWS,
    F_NEXT_REGIME,
    F_NEXT_SAMPLE,
    F_SV_DAY0,
    F_T,
    F_TREND,
    F_VAR_LONG,
    F_VAR_SHORT,
    I_BEST_ASK,
    I_BEST_BID,
    I_EVENTS,
    I_FEATURE_TICKS,
    I_ORIGIN,
    I_REGIME,
    I_VOL_ADDED,
    I_VOL_ASK,
    I_VOL_BID,
    I_VOL_CANCELLED,
    I_VOL_DROPPED,
    I_VOL_TRADED,
    INF,
    MF_NEXT_REFRESH,
    MP_FEATURE_DT,
    MP_PRICE0,
    MP_SAMPLE_DT,
    O_ACTIVE,
    O_AHEAD,
    O_PRICE,
    O_SIZE,
)
from mm_gym.market.matching import land_messages
from mm_gym.market.queue_model import CANCEL, TRADE, ahead_removed
from mm_gym.market.refresh import refresh
from mm_gym.market.reset import starting_variance
from mm_gym.market.signals import update_features
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.layout import SP_REFRESH

# event kinds, as ``mm_gym.data.schema`` numbers them
CLEAR, LEVEL, TRADE_EVENT, HIDDEN_TRADE = 0, 1, 2, 3


class Tape(NamedTuple):
    """A recording as the kernel reads it: one row per event, in event order."""

    t: np.ndarray  # float64, s since the recording's first event
    kind: np.ndarray  # int64, the schema's kind
    side: np.ndarray  # int64: level +1 bid / -1 ask; trade: aggressor +1 buy / -1 sell / 0
    price: np.ndarray  # int64, ticks
    lots: np.ndarray  # int64: level: the level's size after the event; trade: lots traded


@nb.njit(cache=True)
def hidden_level(i, sd, price, visible, book, ints) -> bool:
    """Whether side ``sd``'s empty level at ``price`` may have been beyond what the recording
    showed (``visible`` best occupied prices; 0: full depth, nothing hidden). A source whose
    depth is full drops a level first and then shows the one coming into view, so a price
    worse than every shown one, with ``visible - 1`` or more shown, may have held lots that
    nobody saw; the risk-averse reading puts them ahead of us."""
    if visible <= 0:
        return False
    origin = ints[i, I_ORIGIN]
    best = ints[i, I_BEST_BID] if sd == 0 else ints[i, I_BEST_ASK]
    left = ints[i, I_VOL_BID] if sd == 0 else ints[i, I_VOL_ASK]  # lots not yet passed
    step = -1 if sd == 0 else 1
    better = 0
    p = best
    while left > 0 and best >= 0:
        j = p - origin
        if j < 0 or j >= book.shape[2]:
            break
        if book[i, sd, j] > 0:
            if (p - price) * step >= 0:
                return False  # a shown price at or behind it: it was in view
            better += 1
            left -= book[i, sd, j]
        p += step
    return better >= visible - 1


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def trim_to_visible(i, sd, visible, s: MarketState) -> None:
    """Keep the ``visible`` best occupied prices of side ``sd``: the source shows no more, so
    a level pushed beyond them is stale (the recording will not say when it changes)."""
    book = s.book
    ints = s.ints
    origin = ints[i, I_ORIGIN]
    best = ints[i, I_BEST_BID] if sd == 0 else ints[i, I_BEST_ASK]
    if best < 0:
        return
    step = -1 if sd == 0 else 1
    seen = 0
    left = ints[i, I_VOL_BID] if sd == 0 else ints[i, I_VOL_ASK]  # lots not yet passed
    j = best - origin
    while 0 <= j < book.shape[2] and left > 0:
        if book[i, sd, j] > 0:
            left -= book[i, sd, j]
            seen += 1
            if seen > visible:
                lots = book[i, sd, j]
                if s.orders[i, sd, O_ACTIVE] == 1 and s.orders[i, sd, O_PRICE] == origin + j:
                    s.orders[i, sd, O_AHEAD] -= min(lots, s.orders[i, sd, O_AHEAD])
                remove_volume(book, ints, i, sd, j, lots)
                return
        j += step


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def fill_ours(i, sd, lots, mid, t, s: MarketState, p: MarketParams) -> None:
    """Our resting order on side ``sd`` fills ``lots`` (maker, at its price; ``mid``: the
    book's when the order that filled it arrived)."""
    orders = s.orders
    orders[i, sd, O_SIZE] -= lots
    if orders[i, sd, O_SIZE] == 0:
        orders[i, sd, O_ACTIVE] = 0
    side = 1 if sd == 0 else -1
    agent_fill(i, side, orders[i, sd, O_PRICE], lots, True, mid, t, s, p)
    background_fill(i, -side, orders[i, sd, O_PRICE], lots, s, p)


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def clear_book(i, s: MarketState) -> None:
    """Empty market ``i``'s recorded book (our orders are kept apart and stay)."""
    s.book[i, :, :] = 0
    s.ints[i, I_BEST_BID] = -1
    s.ints[i, I_BEST_ASK] = -1
    s.ints[i, I_VOL_BID] = 0
    s.ints[i, I_VOL_ASK] = 0


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def cross_ours(i, sd, price, lots, t, s: MarketState, p: MarketParams) -> None:
    """``lots`` arrive at ``price`` on the side opposite ``sd`` where our order on ``sd``
    rests at or through that price: in the market they would have traded with it, so it
    fills (maker, at its price) up to ``lots``; the recorded level stays as recorded."""
    orders = s.orders
    if orders[i, sd, O_ACTIVE] == 0:
        return
    ours = orders[i, sd, O_PRICE]
    if (ours < price) if sd == 0 else (ours > price):
        return
    fill_ours(i, sd, min(lots, orders[i, sd, O_SIZE]), mid_ticks(s.ints, s.fs, i), t, s, p)


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def set_level(i, sd, price, lots, visible, t, s: MarketState, p: MarketParams) -> None:
    """The recording says side ``sd``'s level at ``price`` now holds ``lots``."""
    book = s.book
    ints = s.ints
    orders = s.orders
    j = price - ints[i, I_ORIGIN]
    if j < 0 or j >= book.shape[2]:
        if lots > 0:
            ints[i, I_VOL_DROPPED] += lots
        return
    old = book[i, sd, j]
    ours = orders[i, sd, O_ACTIVE] == 1 and orders[i, sd, O_PRICE] == price
    if lots > old:
        cross_ours(i, 1 - sd, price, lots - old, t, s, p)
        if ours and (old == 0 and hidden_level(i, sd, price, visible, book, ints)):
            orders[i, sd, O_AHEAD] += lots - old  # it appeared from beyond the shown depth
        new_level = old == 0
        add_volume(book, ints, i, sd, price, lots - old)
        ints[i, I_VOL_ADDED] += lots - old
        if new_level and visible > 0:
            trim_to_visible(i, sd, visible, s)
    elif lots < old:
        gone = old - lots
        if ours:  # a draw only where it matters: the recording's book needs none
            u = R.uniform(s.rng, R.cancels(i, s.fs))
            orders[i, sd, O_AHEAD] -= ahead_removed(
                CANCEL, orders, i, sd, price, old, gone, u, p.mp
            )
        remove_volume(book, ints, i, sd, j, gone)
        ints[i, I_VOL_CANCELLED] += gone


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def recorded_trade(i, side, price, lots, hidden, t, s: MarketState, p: MarketParams) -> None:
    """A recorded execution of ``lots`` at ``price``, aggressor ``side`` (+1 buy, -1 sell,
    0 unknown); ``hidden``: against hidden orders (the visible book does not change)."""
    book = s.book
    ints = s.ints
    orders = s.orders
    sd = 0 if side < 0 else 1  # the side it takes: a sell hits bids
    mid = mid_ticks(ints, s.fs, i)
    ahead = -1  # the lots ahead of our order at the trade's price, before the trade
    if orders[i, sd, O_ACTIVE] == 1 and orders[i, sd, O_PRICE] == price:
        ahead = orders[i, sd, O_AHEAD]
    if not hidden and side != 0:  # an unknown aggressor took an unknown side
        j = price - ints[i, I_ORIGIN]
        if 0 <= j < book.shape[2]:
            take = min(lots, book[i, sd, j])
            if take > 0:
                withdraw(TRADE, book, ints, orders, i, sd, j, take, 0.0, p.mp)
                ints[i, I_VOL_TRADED] += take
    if side == 0 or orders[i, sd, O_ACTIVE] == 0:
        return
    ours = orders[i, sd, O_PRICE]
    better = ours > price if sd == 0 else ours < price
    if better:
        fill = min(lots, orders[i, sd, O_SIZE])
    elif ahead >= 0 and not hidden:
        fill = min(max(lots - ahead, 0), orders[i, sd, O_SIZE])
    else:
        fill = 0
    if fill > 0:
        fill_ours(i, sd, fill, mid, t, s, p)


@nb.njit(cache=True, inline="always")  # per event: a call would pass every array
def replay_event(i, k, t, tape: Tape, visible, s: MarketState, p: MarketParams) -> None:
    """Apply event ``k`` of the tape to market ``i``."""
    kind = tape.kind[k]
    ints = s.ints
    if kind == LEVEL:
        sd = 0 if tape.side[k] > 0 else 1
        set_level(i, sd, tape.price[k], tape.lots[k], visible, t, s, p)
    elif kind in (TRADE_EVENT, HIDDEN_TRADE):
        recorded_trade(i, tape.side[k], tape.price[k], tape.lots[k], kind == HIDDEN_TRADE, t, s, p)
    elif kind == CLEAR:
        clear_book(i, s)
        s.orders[i, 0, O_ACTIVE] = 0
        s.orders[i, 1, O_ACTIVE] = 0
    # halts and resumptions change nothing here: the recording holds no trades while halted
    ints[i, I_EVENTS] += 1


@nb.njit(cache=True, _nrt=False)
def replay_start(mask, start, day0, tape: Tape, cursor, visible, s: MarketState, p: MarketParams):
    """After ``reset_markets``: empty each masked market's book, replay the recording from
    its first event to ``start[i]`` s (the book, the mid and the feature clock; no orders of
    ours), and leave the market at ``start[i]`` with the regime chain and news switched off."""
    fs = s.fs
    ints = s.ints
    mp = p.mp
    L = s.book.shape[2]
    for i in range(fs.shape[0]):
        if not mask[i]:
            continue
        clear_book(i, s)
        ints[i, I_ORIGIN] = int(mp[MP_PRICE0]) - L // 2
        ints[i, I_REGIME] = 0
        fs[i, F_NEXT_REGIME] = INF
        fs[i, F_NEXT_NEWS] = INF
        fs[i, F_NEWS_END] = INF
        fs[i, F_NEWS_ANNOUNCED_AT] = INF
        fs[i, F_SV_DAY0] = day0
        # the estimates start at the market config's level at the recording's time of day; the
        # recording before the window then updates them
        var0 = starting_variance(fs, i, 0.0, mp, p.rp)
        fs[i, F_VAR_SHORT] = var0
        fs[i, F_VAR_LONG] = var0
        fs[i, F_TREND] = 0.0
        fs[i, F_MID] = mp[MP_PRICE0]
        fs[i, F_FEAT_MID] = mp[MP_PRICE0]
        fs[i, F_NEXT_FEATURE] = mp[MP_FEATURE_DT]
        k = 0
        n = tape.t.shape[0]
        while True:
            t_ev = tape.t[k] if k < n else INF
            t_feature = fs[i, F_NEXT_FEATURE]
            if t_ev <= start[i] and t_ev <= t_feature:
                replay_event(i, k, t_ev, tape, visible, s, p)
                k += 1
            elif t_feature <= start[i]:  # the feature clock; it schedules its next tick
                mid = mid_ticks(ints, fs, i)
                fs[i, F_MID] = mid
                recentre(s.book, ints, s.orders, s.mints, i, 1, mid)
                update_features(i, t_feature, fs, ints, mp)
            else:
                break
        t = start[i]
        mid = mid_ticks(ints, fs, i)
        fs[i, F_MID] = mid
        fs[i, F_FAIR] = mid
        recentre(s.book, ints, s.orders, s.mints, i, 1, mid)
        fs[i, F_T] = t
        fs[i, F_NEXT_SAMPLE] = t + mp[MP_SAMPLE_DT]
        s.mfs[i, MF_NEXT_REFRESH] = t  # one maker: its row is the market's
        cursor[i] = k
        # the episode's counters start now
        for c in (I_EVENTS, I_FEATURE_TICKS, I_VOL_ADDED, I_VOL_CANCELLED, I_VOL_TRADED):
            ints[i, c] = 0
        ints[i, I_VOL_DROPPED] = 0


@nb.njit(cache=True, nogil=True, _nrt=False)
def replay_advance(
    lo, hi, t_end, mask, s: MarketState, act, p: MarketParams, tape: Tape, cursor, visible
):
    """``event_loop.advance`` on a recording: markets ``lo <= i < hi`` with ``mask[i]`` run
    to ``t_end[i]``, the tape's events in their place among the scheduled ones (messages
    landing, the sampling clock, quote refreshes); an event at the same time as a scheduled
    one comes first."""
    fs = s.fs
    pend_time = s.pend_time
    n = tape.t.shape[0]
    for i in range(lo, hi):
        if not mask[i]:
            continue
        t = fs[i, F_T]
        k = cursor[i]
        end = t_end[i]
        while True:
            t_s = min(end, fs[i, F_NEXT_SAMPLE], s.mfs[i, MF_NEXT_REFRESH])
            t_s = min(t_s, min(pend_time[i, 0, 0], min(pend_time[i, 1, 0], pend_time[i, 2, 0])))
            t_ev = tape.t[k] if k < n else INF
            if t_ev <= t_s and t_ev < end:
                t = t_ev
                replay_event(i, k, t, tape, visible, s, p)
                k += 1
                continue
            t = t_s
            if t >= end:
                break
            if min(pend_time[i, 0, 0], min(pend_time[i, 1, 0], pend_time[i, 2, 0])) <= t:
                land_messages(i, t, s, p)
            if fs[i, F_NEXT_SAMPLE] <= t:
                sample_tick(i, t, s, p, False)
            if s.mfs[i, MF_NEXT_REFRESH] <= t:
                refresh(i, t, s, act, p)
                s.mfs[i, MF_NEXT_REFRESH] += p.sp[SP_REFRESH]
        cursor[i] = k
        fs[i, F_T] = end
        fs[i, F_MID] = mid_ticks(s.ints, fs, i)
