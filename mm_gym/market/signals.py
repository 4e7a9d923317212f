"""What can be read off a market besides its book: the volatility and trend estimates (EWMAs of
the mid's returns on the feature clock), the trend strength and the news flag, which the
quoting engine and the observations see, and the hidden regime label, which they do not.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.layout import (
    F_FEAT_MID,
    F_MID,
    F_NEWS_ANNOUNCED_AT,
    F_NEWS_END,
    F_NEXT_FEATURE,
    F_T,
    F_TREND,
    F_VAR_LONG,
    F_VAR_SHORT,
    I_FEATURE_TICKS,
    I_REGIME,
    INF,
    MP_FEATURE_DT,
    MP_HL_TREND,
    MP_HL_VOL_LONG,
    MP_HL_VOL_SHORT,
)
from mm_gym.market.regimes import NEWS

LN2 = 0.6931471805599453


@nb.njit(cache=True, inline="always")  # inlined into the sampling clock
def update_features(i: int, t: float, fs: np.ndarray, ints: np.ndarray, mp: np.ndarray) -> None:
    """On a tick of the feature clock, the mid's return since the last one (bps) updates the
    short and long variance EWMAs and the trend EWMA."""
    if t < fs[i, F_NEXT_FEATURE]:
        return
    mid = fs[i, F_MID]
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
