"""The makers' fills and accounts: cash, fees, inventory and its average cost, the fill log,
and the markouts (the mid's move 1 s, 10 s and 60 s after each fill) with the realised spread.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.layout import (
    F_BG_CASH,
    I_BG_INV,
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
    MF_AVG_COST,
    MF_CASH,
    MF_FEES,
    MF_MAX_ABS_INV,
    MF_MO1,
    MF_MOW1,
    MF_RS_EWMA,
    MF_SPREAD_CAPTURED,
    MF_VOLUME,
    MI_INV,
    MI_LOG_DROPPED,
    MI_LOG_N,
    MI_MO_DROPPED,
    MI_N_FILLS,
    MI_N_MAKER_FILLS,
    MI_RS_COUNT,
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
def equity(mfs: np.ndarray, mints: np.ndarray, a: int, mid: float, tick: float) -> float:
    """Maker ``a``'s mark-to-market equity at ``mid`` (ticks): cash + inventory * mid (initial
    cash is zero)."""
    return mfs[a, MF_CASH] + mints[a, MI_INV] * mid * tick


@nb.njit(cache=True)
def background_fill(i, side, price, lots, s: MarketState, p: MarketParams):
    """The background of market ``i`` trades ``lots`` with a maker at ``price`` (ticks),
    ``side`` +1 bought / -1 sold: its account with the makers (no fees; what the makers
    and the background hold sums to zero)."""
    s.ints[i, I_BG_INV] += side * lots
    s.fs[i, F_BG_CASH] -= side * price * p.mp[MP_TICK] * lots


@nb.njit(cache=True)
def agent_fill(a, side, price, lots, maker, mid, t, s: MarketState, p: MarketParams):
    """Book one fill of maker ``a``: ``side`` +1 bought / -1 sold, ``price`` in ticks, with the
    book's ``mid`` (ticks) when the order that filled arrived; ``maker``: its resting order
    was hit (else its market order took)."""
    mfs = s.mfs
    mints = s.mints
    step = s.step_stats
    log = s.log
    mq = s.mq
    mq_head = s.mq_head
    mq_count = s.mq_count
    mp = p.mp
    tick = mp[MP_TICK]
    notional = price * tick * lots
    fee = notional * (mp[MP_MAKER_FEE] if maker else mp[MP_TAKER_FEE])
    mfs[a, MF_CASH] -= side * notional + fee
    mfs[a, MF_FEES] += fee
    inv = mints[a, MI_INV]
    new_inv = inv + side * lots
    if inv == 0 or (inv > 0) == (side > 0):  # opening or adding
        mfs[a, MF_AVG_COST] = (mfs[a, MF_AVG_COST] * abs(inv) + price * lots) / abs(new_inv)
    elif (new_inv > 0) != (inv > 0) and new_inv != 0:  # flipped through zero
        mfs[a, MF_AVG_COST] = price
    elif new_inv == 0:
        mfs[a, MF_AVG_COST] = 0.0
    mints[a, MI_INV] = new_inv
    if abs(new_inv) > mfs[a, MF_MAX_ABS_INV]:
        mfs[a, MF_MAX_ABS_INV] = abs(new_inv)
    mints[a, MI_N_FILLS] += 1
    mfs[a, MF_VOLUME] += lots
    step[a, S_FILLS] += 1
    if side > 0:
        step[a, S_BUY_LOTS] += lots
    else:
        step[a, S_SELL_LOTS] += lots
    step[a, S_FEES] += fee
    if maker:
        mints[a, MI_N_MAKER_FILLS] += 1
        captured = side * (mid - price) * tick * lots
        mfs[a, MF_SPREAD_CAPTURED] += captured
        step[a, S_SPREAD_CAPTURED] += captured
    log_idx = -1
    cap = log.shape[1]
    if mints[a, MI_LOG_N] < cap:
        log_idx = mints[a, MI_LOG_N]
        mints[a, MI_LOG_N] += 1
        log[a, log_idx, L_TIME] = t
        log[a, log_idx, L_SIDE] = side
        log[a, log_idx, L_PRICE] = price * tick
        log[a, log_idx, L_SIZE] = lots
        log[a, log_idx, L_QUEUE_WAIT] = t - s.order_time[a, 0 if side > 0 else 1] if maker else 0.0
        log[a, log_idx, L_MID] = mid * tick
        log[a, log_idx, L_MAKER] = 1.0 if maker else 0.0
        log[a, log_idx, L_MO1] = np.nan
        log[a, log_idx, L_MO10] = np.nan
        log[a, log_idx, L_MO60] = np.nan
    else:
        mints[a, MI_LOG_DROPPED] += 1
    qcap = mq.shape[2]
    untracked = False
    for h in range(3):
        if mq_count[a, h] < qcap:
            k = (mq_head[a, h] + mq_count[a, h]) % qcap
            mq[a, h, k, MQ_TIME] = t
            mq[a, h, k, MQ_SIGNED_SIZE] = side * lots
            mq[a, h, k, MQ_MID] = mid
            mq[a, h, k, MQ_PRICE] = price
            mq[a, h, k, MQ_LOG] = log_idx
            mq[a, h, k, MQ_MAKER] = 1.0 if maker else 0.0
            mq_count[a, h] += 1
        else:
            untracked = True
    if untracked:
        mints[a, MI_MO_DROPPED] += 1
    if maker and p.sp[SP_CANCEL_ON_FILL] > 0.5:
        send_replace(a, 1 if side > 0 else 0, 0, 0, t, s, p)


@nb.njit(cache=True, inline="always")  # inlined: passing its arrays cost more than the work
def resolve_markouts(a, t, mid, s: MarketState, p: MarketParams):
    """Close maker ``a``'s markouts whose horizon has passed at ``t``: the move of the ``mid``
    (ticks) since the fill, signed by side."""
    mfs = s.mfs
    mq = s.mq
    mq_head = s.mq_head
    mq_count = s.mq_count
    tick = p.mp[MP_TICK]
    qcap = mq.shape[2]
    for h in range(3):
        horizon = MARKOUT_HORIZONS[h]
        while mq_count[a, h] > 0:
            k = mq_head[a, h]
            if mq[a, h, k, MQ_TIME] + horizon > t:
                break
            signed = mq[a, h, k, MQ_SIGNED_SIZE]
            move = (mid - mq[a, h, k, MQ_MID]) * (1.0 if signed > 0 else -1.0)
            mfs[a, MF_MO1 + h] += move * tick * abs(signed)
            mfs[a, MF_MOW1 + h] += abs(signed)
            li = int(mq[a, h, k, MQ_LOG])
            if li >= 0:
                s.log[a, li, L_MO1 + h] = move * tick
            if h == 0 and mq[a, h, k, MQ_MAKER] > 0.5:  # realised spread of a quote's fill, bps
                side = 1.0 if signed > 0 else -1.0
                rs = side * (mid - mq[a, h, k, MQ_PRICE]) / mid * 1e4
                if s.mints[a, MI_RS_COUNT] == 0:
                    mfs[a, MF_RS_EWMA] = rs
                else:
                    alpha = p.sp[SP_RS_ALPHA]
                    mfs[a, MF_RS_EWMA] = (1.0 - alpha) * mfs[a, MF_RS_EWMA] + alpha * rs
                s.mints[a, MI_RS_COUNT] += 1
            mq_head[a, h] = (k + 1) % qcap
            mq_count[a, h] -= 1
