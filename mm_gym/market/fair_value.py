"""The latent fair value and what moves it: the hidden regime chain, news events and the
diffusion of each sampling step. All their draws come from the exogenous stream
(``rng.exo``), so they are the same under any policy; news also pulls liquidity from the book.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market import volatility as V
from mm_gym.market.book import withdraw
from mm_gym.market.layout import (
    F_FAIR,
    F_NEWS_ANNOUNCED_AT,
    F_NEWS_END,
    F_NEXT_NEWS,
    F_NEXT_REGIME,
    I_NEWS_COUNT,
    I_NEWS_SIGN,
    I_REGIME,
    I_VOL_CANCELLED,
    INF,
    MP_NEWS_ANNOUNCED,
    MP_NEWS_DURATION,
    MP_NEWS_JUMP,
    MP_NEWS_LEAD,
    MP_NEWS_PULL,
    MP_NEWS_RATE,
    MP_PIN_REGIME,
    MP_SAMPLE_DT,
    RP_DRIFT,
    RP_DURATION,
    RP_VOL,
    RP_WEIGHT,
)
from mm_gym.market.queue_model import PULL
from mm_gym.market.state import MarketParams, MarketState


@nb.njit(cache=True)
def draw_next_regime(i, t, s: MarketState, p: MarketParams):
    """Schedule the next switch of the regime chain (never, when the regime is pinned)."""
    fs = s.fs
    if p.mp[MP_PIN_REGIME] >= 0:
        fs[i, F_NEXT_REGIME] = INF
    else:
        fs[i, F_NEXT_REGIME] = t + R.exponential(
            s.rng, R.exo(i, fs), 1.0 / p.rp[s.ints[i, I_REGIME], RP_DURATION]
        )


@nb.njit(cache=True)
def switch_regime(i, t, s: MarketState, p: MarketParams):
    """Move the chain to another regime, drawn by weight among the others."""
    rp = p.rp
    cur = s.ints[i, I_REGIME]
    total = 0.0
    for k in range(rp.shape[0]):
        if k != cur:
            total += rp[k, RP_WEIGHT]
    if total > 0.0:
        u = R.uniform(s.rng, R.exo(i, s.fs)) * total
        for k in range(rp.shape[0]):
            if k == cur:
                continue
            if u < rp[k, RP_WEIGHT]:
                s.ints[i, I_REGIME] = k
                break
            u -= rp[k, RP_WEIGHT]
    draw_next_regime(i, t, s, p)


@nb.njit(cache=True)
def draw_next_news(i, t, s: MarketState, p: MarketParams):
    """Schedule the next news event and, for an announced one, when its flag goes up."""
    fs = s.fs
    mp = p.mp
    if mp[MP_NEWS_RATE] <= 0.0:
        fs[i, F_NEXT_NEWS] = INF
        fs[i, F_NEWS_ANNOUNCED_AT] = INF
        return
    nt = t + R.exponential(s.rng, R.exo(i, fs), mp[MP_NEWS_RATE])
    fs[i, F_NEXT_NEWS] = nt
    if R.uniform(s.rng, R.exo(i, fs)) < mp[MP_NEWS_ANNOUNCED]:
        fs[i, F_NEWS_ANNOUNCED_AT] = max(nt - mp[MP_NEWS_LEAD], t)
    else:
        fs[i, F_NEWS_ANNOUNCED_AT] = INF


@nb.njit(cache=True)
def start_news(i, t, s: MarketState, p: MarketParams):
    """A news event: the fair value jumps, liquidity is pulled, informed flow bursts."""
    book = s.book
    fs = s.fs
    ints = s.ints
    mp = p.mp
    sign = 1.0 if R.uniform(s.rng, R.exo(i, fs)) < 0.5 else -1.0
    fs[i, F_FAIR] += sign * R.exponential(s.rng, R.exo(i, fs), 1.0 / max(mp[MP_NEWS_JUMP], 1e-12))
    ints[i, I_NEWS_SIGN] = int(sign)
    ints[i, I_NEWS_COUNT] += 1
    fs[i, F_NEWS_END] = t + mp[MP_NEWS_DURATION]
    fs[i, F_NEXT_NEWS] = INF
    pull = mp[MP_NEWS_PULL]
    if pull > 0.0:  # every resting order withdraws the share ``pull`` of its lots
        for side in range(2):
            for j in range(book.shape[2]):
                level = book[i, side, j]
                if level > 0:
                    lots = int(level * pull)
                    if lots > 0:
                        ints[i, I_VOL_CANCELLED] += lots
                        withdraw(PULL, book, ints, s.orders, i, side, j, lots, pull, mp)


@nb.njit(cache=True)
def end_news(i, t, s: MarketState, p: MarketParams):
    """News effects end; the next news is drawn."""
    s.fs[i, F_NEWS_END] = INF
    draw_next_news(i, t, s, p)


@nb.njit(cache=True, inline="always")  # inlined into the sampling clock
def diffuse(i, t, s: MarketState, p: MarketParams):
    """One sampling step of the fair value: the regime's drift and volatility (times the
    volatility factors', when on)."""
    fs = s.fs
    mp = p.mp
    rp = p.rp
    dt = mp[MP_SAMPLE_DT]
    reg = s.ints[i, I_REGIME]
    vol = rp[reg, RP_VOL]
    if V.vol_enabled(mp):
        V.step_vol_factors(i, fs, s.rng, R.exo(i, fs), mp)
        vol *= V.vol_multiplier(i, t, fs, mp)
    fs[i, F_FAIR] += rp[reg, RP_DRIFT] * dt + vol * np.sqrt(dt) * R.normal(s.rng, R.exo(i, fs))
