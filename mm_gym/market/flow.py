"""Background order flow beyond the Poisson basics (numba): limit orders placed around the
fair value, stale quotes pulled, runs of same-sign noise orders (split metaorders), and the
trade tape of background market orders."""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market.book import remove_volume
from mm_gym.market.layout import (
    F_FAIR,
    I_BEST_ASK,
    I_BEST_BID,
    I_ORIGIN,
    I_RUN_LEFT,
    I_RUN_SIGN,
    I_TAPE_N,
    I_VOL_CANCELLED,
    MP_FAIR_FRAC,
    MP_FAIR_OFFSET,
    MP_PULL,
    MP_RUN_ALPHA,
    MP_RUN_MAX,
    O_ACTIVE,
    O_AHEAD,
    O_PRICE,
    TP_KIND,
    TP_LOTS,
    TP_PRICE,
    TP_SIGN,
    TP_TIME,
)


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
            ahead = 0
            if orders[i, side, O_ACTIVE] == 1 and orders[i, side, O_PRICE] == best:
                ahead = orders[i, side, O_AHEAD]
            ints[i, I_VOL_CANCELLED] += lots
            remove_volume(book, ints, orders, i, side, j, lots, ahead)
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
