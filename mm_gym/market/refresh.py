"""A maker's quote refresh: the strategy's risk limits first (daily stop, stop loss,
realised-spread pause, exit), then the quoting engine's prices and sizes for the maker's
quoting parameters ``act``, sent as order messages. And the check that ``act`` fits the
window the sim was sized for.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.book import effective_best
from mm_gym.market.fills import equity
from mm_gym.market.layout import (
    F_MID,
    F_VAR_SHORT,
    INF,
    MF_ASK_QUOTE,
    MF_AVG_COST,
    MF_BID_QUOTE,
    MF_PAUSE_UNTIL,
    MF_RS_EWMA,
    MI_EXITS,
    MI_HALTED,
    MI_INV,
    MI_RS_COUNT,
    MI_SPREAD_PAUSES,
    MI_STOP_LOSSES,
    MP_MAKERS,
    MP_TICK,
)
from mm_gym.market.messages import send_flatten, send_replace
from mm_gym.market.signals import news_flag, trend_strength
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy import quoting as Q
from mm_gym.strategy import risk
from mm_gym.strategy.layout import A_SIZE, A_SKEW, A_SPREAD_MULT, SP_PAUSE_DURATION


@nb.njit(cache=True, inline="always")  # called every few events: inlined (see ``state``)
def refresh(a, t, s: MarketState, act, p: MarketParams):
    """A quote refresh of maker ``a`` with its quoting parameters ``act[a]``: risk limits
    first, then the quoting engine. Returns the engine's pause reason (0: quoting)."""
    fs = s.fs
    ints = s.ints
    mfs = s.mfs
    mints = s.mints
    mp = p.mp
    sp = p.sp
    i = a // int(mp[MP_MAKERS])
    mid = fs[i, F_MID]
    inv = mints[a, MI_INV]
    flattening = s.pend_time[a, 2, 0] < INF
    if mints[a, MI_HALTED] == 0 and not flattening:
        eq = equity(mfs, mints, a, mid, mp[MP_TICK])
        if risk.daily_stop_hit(eq, sp):
            mints[a, MI_HALTED] = 1
            send_flatten(a, t, s, p)
            flattening = True
        elif risk.position_stop_hit(inv, mfs[a, MF_AVG_COST], mid, sp):
            mints[a, MI_STOP_LOSSES] += 1
            send_flatten(a, t, s, p)
            flattening = True
        elif t >= mfs[a, MF_PAUSE_UNTIL] and risk.realised_spread_too_low(
            mfs[a, MF_RS_EWMA], mints[a, MI_RS_COUNT], sp
        ):
            mints[a, MI_SPREAD_PAUSES] += 1
            mints[a, MI_RS_COUNT] = 0
            mfs[a, MF_PAUSE_UNTIL] = t + sp[SP_PAUSE_DURATION]
            if risk.widening_failed(act[a, A_SPREAD_MULT], inv, sp):
                mints[a, MI_EXITS] += 1
                send_flatten(a, t, s, p)
                flattening = True
    bid, bid_lots, ask, ask_lots = Q.compute_quotes(
        mid,
        inv,
        act[a, A_SPREAD_MULT],
        act[a, A_SKEW],
        act[a, A_SIZE],
        trend_strength(fs, i, mp),
        sp,
    )
    size = Q.quote_size_lots(act[a, A_SIZE], sp)
    spread_bps = np.inf  # a side is empty: no spread to collapse
    best_bid = effective_best(
        ints, s.orders, i, int(mp[MP_MAKERS]), 0, a
    )  # the book as others make it
    best_ask = effective_best(ints, s.orders, i, int(mp[MP_MAKERS]), 1, a)
    if best_bid >= 0 and best_ask >= 0 and mid > 0:
        spread_bps = (best_ask - best_bid) / mid * 1e4
    reason = Q.pause_reason(
        size,
        news_flag(fs, i, t),
        np.sqrt(fs[i, F_VAR_SHORT]),
        spread_bps,
        t < mfs[a, MF_PAUSE_UNTIL],
        mints[a, MI_HALTED] == 1,
        sp,
    )
    if reason != 0 or flattening:
        bid_lots = 0
        ask_lots = 0
    mfs[a, MF_BID_QUOTE] = bid if bid_lots > 0 else np.nan
    mfs[a, MF_ASK_QUOTE] = ask if ask_lots > 0 else np.nan
    if not flattening:
        send_replace(a, 0, bid, bid_lots, t, s, p)
        send_replace(a, 1, ask, ask_lots, t, s, p)
    return reason


@nb.njit(cache=True)
def first_param_beyond(act: np.ndarray, max_mult: float, max_skew: float) -> int:
    """Flat index of the first spread multiplier or inventory skew above its maximum, or -1."""
    for i in range(act.shape[0]):
        if act[i, A_SPREAD_MULT] > max_mult:
            return i * act.shape[1] + A_SPREAD_MULT
        if act[i, A_SKEW] > max_skew:
            return i * act.shape[1] + A_SKEW
    return -1
