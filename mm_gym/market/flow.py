"""The background order flow (numba): the arrivals of limit, noise and informed market orders,
the cancellations, and the rates of both in the regime and news in effect; with what shapes
them beyond the Poisson basics: limit orders placed around the fair value, stale quotes
pulled, runs of same-sign noise orders (split metaorders), and the trade tape of background
market orders."""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market.book import add_volume, effective_best, recentre, withdraw
from mm_gym.market.layout import (
    F_FAIR,
    F_MID,
    F_NEWS_END,
    I_BEST_ASK,
    I_BEST_BID,
    I_EVENTS,
    I_ORIGIN,
    I_REGIME,
    I_RUN_LEFT,
    I_RUN_SIGN,
    I_TAPE_N,
    I_VOL_ADDED,
    I_VOL_ASK,
    I_VOL_BID,
    I_VOL_CANCELLED,
    INF,
    MP_CANCEL_RATE,
    MP_FAIR_FRAC,
    MP_FAIR_OFFSET,
    MP_INFORMED_EDGE,
    MP_INFORMED_RATE,
    MP_LIMIT_RATE,
    MP_LIMIT_SIZE,
    MP_LOGQ_INFORMED_SIZE,
    MP_LOGQ_LIMIT_DIST,
    MP_LOGQ_LIMIT_SIZE,
    MP_LOGQ_MARKET_SIZE,
    MP_MAKERS,
    MP_MARKET_RATE,
    MP_NEWS_CANCEL,
    MP_NEWS_INFORMED,
    MP_NEWS_LIMIT,
    MP_PULL,
    MP_RUN_ALPHA,
    MP_RUN_MAX,
    N_FLOW_KINDS,
    RATE_CANCEL_PER_LOT,
    RATE_INFORMED,
    RATE_LIMIT_ASK,
    RATE_LIMIT_BID,
    RATE_NOISE_BUY,
    RATE_NOISE_SELL,
    RATE_TREND_FLOW,
    RP_CANCEL,
    RP_DRIFT,
    RP_INFORMED,
    RP_LIMIT,
    RP_MARKET,
    RP_TREND_LOGQ,
    RP_TREND_RATE,
    TAPE_INFORMED,
    TAPE_NOISE,
    TAPE_TREND,
    TP_KIND,
    TP_LOTS,
    TP_PRICE,
    TP_SIGN,
    TP_TIME,
)
from mm_gym.market.matching import market_order
from mm_gym.market.queue_model import CANCEL, PULL
from mm_gym.market.state import MarketParams, MarketState


@nb.njit(cache=True)
def fair_anchored(
    rng: np.ndarray, i: int, side: int, opp: int, d: int, fair: float, price: int, mp: np.ndarray
) -> int:
    """For a fraction ``limit_fair_fraction`` of background limit orders (no draw when it is
    1), the price ``d`` ticks behind the fair value less (bids) or plus (asks)
    ``limit_fair_offset_ticks``, never crossing the opposite best ``opp``; for the others
    ``price``, the one behind the opposite best."""
    frac = mp[MP_FAIR_FRAC]
    if frac < 1.0 and R.uniform(rng, i) >= frac:
        return price
    h = mp[MP_FAIR_OFFSET]
    if side == 0:
        return min(int(np.floor(fair - h)) - d, opp - 1)
    return max(int(np.ceil(fair + h)) + d, opp + 1)


@nb.njit(cache=True)
def pull_stale(
    book: np.ndarray, fs: np.ndarray, ints: np.ndarray, orders: np.ndarray, i: int, mp: np.ndarray
) -> bool:
    """Withdraw the background volume that the fair value has moved onto: bid levels above
    ``fair - limit_pull_ticks``, ask levels below ``fair + limit_pull_ticks`` (liquidity
    providers cancel their stale quotes at once). Returns True if any volume left."""
    pull = mp[MP_PULL]
    fair = fs[i, F_FAIR]
    pulled = False
    for side in range(2):
        while True:
            best = ints[i, I_BEST_BID] if side == 0 else ints[i, I_BEST_ASK]
            if best < 0 or (best <= fair - pull if side == 0 else best >= fair + pull):
                break
            j = best - ints[i, I_ORIGIN]
            lots = book[i, side, j]
            ints[i, I_VOL_CANCELLED] += lots
            withdraw(PULL, book, ints, orders, i, side, j, lots, 1.0, mp)  # all of each order
            pulled = True
    return pulled


@nb.njit(cache=True)
def informed_side(fair: float, bid: int, ask: int, edge: float, only: int) -> int:
    """The side an informed order takes: 1 buys when the fair value lies more than ``edge``
    ticks above the ask, 0 sells when below the bid, -1 no trade; ``only`` (0 or 1) allows
    that side alone, -1 both."""
    if only != 0 and ask >= 0 and fair > ask + edge:
        return 1
    if only != 1 and bid >= 0 and fair < bid - edge:
        return 0
    return -1


@nb.njit(cache=True)
def run_length(rng: np.ndarray, i: int, alpha: float, longest: float) -> int:
    """A run length >= 1 with ``P(L >= l) = l**-alpha`` (a discrete Pareto law), capped."""
    return int(min(np.floor(R.uniform_open(rng, i) ** (-1.0 / alpha)), longest))


@nb.njit(cache=True)
def noise_side(ints: np.ndarray, rng: np.ndarray, i: int, drawn: int, mp: np.ndarray) -> int:
    """The side a noise market order takes (1 buys, 0 sells) when orders come in runs
    (``metaorder_alpha`` > 0): it continues the current run of one sign; when the run is
    spent, ``drawn`` (a fair coin) starts a new run whose length follows ``run_length``, the
    child orders of a split metaorder."""
    if ints[i, I_RUN_LEFT] > 0:
        ints[i, I_RUN_LEFT] -= 1
        return 1 if ints[i, I_RUN_SIGN] > 0 else 0
    ints[i, I_RUN_SIGN] = 1 if drawn == 1 else -1
    ints[i, I_RUN_LEFT] = run_length(rng, i, mp[MP_RUN_ALPHA], mp[MP_RUN_MAX]) - 1
    return drawn


@nb.njit(cache=True)
def record_trade(
    tape: np.ndarray,
    ints: np.ndarray,
    i: int,
    t: float,
    hit_side: int,
    lots: int,
    price: int,
    kind: int,
) -> None:
    """Write one background market order to market ``i``'s tape (it has room for one)."""
    cap = tape.shape[1]
    if lots <= 0:
        return
    k = ints[i, I_TAPE_N] % cap
    tape[i, k, TP_TIME] = t
    tape[i, k, TP_SIGN] = 1.0 if hit_side == 1 else -1.0
    tape[i, k, TP_LOTS] = lots
    tape[i, k, TP_PRICE] = price
    tape[i, k, TP_KIND] = kind
    ints[i, I_TAPE_N] += 1


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def flow_event(i, t, total, s: MarketState, p: MarketParams):
    """An arrival of the flow (``total``: its rate): which kind, its size and distance, all
    from the flow stream (the same draws whatever the book); where it lands and what it
    takes depend on the book."""
    book = s.book
    fs = s.fs
    ints = s.ints
    orders = s.orders
    rates = s.rates
    rng = s.rng
    mp = p.mp
    rp = p.rp
    m = int(mp[MP_MAKERS])
    u = R.uniform(rng, i) * total
    ints[i, I_EVENTS] += 1
    k = 0
    while k < N_FLOW_KINDS - 1 and u >= rates[i, k]:
        u -= rates[i, k]
        k += 1
    if k <= RATE_LIMIT_ASK:  # limit order: side k, at a distance from the opposite best
        side = k
        d = R.geometric(rng, i, mp[MP_LOGQ_LIMIT_DIST]) - 1
        lots = R.geometric(rng, i, mp[MP_LOGQ_LIMIT_SIZE])
        opp = effective_best(ints, orders, i, m, 1 - side, -1)
        if opp < 0:
            opp = int(np.floor(fs[i, F_FAIR])) + (1 if side == 0 else 0)
        price = opp - 1 - d if side == 0 else opp + 1 + d
        if mp[MP_FAIR_FRAC] > 0.0:  # options are called only when on: the hot path stays lean
            price = fair_anchored(rng, i, side, opp, d, fs[i, F_FAIR], price, mp)
        if not add_volume(book, ints, i, side, price, lots):
            if ints[i, I_VOL_BID] > 0 or ints[i, I_VOL_ASK] > 0:
                return
            # an empty book restarts around the fair value, even outside the window: the
            # window moves there and the restart price is the mid until both sides are back
            recentre(book, ints, orders, s.mints, i, m, float(price))
            fs[i, F_MID] = price
            add_volume(book, ints, i, side, price, lots)
        ints[i, I_VOL_ADDED] += lots
        return
    # noise buy, noise sell, or informed (the trend flow's included): trades toward the fair value
    if k <= RATE_NOISE_SELL:
        hit_side = 1 if k == RATE_NOISE_BUY else 0
        if mp[MP_RUN_ALPHA] > 0.0:
            hit_side = noise_side(ints, rng, i, hit_side, mp)
        lots = R.geometric(rng, i, mp[MP_LOGQ_MARKET_SIZE])
        kind = TAPE_NOISE
    else:
        if u < rates[i, RATE_TREND_FLOW]:  # the regime's trend flow: informed, on its drift's side
            reg = ints[i, I_REGIME]
            lots = R.geometric(rng, i, rp[reg, RP_TREND_LOGQ])
            only = 1 if rp[reg, RP_DRIFT] > 0.0 else 0
            kind = TAPE_TREND
        else:
            lots = R.geometric(rng, i, mp[MP_LOGQ_INFORMED_SIZE])
            only = -1
            kind = TAPE_INFORMED
        ask = effective_best(ints, orders, i, m, 1, -1)
        bid = effective_best(ints, orders, i, m, 0, -1)
        hit_side = informed_side(fs[i, F_FAIR], bid, ask, mp[MP_INFORMED_EDGE], only)
        if hit_side < 0:
            return
    first = effective_best(ints, orders, i, m, hit_side, -1)
    left = market_order(i, hit_side, lots, -1, t, s, p)
    if s.tape.shape[1] > 0:
        record_trade(s.tape, ints, i, t, hit_side, lots - left, first, kind)


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def cancel_event(i, s: MarketState, p: MarketParams):
    """A background cancellation: a resting lot chosen uniformly, and a block at its level."""
    book = s.book
    ints = s.ints
    rng = s.rng
    c = R.cancels(i, s.fs)
    ints[i, I_EVENTS] += 1
    vol_bid = ints[i, I_VOL_BID]
    target = R.uniform(rng, c) * (vol_bid + ints[i, I_VOL_ASK])
    n = book.shape[2]
    origin = ints[i, I_ORIGIN]
    if target < vol_bid:
        side = 0
        j = ints[i, I_BEST_BID] - origin
        step_j = -1
    else:
        side = 1
        target -= vol_bid
        j = ints[i, I_BEST_ASK] - origin
        step_j = 1
    acc = 0.0
    while 0 <= j < n:
        acc += book[i, side, j]
        if acc > target:
            break
        j += step_j
    if j < 0 or j >= n:
        return
    level = book[i, side, j]
    lots = min(R.geometric(rng, c, p.mp[MP_LOGQ_LIMIT_SIZE]), level)
    u = R.uniform(rng, c)  # places the block in the queue: drawn whether or not we are there
    ints[i, I_VOL_CANCELLED] += lots
    withdraw(CANCEL, book, ints, s.orders, i, side, j, lots, u, p.mp)


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def event_rates(i, s: MarketState, p: MarketParams):
    """Fill ``s.rates[i]`` (the flow's kinds, then the cancel rate per lot) for the regime and
    news in effect; return the total rate of the flow."""
    fs = s.fs
    rates = s.rates
    mp = p.mp
    rp = p.rp
    reg = s.ints[i, I_REGIME]
    news = fs[i, F_NEWS_END] < INF
    lim = mp[MP_LIMIT_RATE] * rp[reg, RP_LIMIT]
    can = mp[MP_CANCEL_RATE] * rp[reg, RP_CANCEL] / mp[MP_LIMIT_SIZE]
    inf_rate = mp[MP_INFORMED_RATE] * rp[reg, RP_INFORMED]
    if news:
        lim *= mp[MP_NEWS_LIMIT]
        can *= mp[MP_NEWS_CANCEL]
        inf_rate *= mp[MP_NEWS_INFORMED]
    mkt = mp[MP_MARKET_RATE] * rp[reg, RP_MARKET]
    rates[i, RATE_LIMIT_BID] = lim
    rates[i, RATE_LIMIT_ASK] = lim
    rates[i, RATE_NOISE_BUY] = mkt
    rates[i, RATE_NOISE_SELL] = mkt
    rates[i, RATE_TREND_FLOW] = rp[reg, RP_TREND_RATE]
    rates[i, RATE_INFORMED] = rates[i, RATE_TREND_FLOW] + inf_rate
    rates[i, RATE_CANCEL_PER_LOT] = can
    return 2.0 * lim + 2.0 * mkt + rates[i, RATE_INFORMED]
