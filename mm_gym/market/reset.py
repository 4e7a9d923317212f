"""Fresh markets: the initial book, the starting regime and schedules, the volatility factors
and estimates, an empty account and no orders.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market import volatility as V
from mm_gym.market.book import add_volume
from mm_gym.market.fair_value import draw_next_news, draw_next_regime
from mm_gym.market.layout import (
    F_FAIR,
    F_FEAT_MID,
    F_MID,
    F_NEWS_END,
    F_NEXT_FEATURE,
    F_NEXT_SAMPLE,
    F_SV_DAY0,
    F_T,
    F_VAR_LONG,
    F_VAR_SHORT,
    I_BEST_ASK,
    I_BEST_BID,
    I_ORIGIN,
    I_REGIME,
    INF,
    MF_ASK_QUOTE,
    MF_BID_QUOTE,
    MF_NEXT_REFRESH,
    MF_PAUSE_UNTIL,
    MP_BPS_PER_TICK,
    MP_FEATURE_DT,
    MP_INIT_DEPTH,
    MP_INIT_LEVELS,
    MP_INIT_SPREAD,
    MP_MAKERS,
    MP_PIN_REGIME,
    MP_PRICE0,
    MP_SAMPLE_DT,
    RP_VOL,
    RP_WEIGHT,
)
from mm_gym.market.state import MarketParams, MarketState


@nb.njit(cache=True)
def starting_variance(fs, i, t, mp, rp):
    """Where the volatility estimates start (bps^2 per s): the market's unconditional regime
    variance (mean over the regimes' entry weights), times the intraday pattern's level at
    the time of day when it is on. It reads no hidden state (not the starting regime, nor
    the calm/busy state or factors), so a first observation says nothing of the regime."""
    total = 0.0
    var = 0.0
    for k in range(rp.shape[0]):
        total += rp[k, RP_WEIGHT]
        var += rp[k, RP_WEIGHT] * rp[k, RP_VOL] * rp[k, RP_VOL]
    var = var / total if total > 0.0 else rp[0, RP_VOL] * rp[0, RP_VOL]
    bps = mp[MP_BPS_PER_TICK]
    var *= bps * bps
    if V.intraday(mp):
        level = V.intraday_level(fs[i, F_SV_DAY0] + t, mp)
        var *= level * level
    return var


@nb.njit(cache=True, inline="always")  # its only caller is reset_market
def reset_maker(a, t0, s: MarketState):
    """An empty account for maker ``a``: no orders, no messages, no fills; its first quote
    refresh at ``t0``."""
    s.mfs[a, :] = 0.0
    s.mints[a, :] = 0
    s.orders[a, :, :] = 0
    s.order_time[a, :] = 0.0
    s.pend[a] = 0
    s.pend_time[a] = INF
    s.step_stats[a, :] = 0.0
    s.mq_head[a, :] = 0
    s.mq_count[a, :] = 0
    s.mfs[a, MF_NEXT_REFRESH] = t0
    s.mfs[a, MF_PAUSE_UNTIL] = -INF
    s.mfs[a, MF_BID_QUOTE] = np.nan
    s.mfs[a, MF_ASK_QUOTE] = np.nan


@nb.njit(cache=True, inline="always")  # its only caller is reset_markets: a compile less
def reset_market(i, t0, s: MarketState, p: MarketParams):
    """Lay out a fresh market ``i``: initial book, regime, schedules, empty accounts. The fill
    logs, markouts and tape keep their rows (the counts that index them start again)."""
    book = s.book
    fs = s.fs
    ints = s.ints
    mp = p.mp
    rp = p.rp
    n = book.shape[2]
    p0 = int(mp[MP_PRICE0])
    fs[i, :] = 0.0
    ints[i, :] = 0
    book[i, :, :] = 0
    m = int(mp[MP_MAKERS])
    for a in range(i * m, i * m + m):
        reset_maker(a, t0, s)
    origin = p0 - n // 2
    ints[i, I_ORIGIN] = origin
    ints[i, I_BEST_BID] = -1
    ints[i, I_BEST_ASK] = -1
    depth = int(mp[MP_INIT_DEPTH])
    spread = int(mp[MP_INIT_SPREAD])
    if depth > 0:
        for k in range(int(mp[MP_INIT_LEVELS])):
            add_volume(book, ints, i, 0, p0 - spread // 2 - k, depth)
            add_volume(book, ints, i, 1, p0 + spread - spread // 2 + k, depth)
    fs[i, F_T] = t0
    fs[i, F_FAIR] = p0
    fs[i, F_MID] = p0
    fs[i, F_FEAT_MID] = p0
    fs[i, F_NEXT_SAMPLE] = t0 + mp[MP_SAMPLE_DT]
    fs[i, F_NEXT_FEATURE] = t0 + mp[MP_FEATURE_DT]
    fs[i, F_NEWS_END] = INF
    # start the volatility estimates at the regime's level, so features are usable at once
    pin = int(mp[MP_PIN_REGIME])
    if pin >= 0:
        ints[i, I_REGIME] = pin
    else:
        total = 0.0
        for k in range(rp.shape[0]):
            total += rp[k, RP_WEIGHT]
        u = R.uniform(s.rng, R.exo(i, fs)) * total
        reg = rp.shape[0] - 1
        for k in range(rp.shape[0]):
            if u < rp[k, RP_WEIGHT]:
                reg = k
                break
            u -= rp[k, RP_WEIGHT]
        ints[i, I_REGIME] = reg
    draw_next_regime(i, t0, s, p)
    draw_next_news(i, t0, s, p)
    V.init_vol_factors(i, fs, s.rng, R.exo(i, fs), mp)
    var0 = starting_variance(fs, i, t0, mp, rp)
    fs[i, F_VAR_SHORT] = var0
    fs[i, F_VAR_LONG] = var0


@nb.njit(cache=True, _nrt=False)
def reset_markets(mask, s: MarketState, p: MarketParams):
    """Reset every market with ``mask[i]``.

    Compiled without the NRT, as ``event_loop.advance``: a function both reach
    (``book.add_volume``, in the event loop's hot path) is compiled once, by whichever calls
    it first, and inherits that caller's NRT setting; compiled under the NRT, it would count
    references on its array arguments, atomically, at every call in the event loop too."""
    for i in range(s.fs.shape[0]):
        if mask[i]:
            reset_market(i, 0.0, s, p)
