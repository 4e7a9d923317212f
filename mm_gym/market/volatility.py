"""Stochastic volatility of the fair value: two log-volatility factors, fast and slow, a
calm/busy switching component and an intraday pattern (numba).

Each factor is a stationary Ornstein-Uhlenbeck process sampled on the sampling clock; the
regime's volatility is multiplied by ``exp(X_fast + X_slow - var)``, ``var`` the factors'
summed variance, so that the mean variance stays the regime's. The switching component is a
two-state Markov chain (calm, busy) on the same clock, in each state half the time; it
multiplies the volatility by its state's level, the two levels keeping the mean variance. The
intraday pattern is a U-shape over the trading day, from a time of day drawn at the start. All
draw from the exogenous stream, so their paths are the same under any policy.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market import rng as R
from mm_gym.market.layout import (
    F_SV_BUSY,
    F_SV_DAY0,
    F_SV_FAST,
    F_SV_SLOW,
    MP_SV_BUSY,
    MP_SV_CALM,
    MP_SV_DAY_AMP,
    MP_SV_DAY_NORM,
    MP_SV_DAY_S,
    MP_SV_FAST_A,
    MP_SV_FAST_INNOV,
    MP_SV_FAST_SD,
    MP_SV_SLOW_A,
    MP_SV_SLOW_INNOV,
    MP_SV_SLOW_SD,
    MP_SV_SWITCH_P,
    MP_SV_VAR,
)


@nb.njit(cache=True, inline="always")
def vol_enabled(mp: np.ndarray) -> bool:
    """Whether any component is on (otherwise nothing is drawn and the multiplier is 1)."""
    return factors_on(mp) or switching(mp) or intraday(mp)


@nb.njit(cache=True, inline="always")
def factors_on(mp: np.ndarray) -> bool:
    """Whether a log-volatility factor is on (their draws are made only then)."""
    return mp[MP_SV_FAST_SD] > 0.0 or mp[MP_SV_SLOW_SD] > 0.0


@nb.njit(cache=True, inline="always")
def switching(mp: np.ndarray) -> bool:
    """Whether the calm/busy component is on (its levels differ)."""
    return mp[MP_SV_BUSY] > mp[MP_SV_CALM]


@nb.njit(cache=True, inline="always")
def intraday(mp: np.ndarray) -> bool:
    """Whether the intraday pattern is on."""
    return mp[MP_SV_DAY_AMP] > 0.0


@nb.njit(cache=True)
def intraday_level(t_of_day: float, mp: np.ndarray) -> float:
    """The intraday pattern's factor at a time of day (s; days follow each other): the
    U-shape ``1 + a (3 (2u - 1)^2 - 1)`` scaled to mean square 1 over a day."""
    u = (t_of_day % mp[MP_SV_DAY_S]) / mp[MP_SV_DAY_S]
    x = 2.0 * u - 1.0
    return (1.0 + mp[MP_SV_DAY_AMP] * (3.0 * x * x - 1.0)) * mp[MP_SV_DAY_NORM]


@nb.njit(cache=True)
def normal_pair(rng: np.ndarray, k: int) -> tuple[float, float]:
    """Two independent standard normal draws (both halves of a Box-Muller pair)."""
    r = np.sqrt(-2.0 * np.log(R.uniform_open(rng, k)))
    phi = 2.0 * np.pi * R.uniform(rng, k)
    return r * np.cos(phi), r * np.sin(phi)


@nb.njit(cache=True)
def init_vol_factors(i: int, fs: np.ndarray, rng: np.ndarray, k: int, mp: np.ndarray) -> None:
    """Draw the factors, the calm/busy state and the time of day at the start from their
    stationary laws (stream ``k``); no draw for a component that is off."""
    if factors_on(mp):
        z1, z2 = normal_pair(rng, k)
        fs[i, F_SV_FAST] = mp[MP_SV_FAST_SD] * z1
        fs[i, F_SV_SLOW] = mp[MP_SV_SLOW_SD] * z2
    fs[i, F_SV_BUSY] = 0.0
    if switching(mp):
        fs[i, F_SV_BUSY] = 1.0 if R.uniform(rng, k) < 0.5 else 0.0
    fs[i, F_SV_DAY0] = 0.0
    if intraday(mp):
        fs[i, F_SV_DAY0] = R.uniform(rng, k) * mp[MP_SV_DAY_S]


@nb.njit(cache=True)
def step_vol_factors(i: int, fs: np.ndarray, rng: np.ndarray, k: int, mp: np.ndarray) -> None:
    """One sampling step of the factors (exact OU transition) and of the calm/busy state,
    when they are on."""
    if factors_on(mp):
        z1, z2 = normal_pair(rng, k)
        fs[i, F_SV_FAST] = mp[MP_SV_FAST_A] * fs[i, F_SV_FAST] + mp[MP_SV_FAST_INNOV] * z1
        fs[i, F_SV_SLOW] = mp[MP_SV_SLOW_A] * fs[i, F_SV_SLOW] + mp[MP_SV_SLOW_INNOV] * z2
    if switching(mp) and R.uniform(rng, k) < mp[MP_SV_SWITCH_P]:
        fs[i, F_SV_BUSY] = 1.0 - fs[i, F_SV_BUSY]


@nb.njit(cache=True)
def vol_multiplier(i: int, t: float, fs: np.ndarray, mp: np.ndarray) -> float:
    """The factor on the regime's volatility at market time ``t``, when a component is on:
    ``exp(X_fast + X_slow - var)`` times the calm or busy level times the intraday level,
    mean square 1."""
    level = mp[MP_SV_BUSY] if fs[i, F_SV_BUSY] > 0.5 else mp[MP_SV_CALM]
    if intraday(mp):
        level *= intraday_level(fs[i, F_SV_DAY0] + t, mp)
    return np.exp(fs[i, F_SV_FAST] + fs[i, F_SV_SLOW] - mp[MP_SV_VAR]) * level
