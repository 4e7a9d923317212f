"""The batched event loop: background flow, regimes, news, the agent's orders and quoting.

``advance`` moves every market of the batch to ``t_end`` (in parallel over markets). Within a
market, time runs event by event: Poisson background events (limit orders, noise and informed
market orders from the flow clock; cancellations from their own clock) happen between
scheduled events (the sampling clock, quote refreshes, order messages landing after latency,
regime switches, news).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import flow
from mm_gym.market import rng as R
from mm_gym.market import volatility as V
from mm_gym.market.book import (
    add_volume,
    effective_best,
    lots_ahead_removed,
    recentre,
    remove_volume,
)
from mm_gym.market.layout import (
    A_SIZE,
    A_SKEW,
    A_SPREAD_MULT,
    F_ASK_QUOTE,
    F_AVG_COST,
    F_BID_QUOTE,
    F_CASH,
    F_FAIR,
    F_FEAT_MID,
    F_FEES,
    F_INV_SQ_TIME,
    F_MAX_ABS_INV,
    F_MID,
    F_MO1,
    F_MOW1,
    F_NEWS_ANNOUNCED_AT,
    F_NEWS_END,
    F_NEXT_FEATURE,
    F_NEXT_NEWS,
    F_NEXT_REFRESH,
    F_NEXT_REGIME,
    F_NEXT_SAMPLE,
    F_PAUSE_UNTIL,
    F_QUOTING_TIME,
    F_RS_EWMA,
    F_SAMPLED_TIME,
    F_SPREAD_CAPTURED,
    F_SV_DAY0,
    F_T,
    F_TREND,
    F_VAR_LONG,
    F_VAR_SHORT,
    F_VOLUME,
    I_BEST_ASK,
    I_BEST_BID,
    I_EVENTS,
    I_EXITS,
    I_FEATURE_TICKS,
    I_HALTED,
    I_INV,
    I_LOG_DROPPED,
    I_LOG_N,
    I_MO_DROPPED,
    I_N_FILLS,
    I_N_MAKER_FILLS,
    I_NEWS_COUNT,
    I_NEWS_SIGN,
    I_ORIGIN,
    I_QUOTES_OUTSIDE,
    I_QUOTES_SENT,
    I_REGIME,
    I_RS_COUNT,
    I_SPREAD_PAUSES,
    I_STOP_LOSSES,
    I_VOL_ADDED,
    I_VOL_ASK,
    I_VOL_BID,
    I_VOL_CANCELLED,
    I_VOL_TRADED,
    L_MAKER,
    L_MID,
    L_MO1,
    L_MO10,
    L_MO60,
    L_PRICE,
    L_QUEUE_WAIT,
    L_SIDE,
    L_SIZE,
    L_TIME,
    MARKOUT_HORIZONS,
    MP_BPS_PER_TICK,
    MP_CANCEL_RATE,
    MP_FAIR_FRAC,
    MP_FEATURE_DT,
    MP_HL_TREND,
    MP_HL_VOL_LONG,
    MP_HL_VOL_SHORT,
    MP_INFORMED_EDGE,
    MP_INFORMED_RATE,
    MP_INIT_DEPTH,
    MP_INIT_LEVELS,
    MP_INIT_SPREAD,
    MP_LATENCY,
    MP_LIMIT_RATE,
    MP_LIMIT_SIZE,
    MP_LOGQ_INFORMED_SIZE,
    MP_LOGQ_LIMIT_DIST,
    MP_LOGQ_LIMIT_SIZE,
    MP_LOGQ_MARKET_SIZE,
    MP_MAKER_FEE,
    MP_MARKET_RATE,
    MP_NEWS_ANNOUNCED,
    MP_NEWS_CANCEL,
    MP_NEWS_DURATION,
    MP_NEWS_INFORMED,
    MP_NEWS_JUMP,
    MP_NEWS_LEAD,
    MP_NEWS_LIMIT,
    MP_NEWS_PULL,
    MP_NEWS_RATE,
    MP_PIN_REGIME,
    MP_PRICE0,
    MP_PULL,
    MP_RUN_ALPHA,
    MP_SAMPLE_DT,
    MP_TAKER_FEE,
    MP_TICK,
    MQ_LOG,
    MQ_MAKER,
    MQ_MID,
    MQ_PRICE,
    MQ_SIGNED_SIZE,
    MQ_TIME,
    O_ACTIVE,
    O_AHEAD,
    O_ORIG_SIZE,
    O_PRICE,
    O_SIZE,
    P_PRICE,
    P_SIZE,
    R_CANCEL,
    R_DRIFT,
    R_DURATION,
    R_INFORMED,
    R_LIMIT,
    R_MARKET,
    R_TREND_LOGQ,
    R_TREND_RATE,
    R_VOL,
    R_WEIGHT,
    S_BUY_LOTS,
    S_FEES,
    S_FILLS,
    S_QUOTING_TIME,
    S_SELL_LOTS,
    S_SPREAD_CAPTURED,
    TAPE_INFORMED,
    TAPE_NOISE,
    TAPE_TREND,
)
from mm_gym.market.regimes import NEWS
from mm_gym.strategy import quoting as Q
from mm_gym.strategy import risk
from mm_gym.strategy.layout import (
    SP_CANCEL_ON_FILL,
    SP_MAX_INV,
    SP_PAUSE_DURATION,
    SP_REFRESH,
    SP_RS_ALPHA,
)

INF = 1e18


# Three random streams per market (``rng[i]``, ``rng[N + i]``, ``rng[2N + i]``): the flow
# (arrival times, kinds, sizes and distances of limit, market and informed orders); the
# exogenous path; and the cancellations. The agent never advances the first two, so two
# policies on the same seed see the same arrivals and the same regimes, news and fair value.
@nb.njit(cache=True, inline="always")
def exo(i: int, fs: np.ndarray) -> int:
    """Index of market ``i``'s second random stream, which drives only what the agent cannot
    change (regime switches, news, the fair value), so those are the same under any policy."""
    return i + fs.shape[0]


@nb.njit(cache=True, inline="always")
def cancels(i: int, fs: np.ndarray) -> int:
    """Index of market ``i``'s third random stream: cancellations, whose rate, level and queue
    share depend on the book, which the agent's orders change."""
    return i + 2 * fs.shape[0]


LN2 = 0.6931471805599453


# ----------------------------------------------------------------------------- accounting
@nb.njit(cache=True)
def mid_ticks(ints: np.ndarray, fs: np.ndarray, i: int) -> float:
    """Mid of the background book in ticks (the last mid while a side is empty)."""
    bb = ints[i, I_BEST_BID]
    ba = ints[i, I_BEST_ASK]
    if bb >= 0 and ba >= 0:
        return 0.5 * (bb + ba)
    return fs[i, F_MID]


@nb.njit(cache=True)
def equity(fs: np.ndarray, ints: np.ndarray, i: int, tick: float) -> float:
    """Mark-to-market equity: cash + inventory * mid (initial cash is zero)."""
    return fs[i, F_CASH] + ints[i, I_INV] * fs[i, F_MID] * tick


@nb.njit(cache=True)
def agent_fill(
    i,
    side,
    price,
    lots,
    maker,
    mid,
    t,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    mp,
    sp,
):
    """Book one fill of the agent: ``side`` +1 bought / -1 sold, ``price`` in ticks, with the
    book's ``mid`` (ticks) when the order that filled arrived."""
    tick = mp[MP_TICK]
    notional = price * tick * lots
    fee = notional * (mp[MP_MAKER_FEE] if maker else mp[MP_TAKER_FEE])
    fs[i, F_CASH] -= side * notional + fee
    fs[i, F_FEES] += fee
    inv = ints[i, I_INV]
    new_inv = inv + side * lots
    if inv == 0 or (inv > 0) == (side > 0):  # opening or adding
        fs[i, F_AVG_COST] = (fs[i, F_AVG_COST] * abs(inv) + price * lots) / abs(new_inv)
    elif (new_inv > 0) != (inv > 0) and new_inv != 0:  # flipped through zero
        fs[i, F_AVG_COST] = price
    elif new_inv == 0:
        fs[i, F_AVG_COST] = 0.0
    ints[i, I_INV] = new_inv
    if abs(new_inv) > fs[i, F_MAX_ABS_INV]:
        fs[i, F_MAX_ABS_INV] = abs(new_inv)
    ints[i, I_N_FILLS] += 1
    fs[i, F_VOLUME] += lots
    step[i, S_FILLS] += 1
    if side > 0:
        step[i, S_BUY_LOTS] += lots
    else:
        step[i, S_SELL_LOTS] += lots
    step[i, S_FEES] += fee
    if maker:
        ints[i, I_N_MAKER_FILLS] += 1
        captured = side * (mid - price) * tick * lots
        fs[i, F_SPREAD_CAPTURED] += captured
        step[i, S_SPREAD_CAPTURED] += captured
    log_idx = -1
    cap = log.shape[1]
    if ints[i, I_LOG_N] < cap:
        log_idx = ints[i, I_LOG_N]
        ints[i, I_LOG_N] += 1
        log[i, log_idx, L_TIME] = t
        log[i, log_idx, L_SIDE] = side
        log[i, log_idx, L_PRICE] = price * tick
        log[i, log_idx, L_SIZE] = lots
        log[i, log_idx, L_QUEUE_WAIT] = t - order_time[i, 0 if side > 0 else 1] if maker else 0.0
        log[i, log_idx, L_MID] = mid * tick
        log[i, log_idx, L_MAKER] = 1.0 if maker else 0.0
        log[i, log_idx, L_MO1] = np.nan
        log[i, log_idx, L_MO10] = np.nan
        log[i, log_idx, L_MO60] = np.nan
    else:
        ints[i, I_LOG_DROPPED] += 1
    qcap = mq.shape[2]
    untracked = False
    for h in range(3):
        if mq_count[i, h] < qcap:
            k = (mq_head[i, h] + mq_count[i, h]) % qcap
            mq[i, h, k, MQ_TIME] = t
            mq[i, h, k, MQ_SIGNED_SIZE] = side * lots
            mq[i, h, k, MQ_MID] = mid
            mq[i, h, k, MQ_PRICE] = price
            mq[i, h, k, MQ_LOG] = log_idx
            mq[i, h, k, MQ_MAKER] = 1.0 if maker else 0.0
            mq_count[i, h] += 1
        else:
            untracked = True
    if untracked:
        ints[i, I_MO_DROPPED] += 1
    if maker and sp[SP_CANCEL_ON_FILL] > 0.5:
        send_replace(i, 1 if side > 0 else 0, 0, 0, t, orders, pend, pend_time, ints, mp)


@nb.njit(cache=True, inline="always")  # inlined: passing its arrays cost more than the work
def resolve_markouts(i, t, fs, ints, log, mq, mq_head, mq_count, mp, sp):
    """Close the markouts whose horizon has passed: mid move since the fill, signed by side."""
    tick = mp[MP_TICK]
    mid = fs[i, F_MID]
    qcap = mq.shape[2]
    for h in range(3):
        horizon = MARKOUT_HORIZONS[h]
        while mq_count[i, h] > 0:
            k = mq_head[i, h]
            if mq[i, h, k, MQ_TIME] + horizon > t:
                break
            signed = mq[i, h, k, MQ_SIGNED_SIZE]
            move = (mid - mq[i, h, k, MQ_MID]) * (1.0 if signed > 0 else -1.0)
            fs[i, F_MO1 + h] += move * tick * abs(signed)
            fs[i, F_MOW1 + h] += abs(signed)
            li = int(mq[i, h, k, MQ_LOG])
            if li >= 0:
                log[i, li, L_MO1 + h] = move * tick
            if h == 0 and mq[i, h, k, MQ_MAKER] > 0.5:  # realised spread of a quote's fill, bps
                side = 1.0 if signed > 0 else -1.0
                rs = side * (mid - mq[i, h, k, MQ_PRICE]) / mid * 1e4
                if ints[i, I_RS_COUNT] == 0:
                    fs[i, F_RS_EWMA] = rs
                else:
                    a = sp[SP_RS_ALPHA]
                    fs[i, F_RS_EWMA] = (1.0 - a) * fs[i, F_RS_EWMA] + a * rs
                ints[i, I_RS_COUNT] += 1
            mq_head[i, h] = (k + 1) % qcap
            mq_count[i, h] -= 1


# ----------------------------------------------------------------------------- matching
@nb.njit(cache=True)
def market_order(
    i,
    hit_side,
    lots,
    agent_taker,
    t,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    mp,
    sp,
):
    """A market order of ``lots`` that takes side ``hit_side`` (0: sells into bids, 1: buys
    from asks), walking the book. A background order fills the agent's resting order by
    price-time priority; an agent order (``agent_taker``) skips the agent's own quotes.
    Returns the lots left unfilled (the window ran out of volume)."""
    remaining = lots
    direction = -1 if hit_side == 0 else 1
    if agent_taker:
        price = ints[i, I_BEST_BID] if hit_side == 0 else ints[i, I_BEST_ASK]
    else:
        price = effective_best(ints, orders, i, hit_side)
    if price < 0:
        return remaining
    mid = mid_ticks(ints, fs, i)  # before the order walks the book
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
            take = min(remaining, orders[i, hit_side, O_AHEAD])
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
            if (
                agent_taker
                and orders[i, hit_side, O_ACTIVE] == 1
                and orders[i, hit_side, O_PRICE] == price
            ):
                # the agent's own quote is skipped: the queue in front of it is taken first
                from_ahead = min(take, orders[i, hit_side, O_AHEAD])
            remove_volume(book, ints, orders, i, hit_side, j, take, from_ahead)
            if agent_taker:
                agent_lots = take
        if agent_lots > 0:  # maker: the agent's quote was hit; taker: the agent's order took
            maker_side = 1 if hit_side == 0 else -1
            agent_fill(
                i,
                -maker_side if agent_taker else maker_side,
                price,
                agent_lots,
                not agent_taker,
                mid,
                t,
                fs,
                ints,
                orders,
                order_time,
                pend,
                pend_time,
                step,
                log,
                mq,
                mq_head,
                mq_count,
                mp,
                sp,
            )
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


# ----------------------------------------------------------------------------- background
# rates[]: limit bid, limit ask, market buy, market sell, informed, then the cancel rate per lot
R_FLOW = 5  # number of flow kinds (rates[0..4]: limit bid/ask, noise buy/sell, informed)
R_CANCEL_PER_LOT = 5
R_TREND_FLOW = 6  # the part of rates[4] that is the regime's trend flow
N_RATES = R_TREND_FLOW + 1  # length of rates[]


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def flow_event(
    i,
    t,
    rates,
    total,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    tape,
    rng,
    rp,
    mp,
    sp,
):
    """An arrival of the flow: which kind, its size and distance, all from the flow stream
    (the same draws whatever the book); where it lands and what it takes depend on the book."""
    u = R.uniform(rng, i) * total
    ints[i, I_EVENTS] += 1
    k = 0
    while k < R_FLOW - 1 and u >= rates[k]:
        u -= rates[k]
        k += 1
    if k <= 1:  # limit order: side k, at a distance from the opposite best
        side = k
        d = R.geometric(rng, i, mp[MP_LOGQ_LIMIT_DIST]) - 1
        lots = R.geometric(rng, i, mp[MP_LOGQ_LIMIT_SIZE])
        opp = effective_best(ints, orders, i, 1 - side)
        if opp < 0:
            opp = int(np.floor(fs[i, F_FAIR])) + (1 if side == 0 else 0)
        price = opp - 1 - d if side == 0 else opp + 1 + d
        if mp[MP_FAIR_FRAC] > 0.0:  # options are called only when on: the hot path stays lean
            price = flow.fair_anchored(rng, i, side, opp, d, fs[i, F_FAIR], price, mp)
        if not add_volume(book, ints, i, side, price, lots):
            if ints[i, I_VOL_BID] > 0 or ints[i, I_VOL_ASK] > 0:
                return
            # an empty book restarts around the fair value, even outside the window: the
            # window moves there and the restart price is the mid until both sides are back
            recentre(book, ints, orders, i, float(price))
            fs[i, F_MID] = price
            add_volume(book, ints, i, side, price, lots)
        ints[i, I_VOL_ADDED] += lots
        return
    # 2 noise buy, 3 noise sell, 4 trend flow or informed: trades toward the fair value
    if k <= 3:
        hit_side = 1 if k == 2 else 0
        if mp[MP_RUN_ALPHA] > 0.0:
            hit_side = flow.noise_side(ints, rng, i, hit_side, mp)
        lots = R.geometric(rng, i, mp[MP_LOGQ_MARKET_SIZE])
        kind = TAPE_NOISE
    else:
        if u < rates[R_TREND_FLOW]:  # the regime's trend flow: informed, on its drift's side
            reg = ints[i, I_REGIME]
            lots = R.geometric(rng, i, rp[reg, R_TREND_LOGQ])
            only = 1 if rp[reg, R_DRIFT] > 0.0 else 0
            kind = TAPE_TREND
        else:
            lots = R.geometric(rng, i, mp[MP_LOGQ_INFORMED_SIZE])
            only = -1
            kind = TAPE_INFORMED
        ask = effective_best(ints, orders, i, 1)
        bid = effective_best(ints, orders, i, 0)
        hit_side = flow.informed_side(fs[i, F_FAIR], bid, ask, mp[MP_INFORMED_EDGE], only)
        if hit_side < 0:
            return
    first = effective_best(ints, orders, i, hit_side)
    left = market_order(
        i,
        hit_side,
        lots,
        False,
        t,
        book,
        fs,
        ints,
        orders,
        order_time,
        pend,
        pend_time,
        step,
        log,
        mq,
        mq_head,
        mq_count,
        mp,
        sp,
    )
    if tape.shape[1] > 0:
        flow.record_trade(tape, ints, i, t, hit_side, lots - left, first, kind)


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def cancel_event(i, book, fs, ints, orders, rng, mp):
    """A background cancellation: a resting lot chosen uniformly, and a block at its level."""
    c = cancels(i, fs)
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
    lots = min(R.geometric(rng, c, mp[MP_LOGQ_LIMIT_SIZE]), level)
    ahead = lots_ahead_removed(orders, i, side, origin + j, level, lots, R.uniform(rng, c))
    ints[i, I_VOL_CANCELLED] += lots
    remove_volume(book, ints, orders, i, side, j, lots, ahead)


@nb.njit(cache=True, inline="always")  # hot path: inlined into the event loop
def event_rates(i, fs, ints, rp, mp, rates):
    """Fill ``rates`` (flow kinds, then the cancel rate per lot) for the regime and news in
    effect; return the total rate of the flow."""
    reg = ints[i, I_REGIME]
    news = fs[i, F_NEWS_END] < INF
    lim = mp[MP_LIMIT_RATE] * rp[reg, R_LIMIT]
    can = mp[MP_CANCEL_RATE] * rp[reg, R_CANCEL] / mp[MP_LIMIT_SIZE]
    inf_rate = mp[MP_INFORMED_RATE] * rp[reg, R_INFORMED]
    if news:
        lim *= mp[MP_NEWS_LIMIT]
        can *= mp[MP_NEWS_CANCEL]
        inf_rate *= mp[MP_NEWS_INFORMED]
    mkt = mp[MP_MARKET_RATE] * rp[reg, R_MARKET]
    rates[0] = lim
    rates[1] = lim
    rates[2] = mkt
    rates[3] = mkt
    rates[R_TREND_FLOW] = rp[reg, R_TREND_RATE]
    rates[4] = rates[R_TREND_FLOW] + inf_rate
    rates[R_CANCEL_PER_LOT] = can
    return 2.0 * lim + 2.0 * mkt + rates[4]


# ----------------------------------------------------------------------------- scheduled
@nb.njit(cache=True)
def draw_next_regime(i, t, fs, ints, rng, rp, mp):
    """Schedule the next switch of the regime chain (never, when the regime is pinned)."""
    if mp[MP_PIN_REGIME] >= 0:
        fs[i, F_NEXT_REGIME] = INF
    else:
        fs[i, F_NEXT_REGIME] = t + R.exponential(
            rng, exo(i, fs), 1.0 / rp[ints[i, I_REGIME], R_DURATION]
        )


@nb.njit(cache=True)
def switch_regime(i, t, fs, ints, rng, rp, mp):
    """Move the chain to another regime, drawn by weight among the others."""
    cur = ints[i, I_REGIME]
    total = 0.0
    for k in range(rp.shape[0]):
        if k != cur:
            total += rp[k, R_WEIGHT]
    if total > 0.0:
        u = R.uniform(rng, exo(i, fs)) * total
        for k in range(rp.shape[0]):
            if k == cur:
                continue
            if u < rp[k, R_WEIGHT]:
                ints[i, I_REGIME] = k
                break
            u -= rp[k, R_WEIGHT]
    draw_next_regime(i, t, fs, ints, rng, rp, mp)


@nb.njit(cache=True)
def draw_next_news(i, t, fs, rng, mp):
    """Schedule the next news event and, for an announced one, when its flag goes up."""
    if mp[MP_NEWS_RATE] <= 0.0:
        fs[i, F_NEXT_NEWS] = INF
        fs[i, F_NEWS_ANNOUNCED_AT] = INF
        return
    nt = t + R.exponential(rng, exo(i, fs), mp[MP_NEWS_RATE])
    fs[i, F_NEXT_NEWS] = nt
    if R.uniform(rng, exo(i, fs)) < mp[MP_NEWS_ANNOUNCED]:
        fs[i, F_NEWS_ANNOUNCED_AT] = max(nt - mp[MP_NEWS_LEAD], t)
    else:
        fs[i, F_NEWS_ANNOUNCED_AT] = INF


@nb.njit(cache=True)
def start_news(i, t, book, fs, ints, orders, rng, mp):
    """A news event: the fair value jumps, liquidity is pulled, informed flow bursts."""
    sign = 1.0 if R.uniform(rng, exo(i, fs)) < 0.5 else -1.0
    fs[i, F_FAIR] += sign * R.exponential(rng, exo(i, fs), 1.0 / max(mp[MP_NEWS_JUMP], 1e-12))
    ints[i, I_NEWS_SIGN] = int(sign)
    ints[i, I_NEWS_COUNT] += 1
    fs[i, F_NEWS_END] = t + mp[MP_NEWS_DURATION]
    fs[i, F_NEXT_NEWS] = INF
    pull = mp[MP_NEWS_PULL]
    if pull > 0.0:
        for side in range(2):
            for j in range(book.shape[2]):
                level = book[i, side, j]
                if level > 0:
                    lots = int(level * pull)
                    if lots > 0:
                        ahead = 0
                        if (
                            orders[i, side, O_ACTIVE] == 1
                            and orders[i, side, O_PRICE] == ints[i, I_ORIGIN] + j
                        ):
                            ahead = int(orders[i, side, O_AHEAD] * pull)
                        ints[i, I_VOL_CANCELLED] += lots
                        remove_volume(book, ints, orders, i, side, j, lots, ahead)
                        if (
                            orders[i, side, O_ACTIVE] == 1
                            and orders[i, side, O_AHEAD] > book[i, side, j]
                            and orders[i, side, O_PRICE] == ints[i, I_ORIGIN] + j
                        ):
                            orders[i, side, O_AHEAD] = book[i, side, j]


@nb.njit(cache=True)
def end_news(i, t, fs, rng, mp):
    """News effects end; the next news is drawn."""
    fs[i, F_NEWS_END] = INF
    draw_next_news(i, t, fs, rng, mp)


@nb.njit(cache=True, inline="always")  # inlined: passing its arrays cost more than the work
def sample_tick(i, t, book, fs, ints, orders, log, mq, mq_head, mq_count, rng, rp, mp, sp):
    """The sampling clock: fair-value diffusion, stale quotes pulled, markouts, time
    integrals, features."""
    dt = mp[MP_SAMPLE_DT]
    reg = ints[i, I_REGIME]
    vol = rp[reg, R_VOL]
    if V.vol_enabled(mp):
        V.step_vol_factors(i, fs, rng, exo(i, fs), mp)
        vol *= V.vol_multiplier(i, t, fs, mp)
    fs[i, F_FAIR] += rp[reg, R_DRIFT] * dt + vol * np.sqrt(dt) * R.normal(rng, exo(i, fs))
    if not np.isnan(mp[MP_PULL]):
        flow.pull_stale(book, fs, ints, orders, i, mp)
    mid = mid_ticks(ints, fs, i)
    fs[i, F_MID] = mid
    recentre(book, ints, orders, i, mid)
    resolve_markouts(i, t, fs, ints, log, mq, mq_head, mq_count, mp, sp)
    inv = ints[i, I_INV]
    fs[i, F_INV_SQ_TIME] += inv * inv * dt
    fs[i, F_SAMPLED_TIME] += dt
    if t >= fs[i, F_NEXT_FEATURE]:
        fdt = mp[MP_FEATURE_DT]
        r = (mid - fs[i, F_FEAT_MID]) / max(mid, 1.0) * 1e4  # bps
        a_s = 1.0 - np.exp(-LN2 * fdt / mp[MP_HL_VOL_SHORT])
        a_l = 1.0 - np.exp(-LN2 * fdt / mp[MP_HL_VOL_LONG])
        a_t = 1.0 - np.exp(-LN2 * fdt / mp[MP_HL_TREND])
        fs[i, F_VAR_SHORT] += a_s * (r * r / fdt - fs[i, F_VAR_SHORT])
        fs[i, F_VAR_LONG] += a_l * (r * r / fdt - fs[i, F_VAR_LONG])
        fs[i, F_TREND] += a_t * (r / fdt - fs[i, F_TREND])
        fs[i, F_FEAT_MID] = mid
        fs[i, F_NEXT_FEATURE] += fdt
        ints[i, I_FEATURE_TICKS] += 1


@nb.njit(cache=True)
def trend_strength(fs: np.ndarray, i: int, mp: np.ndarray) -> float:
    """Trend EWMA over its standard error under no drift: about N(0, 1) when ranging."""
    vol = np.sqrt(fs[i, F_VAR_LONG])
    if vol <= 0.0:
        return 0.0
    return fs[i, F_TREND] / (vol * np.sqrt(LN2 / (2.0 * mp[MP_HL_TREND])))


@nb.njit(cache=True)
def news_flag(fs: np.ndarray, i: int, t: float) -> bool:
    """The observable news flag: an announced news is near or in effect."""
    return t >= fs[i, F_NEWS_ANNOUNCED_AT]


@nb.njit(cache=True)
def regime_label(fs: np.ndarray, ints: np.ndarray, i: int) -> int:
    """The hidden regime of market ``i``, or ``NEWS`` while a news event is in effect."""
    return NEWS if fs[i, F_NEWS_END] < INF else ints[i, I_REGIME]


@nb.njit(cache=True)
def signals(fs, ints, mp, label, trend, news):
    """Per market: the regime label, the trend strength and the news flag (for Python views)."""
    for i in range(fs.shape[0]):
        label[i] = regime_label(fs, ints, i)
        trend[i] = trend_strength(fs, i, mp)
        news[i] = news_flag(fs, i, fs[i, F_T])


@nb.njit(cache=True)
def in_flight(i: int, slot: int, pend_time: np.ndarray) -> int:
    """Messages in flight on ``slot`` (0 bid, 1 ask, 2 market orders)."""
    k = 0
    while k < pend_time.shape[2] and pend_time[i, slot, k] < INF:
        k += 1
    return k


@nb.njit(cache=True)
def send(i, slot, price, lots, t, pend, pend_time, mp):
    """Queue a message on ``slot``: it lands after the latency, after those already in flight
    (the queues are sized for the most that can be in flight: ``sim.messages_in_flight``)."""
    k = in_flight(i, slot, pend_time)
    if k == pend_time.shape[2]:
        raise RuntimeError("order message queue full")
    pend[i, slot, k, P_PRICE] = price
    pend[i, slot, k, P_SIZE] = lots
    pend_time[i, slot, k] = t + mp[MP_LATENCY]


@nb.njit(cache=True)
def receive(i, slot, pend, pend_time):
    """Take the first message off ``slot``: (price, lots)."""
    price = pend[i, slot, 0, P_PRICE]
    lots = pend[i, slot, 0, P_SIZE]
    k = 1
    while k < pend_time.shape[2] and pend_time[i, slot, k] < INF:
        pend[i, slot, k - 1, P_PRICE] = pend[i, slot, k, P_PRICE]
        pend[i, slot, k - 1, P_SIZE] = pend[i, slot, k, P_SIZE]
        pend_time[i, slot, k - 1] = pend_time[i, slot, k]
        k += 1
    pend_time[i, slot, k - 1] = INF
    return price, lots


@nb.njit(cache=True)
def send_replace(i, side, price, lots, t, orders, pend, pend_time, ints, mp):
    """Ask for the order on ``side`` to become (price, lots); lots 0 cancels. Nothing is sent
    when that is what the order will be once the messages in flight have landed."""
    k = in_flight(i, side, pend_time)
    if k > 0:
        last_lots = pend[i, side, k - 1, P_SIZE]
        if lots == 0 and last_lots == 0:
            return
        if lots > 0 and last_lots == lots and pend[i, side, k - 1, P_PRICE] == price:
            return
    elif lots == 0:
        if orders[i, side, O_ACTIVE] == 0:
            return
    elif (
        orders[i, side, O_ACTIVE] == 1
        and orders[i, side, O_PRICE] == price
        and orders[i, side, O_SIZE] == lots
    ):
        return
    send(i, side, price if lots > 0 else -1, lots, t, pend, pend_time, mp)
    ints[i, I_QUOTES_SENT] += 1


@nb.njit(cache=True)
def send_flatten(i, t, orders, pend, pend_time, ints, mp):
    """Cancel both quotes and send a market order for the whole inventory."""
    for side in range(2):
        send_replace(i, side, 0, 0, t, orders, pend, pend_time, ints, mp)
    inv = ints[i, I_INV]
    if inv != 0:
        send(i, 2, 0, -inv, t, pend, pend_time, mp)


@nb.njit(cache=True)
def refresh(i, t, fs, ints, orders, pend, pend_time, act, mp, sp):
    """A quote refresh: risk limits first, then the quoting engine."""
    mid = fs[i, F_MID]
    inv = ints[i, I_INV]
    flattening = pend_time[i, 2, 0] < INF
    if ints[i, I_HALTED] == 0 and not flattening:
        eq = equity(fs, ints, i, mp[MP_TICK])
        if risk.daily_stop_hit(eq, sp):
            ints[i, I_HALTED] = 1
            send_flatten(i, t, orders, pend, pend_time, ints, mp)
            flattening = True
        elif risk.position_stop_hit(inv, fs[i, F_AVG_COST], mid, sp):
            ints[i, I_STOP_LOSSES] += 1
            send_flatten(i, t, orders, pend, pend_time, ints, mp)
            flattening = True
        elif t >= fs[i, F_PAUSE_UNTIL] and risk.realised_spread_too_low(
            fs[i, F_RS_EWMA], ints[i, I_RS_COUNT], sp
        ):
            ints[i, I_SPREAD_PAUSES] += 1
            ints[i, I_RS_COUNT] = 0
            fs[i, F_PAUSE_UNTIL] = t + sp[SP_PAUSE_DURATION]
            if risk.widening_failed(act[i, A_SPREAD_MULT], inv, sp):
                ints[i, I_EXITS] += 1
                send_flatten(i, t, orders, pend, pend_time, ints, mp)
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
        send_replace(i, 0, bid, bid_lots, t, orders, pend, pend_time, ints, mp)
        send_replace(i, 1, ask, ask_lots, t, orders, pend, pend_time, ints, mp)
    return reason


@nb.njit(cache=True)
def room_lots(i, side, lots, ints, sp):
    """``lots`` cut to the room left under the hard inventory limit (checked on landing)."""
    max_inv = int(sp[SP_MAX_INV])
    inv = ints[i, I_INV]
    return min(lots, max_inv - inv if side == 0 else max_inv + inv)


@nb.njit(cache=True)
def rest_quote(i, side, price, lots, other, t, book, ints, orders, order_time):
    """A quote message lands: the order on ``side`` becomes (price, lots), lots <= 0 cancels.

    Post-only: a quote that would cross slides to the touch of the background book or of
    ``other``, the agent's opposite quote as it stands after this instant (-1: none), so the
    agent never trades with itself."""
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
    if j < 0 or j >= book.shape[2]:  # the price moved far beyond what the window was sized for
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
    orders[i, side, O_AHEAD] = book[i, side, j]
    order_time[i, side] = t


@nb.njit(cache=True)
def land_messages(
    i,
    t,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    mp,
    sp,
):
    """The messages due at ``t`` reach the exchange, each side's in the order sent; a bid and
    an ask landing at the same instant land together (neither sees the other's stale quote).
    Then a market order, never beyond what flattens the position."""
    while pend_time[i, 0, 0] <= t or pend_time[i, 1, 0] <= t:
        bid = pend_time[i, 0, 0] <= t
        ask = pend_time[i, 1, 0] <= t
        bid_price = ask_price = -1
        bid_lots = ask_lots = 0
        if bid:
            bid_price, bid_lots = receive(i, 0, pend, pend_time)
            bid_lots = room_lots(i, 0, bid_lots, ints, sp)
        if ask:
            ask_price, ask_lots = receive(i, 1, pend, pend_time)
            ask_lots = room_lots(i, 1, ask_lots, ints, sp)
        # each side's post-only check sees the other side's quote as it stands after this
        # instant: the one landing with it, or the one resting
        if bid:
            other = ask_price if ask_lots > 0 else -1
            if not ask and orders[i, 1, O_ACTIVE] == 1:
                other = orders[i, 1, O_PRICE]
            rest_quote(i, 0, bid_price, bid_lots, other, t, book, ints, orders, order_time)
        if ask:
            other = bid_price if bid_lots > 0 else -1
            if not bid and orders[i, 0, O_ACTIVE] == 1:
                other = orders[i, 0, O_PRICE]
            rest_quote(i, 1, ask_price, ask_lots, other, t, book, ints, orders, order_time)
    if pend_time[i, 2, 0] > t:
        return
    lots = receive(i, 2, pend, pend_time)[1]
    inv = ints[i, I_INV]
    lots = min(lots, max(-inv, 0)) if lots > 0 else -min(-lots, max(inv, 0))
    if lots == 0:
        return
    market_order(
        i,
        1 if lots > 0 else 0,
        abs(lots),
        True,
        t,
        book,
        fs,
        ints,
        orders,
        order_time,
        pend,
        pend_time,
        step,
        log,
        mq,
        mq_head,
        mq_count,
        mp,
        sp,
    )


# ----------------------------------------------------------------------------- main loop
@nb.njit(cache=True)
def first_param_beyond(params: np.ndarray, max_mult: float, max_skew: float) -> int:
    """Flat index of the first spread multiplier or inventory skew above its maximum, or -1."""
    for i in range(params.shape[0]):
        if params[i, A_SPREAD_MULT] > max_mult:
            return i * params.shape[1] + A_SPREAD_MULT
        if params[i, A_SKEW] > max_skew:
            return i * params.shape[1] + A_SKEW
    return -1


@nb.njit(cache=True)
def advance_one(
    i,
    t_end,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    tape,
    rng,
    act,
    mp,
    rp,
    sp,
    rates,
):
    """Advance market ``i`` to ``t_end``.

    Two Poisson clocks run between scheduled events: the flow, whose rate changes only with
    the regime and news (the remaining wait is then rescaled), and the cancellations, whose
    rate follows the resting volume and so changes with every event: their clock runs in
    units of expected cancellations (``left``: how many until the next one), which a rate
    change leaves as it is. ``rates`` is the market's scratch row for ``event_rates``.
    """
    t = fs[i, F_T]
    flow_rate = event_rates(i, fs, ints, rp, mp, rates)
    t_flow = t + R.exponential(rng, i, flow_rate)
    left = R.exponential(rng, cancels(i, fs), 1.0)
    t_clock = -INF  # the next clock, regime or news event; recomputed after scheduled events
    while True:
        if t_clock <= t:
            t_clock = min(
                t_end,
                fs[i, F_NEXT_SAMPLE],
                fs[i, F_NEXT_REFRESH],
                fs[i, F_NEXT_REGIME],
                fs[i, F_NEXT_NEWS],
                fs[i, F_NEWS_END],
            )
        # order messages can be sent by a fill (cancel on fill): always looked at
        t_s = min(t_clock, min(pend_time[i, 0, 0], min(pend_time[i, 1, 0], pend_time[i, 2, 0])))
        cancel = rates[R_CANCEL_PER_LOT] * (ints[i, I_VOL_BID] + ints[i, I_VOL_ASK])
        if cancel * (min(t_flow, t_s) - t) > left:
            t += left / cancel
            cancel_event(i, book, fs, ints, orders, rng, mp)
            left = R.exponential(rng, cancels(i, fs), 1.0)
        elif t_flow < t_s:
            left -= cancel * (t_flow - t)
            t = t_flow
            flow_event(
                i,
                t,
                rates,
                flow_rate,
                book,
                fs,
                ints,
                orders,
                order_time,
                pend,
                pend_time,
                step,
                log,
                mq,
                mq_head,
                mq_count,
                tape,
                rng,
                rp,
                mp,
                sp,
            )
            t_flow = t + R.exponential(rng, i, flow_rate)
        else:
            left -= cancel * (t_s - t)
            t = t_s
            if t >= t_end:
                break
            # scheduled events
            if min(pend_time[i, 0, 0], min(pend_time[i, 1, 0], pend_time[i, 2, 0])) <= t:
                land_messages(
                    i,
                    t,
                    book,
                    fs,
                    ints,
                    orders,
                    order_time,
                    pend,
                    pend_time,
                    step,
                    log,
                    mq,
                    mq_head,
                    mq_count,
                    mp,
                    sp,
                )
            if fs[i, F_NEXT_SAMPLE] <= t:
                if orders[i, 0, O_ACTIVE] == 1 or orders[i, 1, O_ACTIVE] == 1:
                    fs[i, F_QUOTING_TIME] += mp[MP_SAMPLE_DT]
                    step[i, S_QUOTING_TIME] += mp[MP_SAMPLE_DT]
                sample_tick(
                    i, t, book, fs, ints, orders, log, mq, mq_head, mq_count, rng, rp, mp, sp
                )
                fs[i, F_NEXT_SAMPLE] += mp[MP_SAMPLE_DT]
            flow_changed = False
            if fs[i, F_NEXT_REGIME] <= t:
                switch_regime(i, t, fs, ints, rng, rp, mp)
                flow_changed = True
            if fs[i, F_NEWS_END] <= t:
                end_news(i, t, fs, rng, mp)
                flow_changed = True
            if fs[i, F_NEXT_NEWS] <= t:
                start_news(i, t, book, fs, ints, orders, rng, mp)
                flow_changed = True
            if fs[i, F_NEXT_REFRESH] <= t:
                refresh(i, t, fs, ints, orders, pend, pend_time, act, mp, sp)
                fs[i, F_NEXT_REFRESH] += sp[SP_REFRESH]
            if flow_changed:
                new_flow = event_rates(i, fs, ints, rp, mp, rates)
                t_flow = t + (t_flow - t) * (flow_rate / new_flow)
                flow_rate = new_flow
    fs[i, F_T] = t_end
    fs[i, F_MID] = mid_ticks(ints, fs, i)


@nb.njit(cache=True, nogil=True, _nrt=False)
def advance(
    lo,
    hi,
    t_end,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    log,
    mq,
    mq_head,
    mq_count,
    tape,
    rng,
    act,
    mp,
    rp,
    sp,
    rates,
    mask,
):
    """Advance markets ``lo <= i < hi`` with ``mask[i]`` to ``t_end[i]``; ``rates[N, N_RATES]``
    is scratch.

    Releases the GIL, so disjoint ranges run in parallel threads. Compiled without the NRT:
    under it every call of a kernel function with array arguments counts references on each
    array atomically (two thirds of the time of the default market), so nothing in here may
    allocate an array."""
    for i in range(lo, hi):
        if mask[i]:
            advance_one(
                i,
                t_end[i],
                book,
                fs,
                ints,
                orders,
                order_time,
                pend,
                pend_time,
                step,
                log,
                mq,
                mq_head,
                mq_count,
                tape,
                rng,
                act,
                mp,
                rp,
                sp,
                rates[i],
            )


@nb.njit(cache=True)
def starting_variance(fs, i, t, mp, rp):
    """Where the volatility estimates start (bps^2 per s): the market's unconditional regime
    variance (mean over the regimes' entry weights), times the intraday pattern's level at
    the time of day when it is on. It reads no hidden state (not the starting regime, nor
    the calm/busy state or factors), so a first observation says nothing of the regime."""
    total = 0.0
    var = 0.0
    for k in range(rp.shape[0]):
        total += rp[k, R_WEIGHT]
        var += rp[k, R_WEIGHT] * rp[k, R_VOL] * rp[k, R_VOL]
    var = var / total if total > 0.0 else rp[0, R_VOL] * rp[0, R_VOL]
    bps = mp[MP_BPS_PER_TICK]
    var *= bps * bps
    if V.intraday(mp):
        level = V.intraday_level(fs[i, F_SV_DAY0] + t, mp)
        var *= level * level
    return var


@nb.njit(cache=True)
def reset_market(
    i,
    t0,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    mq_head,
    mq_count,
    rng,
    mp,
    rp,
    sp,
):
    """Lay out a fresh market ``i``: initial book, regime, schedules, empty account."""
    n = book.shape[2]
    p0 = int(mp[MP_PRICE0])
    fs[i, :] = 0.0
    ints[i, :] = 0
    book[i, :, :] = 0
    orders[i, :, :] = 0
    order_time[i, :] = 0.0
    pend[i] = 0
    pend_time[i] = INF
    step[i, :] = 0.0
    mq_head[i, :] = 0
    mq_count[i, :] = 0
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
    fs[i, F_NEXT_REFRESH] = t0
    fs[i, F_NEWS_END] = INF
    fs[i, F_PAUSE_UNTIL] = -INF
    fs[i, F_BID_QUOTE] = np.nan
    fs[i, F_ASK_QUOTE] = np.nan
    # start the volatility estimates at the regime's level, so features are usable at once
    pin = int(mp[MP_PIN_REGIME])
    if pin >= 0:
        ints[i, I_REGIME] = pin
    else:
        total = 0.0
        for k in range(rp.shape[0]):
            total += rp[k, R_WEIGHT]
        u = R.uniform(rng, exo(i, fs)) * total
        reg = rp.shape[0] - 1
        for k in range(rp.shape[0]):
            if u < rp[k, R_WEIGHT]:
                reg = k
                break
            u -= rp[k, R_WEIGHT]
        ints[i, I_REGIME] = reg
    draw_next_regime(i, t0, fs, ints, rng, rp, mp)
    draw_next_news(i, t0, fs, rng, mp)
    V.init_vol_factors(i, fs, rng, exo(i, fs), mp)
    var0 = starting_variance(fs, i, t0, mp, rp)
    fs[i, F_VAR_SHORT] = var0
    fs[i, F_VAR_LONG] = var0


@nb.njit(cache=True)
def reset_markets(
    mask,
    book,
    fs,
    ints,
    orders,
    order_time,
    pend,
    pend_time,
    step,
    mq_head,
    mq_count,
    rng,
    mp,
    rp,
    sp,
):
    """Reset every market with ``mask[i]``."""
    for i in range(fs.shape[0]):
        if mask[i]:
            reset_market(
                i,
                0.0,
                book,
                fs,
                ints,
                orders,
                order_time,
                pend,
                pend_time,
                step,
                mq_head,
                mq_count,
                rng,
                mp,
                rp,
                sp,
            )
