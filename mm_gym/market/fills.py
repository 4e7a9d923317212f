"""Our fills and the account: cash, fees, inventory and its average cost, the fill log, and
the markouts (the mid's move 1 s, 10 s and 60 s after each fill) with the realised spread.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.layout import (
    F_AVG_COST,
    F_CASH,
    F_FEES,
    F_MAX_ABS_INV,
    F_MID,
    F_MO1,
    F_MOW1,
    F_RS_EWMA,
    F_SPREAD_CAPTURED,
    F_VOLUME,
    I_INV,
    I_LOG_DROPPED,
    I_LOG_N,
    I_MO_DROPPED,
    I_N_FILLS,
    I_N_MAKER_FILLS,
    I_RS_COUNT,
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
    MP_MAKER_FEE,
    MP_TAKER_FEE,
    MP_TICK,
    MQ_LOG,
    MQ_MAKER,
    MQ_MID,
    MQ_PRICE,
    MQ_SIGNED_SIZE,
    MQ_TIME,
    S_BUY_LOTS,
    S_FEES,
    S_FILLS,
    S_SELL_LOTS,
    S_SPREAD_CAPTURED,
)
from mm_gym.market.messages import send_replace
from mm_gym.market.state import MarketParams, MarketState
from mm_gym.strategy.layout import SP_CANCEL_ON_FILL, SP_RS_ALPHA


@nb.njit(cache=True)
def equity(fs: np.ndarray, ints: np.ndarray, i: int, tick: float) -> float:
    """Mark-to-market equity: cash + inventory * mid (initial cash is zero)."""
    return fs[i, F_CASH] + ints[i, I_INV] * fs[i, F_MID] * tick


@nb.njit(cache=True)
def agent_fill(i, side, price, lots, maker, mid, t, s: MarketState, p: MarketParams):
    """Book one fill of the agent: ``side`` +1 bought / -1 sold, ``price`` in ticks, with the
    book's ``mid`` (ticks) when the order that filled arrived."""
    fs = s.fs
    ints = s.ints
    step = s.step_stats
    log = s.log
    mq = s.mq
    mq_head = s.mq_head
    mq_count = s.mq_count
    mp = p.mp
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
        log[i, log_idx, L_QUEUE_WAIT] = t - s.order_time[i, 0 if side > 0 else 1] if maker else 0.0
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
    if maker and p.sp[SP_CANCEL_ON_FILL] > 0.5:
        send_replace(i, 1 if side > 0 else 0, 0, 0, t, s, p)


@nb.njit(cache=True, inline="always")  # inlined: passing its arrays cost more than the work
def resolve_markouts(i, t, s: MarketState, p: MarketParams):
    """Close the markouts whose horizon has passed: mid move since the fill, signed by side."""
    fs = s.fs
    mq = s.mq
    mq_head = s.mq_head
    mq_count = s.mq_count
    tick = p.mp[MP_TICK]
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
                s.log[i, li, L_MO1 + h] = move * tick
            if h == 0 and mq[i, h, k, MQ_MAKER] > 0.5:  # realised spread of a quote's fill, bps
                side = 1.0 if signed > 0 else -1.0
                rs = side * (mid - mq[i, h, k, MQ_PRICE]) / mid * 1e4
                if s.ints[i, I_RS_COUNT] == 0:
                    fs[i, F_RS_EWMA] = rs
                else:
                    a = p.sp[SP_RS_ALPHA]
                    fs[i, F_RS_EWMA] = (1.0 - a) * fs[i, F_RS_EWMA] + a * rs
                s.ints[i, I_RS_COUNT] += 1
            mq_head[i, h] = (k + 1) % qcap
            mq_count[i, h] -= 1
