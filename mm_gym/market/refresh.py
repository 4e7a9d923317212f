"""The quote refresh: the strategy's risk limits first (daily stop, stop loss, realised-spread
pause, exit), then the quoting engine's prices and sizes for the quoting parameters ``act``,
sent as order messages. And the check that ``act`` fits the window the sim was sized for.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.fills import equity
from mm_gym.market.layout import (
    F_ASK_QUOTE,
    F_AVG_COST,
    F_BID_QUOTE,
    F_MID,
    F_PAUSE_UNTIL,
    F_RS_EWMA,
    F_VAR_SHORT,
    I_BEST_ASK,
    I_BEST_BID,
    I_EXITS,
    I_HALTED,
    I_INV,
    I_RS_COUNT,
    I_SPREAD_PAUSES,
    I_STOP_LOSSES,
    INF,
    MP_TICK,
)
from mm_gym.market.messages import send_flatten, send_replace
from mm_gym.market.signals import news_flag, trend_strength
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy import quoting as Q
from mm_gym.strategy import risk
from mm_gym.strategy.layout import A_SIZE, A_SKEW, A_SPREAD_MULT, SP_PAUSE_DURATION


@nb.njit(cache=True, inline="always")  # called every few events: inlined (see ``state``)
def refresh(i, t, s: MarketState, act, p: MarketParams):
    """A quote refresh of market ``i`` with its quoting parameters ``act[i]``: risk limits
    first, then the quoting engine. Returns the engine's pause reason (0: quoting)."""
    fs = s.fs
    ints = s.ints
    mp = p.mp
    sp = p.sp
    mid = fs[i, F_MID]
    inv = ints[i, I_INV]
    flattening = s.pend_time[i, 2, 0] < INF
    if ints[i, I_HALTED] == 0 and not flattening:
        eq = equity(fs, ints, i, mp[MP_TICK])
        if risk.daily_stop_hit(eq, sp):
            ints[i, I_HALTED] = 1
            send_flatten(i, t, s, p)
            flattening = True
        elif risk.position_stop_hit(inv, fs[i, F_AVG_COST], mid, sp):
            ints[i, I_STOP_LOSSES] += 1
            send_flatten(i, t, s, p)
            flattening = True
        elif t >= fs[i, F_PAUSE_UNTIL] and risk.realised_spread_too_low(
            fs[i, F_RS_EWMA], ints[i, I_RS_COUNT], sp
        ):
            ints[i, I_SPREAD_PAUSES] += 1
            ints[i, I_RS_COUNT] = 0
            fs[i, F_PAUSE_UNTIL] = t + sp[SP_PAUSE_DURATION]
            if risk.widening_failed(act[i, A_SPREAD_MULT], inv, sp):
                ints[i, I_EXITS] += 1
                send_flatten(i, t, s, p)
                flattening = True
    bid, bid_lots, ask, ask_lots = Q.compute_quotes(
        mid,
        inv,
        act[i, A_SPREAD_MULT],
        act[i, A_SKEW],
        act[i, A_SIZE],
        trend_strength(fs, i, mp),
        sp,
    )
    size = Q.quote_size_lots(act[i, A_SIZE], sp)
    spread_bps = np.inf  # a side is empty: no spread to collapse
    if ints[i, I_BEST_BID] >= 0 and ints[i, I_BEST_ASK] >= 0 and mid > 0:
        spread_bps = (ints[i, I_BEST_ASK] - ints[i, I_BEST_BID]) / mid * 1e4
    reason = Q.pause_reason(
        size,
        news_flag(fs, i, t),
        np.sqrt(fs[i, F_VAR_SHORT]),
        spread_bps,
        t < fs[i, F_PAUSE_UNTIL],
        ints[i, I_HALTED] == 1,
        sp,
    )
    if reason != 0 or flattening:
        bid_lots = 0
        ask_lots = 0
    fs[i, F_BID_QUOTE] = bid if bid_lots > 0 else np.nan
    fs[i, F_ASK_QUOTE] = ask if ask_lots > 0 else np.nan
    if not flattening:
        send_replace(i, 0, bid, bid_lots, t, s, p)
        send_replace(i, 1, ask, ask_lots, t, s, p)
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
