"""The batched event loop: ``advance`` moves every market of the batch to its ``t_end`` (in
parallel over ranges of markets).

Within a market, time runs event by event: Poisson background events (limit orders, noise and
informed market orders from the flow clock; cancellations from their own clock) happen between
scheduled events (the sampling clock, quote refreshes, order messages landing after latency,
regime switches, news).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import flow
from mm_gym.market import rng as R
from mm_gym.market.book import mid_ticks, recentre
from mm_gym.market.fair_value import diffuse, end_news, start_news, switch_regime
from mm_gym.market.fills import resolve_markouts
from mm_gym.market.layout import (
    F_FAIR,
    F_MID,
    F_NEWS_END,
    F_NEXT_NEWS,
    F_NEXT_REGIME,
    F_NEXT_SAMPLE,
    F_SAMPLED_TIME,
    F_T,
    I_EVENTS,
    I_VOL_ASK,
    I_VOL_BID,
    INF,
    MF_INV_SQ_TIME,
    MF_NEXT_REFRESH,
    MF_QUOTING_TIME,
    MI_INV,
    MP_MAKERS,
    MP_PULL,
    MP_SAMPLE_DT,
    O_ACTIVE,
    RATE_CANCEL_PER_LOT,
    S_QUOTING_TIME,
)
from mm_gym.market.matching import land_messages
from mm_gym.market.refresh import refresh
from mm_gym.market.signals import update_features
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.layout import SP_REFRESH


@nb.njit(cache=True, inline="always")  # inlined: passing its arrays cost more than the work
def sample_tick(i, t, s: MarketState, p: MarketParams, simulated):
    """The sampling clock: time spent quoting; on a ``simulated`` market the fair value's
    diffusion and stale background quotes pulled (on a recording the fair value is the mid);
    then the mid, the window, each maker's markouts and time integrals, the features; the
    next tick."""
    fs = s.fs
    ints = s.ints
    mfs = s.mfs
    mp = p.mp
    dt = mp[MP_SAMPLE_DT]
    m = int(mp[MP_MAKERS])
    for a in range(i * m, i * m + m):
        if s.orders[a, 0, O_ACTIVE] == 1 or s.orders[a, 1, O_ACTIVE] == 1:
            mfs[a, MF_QUOTING_TIME] += dt
            s.step_stats[a, S_QUOTING_TIME] += dt
    if simulated:
        diffuse(i, t, s, p)
        if not np.isnan(mp[MP_PULL]):
            flow.pull_stale(s.book, fs, ints, s.orders, i, mp)
    mid = mid_ticks(ints, fs, i)
    fs[i, F_MID] = mid
    if not simulated:
        fs[i, F_FAIR] = mid
    recentre(s.book, ints, s.orders, s.mints, i, m, mid)
    for a in range(i * m, i * m + m):
        resolve_markouts(a, t, mid, s, p)
        inv = s.mints[a, MI_INV]
        mfs[a, MF_INV_SQ_TIME] += inv * inv * dt
    fs[i, F_SAMPLED_TIME] += dt
    update_features(i, t, fs, ints, mp)
    fs[i, F_NEXT_SAMPLE] += dt


@nb.njit(cache=True, inline="always")
def next_message(i, m, pend_time):
    """When the first order message in flight of market ``i``'s ``m`` makers lands (INF:
    none)."""
    first = INF
    for a in range(i * m, i * m + m):
        first = min(first, min(pend_time[a, 0, 0], min(pend_time[a, 1, 0], pend_time[a, 2, 0])))
    return first


@nb.njit(cache=True, inline="always")
def next_refresh(i, m, mfs):
    """When the first quote refresh of market ``i``'s ``m`` makers is due."""
    first = INF
    for a in range(i * m, i * m + m):
        first = min(first, mfs[a, MF_NEXT_REFRESH])
    return first


@nb.njit(cache=True, inline="always")
def first_to_act(i, m, ints):
    """The maker of market ``i`` that acts first among makers acting at one instant (the
    others follow in turn): it rotates with the market's event count, so that none is always
    first in a queue they join together."""
    return ints[i, I_EVENTS] % m


@nb.njit(cache=True, inline="always")  # its only caller is advance: a compile less, 2 s
def advance_one(i, t_end, s: MarketState, act, p: MarketParams):
    """Advance market ``i`` to ``t_end``, each maker ``a`` with its quoting parameters
    ``act[a]``.

    Two Poisson clocks run between scheduled events: the flow, whose rate changes only with
    the regime and news (the remaining wait is then rescaled), and the cancellations, whose
    rate follows the resting volume and so changes with every event: their clock runs in
    units of expected cancellations (``left``: how many until the next one), which a rate
    change leaves as it is. ``s.rates[i]`` holds the rates in effect (``flow.event_rates``).
    """
    fs = s.fs
    ints = s.ints
    rng = s.rng
    m = int(p.mp[MP_MAKERS])
    t = fs[i, F_T]
    flow_rate = flow.event_rates(i, s, p)
    t_flow = t + R.exponential(rng, i, flow_rate)
    left = R.exponential(rng, R.cancels(i, fs), 1.0)
    t_clock = -INF  # the next clock, regime or news event; recomputed after scheduled events
    while True:
        if t_clock <= t:
            t_clock = min(
                t_end,
                fs[i, F_NEXT_SAMPLE],
                next_refresh(i, m, s.mfs),
                fs[i, F_NEXT_REGIME],
                fs[i, F_NEXT_NEWS],
                fs[i, F_NEWS_END],
            )
        # order messages can be sent by a fill (cancel on fill): always looked at
        t_s = min(t_clock, next_message(i, m, s.pend_time))
        cancel = s.rates[i, RATE_CANCEL_PER_LOT] * (ints[i, I_VOL_BID] + ints[i, I_VOL_ASK])
        if cancel * (min(t_flow, t_s) - t) > left:
            t += left / cancel
            flow.cancel_event(i, s, p)
            left = R.exponential(rng, R.cancels(i, fs), 1.0)
        elif t_flow < t_s:
            left -= cancel * (t_flow - t)
            t = t_flow
            flow.flow_event(i, t, flow_rate, s, p)
            t_flow = t + R.exponential(rng, i, flow_rate)
        else:
            left -= cancel * (t_s - t)
            t = t_s
            if t >= t_end:
                break
            # scheduled events: messages first, the makers' refreshes last
            if next_message(i, m, s.pend_time) <= t:
                first = first_to_act(i, m, ints)
                for k in range(m):
                    land_messages(i * m + (first + k) % m, t, s, p)
            if fs[i, F_NEXT_SAMPLE] <= t:
                sample_tick(i, t, s, p, True)
            flow_changed = False
            if fs[i, F_NEXT_REGIME] <= t:
                switch_regime(i, t, s, p)
                flow_changed = True
            if fs[i, F_NEWS_END] <= t:
                end_news(i, t, s, p)
                flow_changed = True
            if fs[i, F_NEXT_NEWS] <= t:
                start_news(i, t, s, p)
                flow_changed = True
            if next_refresh(i, m, s.mfs) <= t:
                first = first_to_act(i, m, ints)
                for k in range(m):
                    a = i * m + (first + k) % m
                    if s.mfs[a, MF_NEXT_REFRESH] <= t:
                        refresh(a, t, s, act, p)
                        s.mfs[a, MF_NEXT_REFRESH] += p.sp[SP_REFRESH]
            if flow_changed:
                new_flow = flow.event_rates(i, s, p)
                t_flow = t + (t_flow - t) * (flow_rate / new_flow)
                flow_rate = new_flow
    fs[i, F_T] = t_end
    fs[i, F_MID] = mid_ticks(ints, fs, i)


@nb.njit(cache=True, nogil=True, _nrt=False)
def advance(lo, hi, t_end, mask, s: MarketState, act, p: MarketParams):
    """Advance markets ``lo <= i < hi`` with ``mask[i]`` to ``t_end[i]``, with the quoting
    parameters ``act`` (a row per maker).

    Releases the GIL, so disjoint ranges run in parallel threads. Compiled without the NRT:
    under it every call of a kernel function with array arguments counts references on each
    array atomically (two thirds of the time of the default market), so nothing in here may
    allocate an array."""
    for i in range(lo, hi):
        if mask[i]:
            advance_one(i, t_end[i], s, act, p)
