"""The observation vector: what an agent (and the rule baseline) may see. Never the regime,
unless ``expose_regime`` is set for an ablation.

Layout: the ``OBS_NAMES`` columns (what a market maker knows: its account, the market's
volatility, trend, spread and depth, the clock of the trading day, and what the rule
baseline makes of it: its detected regime and that regime's row of its table); then, with
``market_features``, the ``FEATURE_NAMES`` columns (what a market maker watches besides);
then, with ``expose_regime``, the true regime's one-hot (always last)."""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.market.book import effective_best
from mm_gym.market.layout import (
    F_MID,
    F_SV_DAY0,
    F_T,
    F_VAR_LONG,
    F_VAR_SHORT,
    I_BEST_ASK,
    I_BEST_BID,
    I_ORIGIN,
    MF_CASH,
    MF_FEES,
    MF_MO1,
    MF_MOW1,
    MF_PAUSE_UNTIL,
    MF_SPREAD_CAPTURED,
    MI_HALTED,
    MI_INV,
    MP_MAKERS,
    MP_SV_DAY_S,
    MP_TICK,
    O_ACTIVE,
    S_FEES,
    S_FILLS,
)
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS
from mm_gym.market.signals import news_flag, regime_label, trend_strength
from mm_gym.strategy.baseline import DETECTED_NAMES
from mm_gym.strategy.layout import (
    SP_CAPITAL,
    SP_DAILY_STOP,
    SP_MAX_INV,
)

KERNEL_OBS_NAMES = (
    "inventory",  # inventory / max_inventory
    "pnl",  # session equity / daily-stop budget (capital * daily_stop_fraction)
    "vol_short",  # realised volatility, bps per sqrt(s), short half-life
    "vol_long",
    "trend",  # trend strength, about N(0, 1) without drift
    "spread",  # inside spread, ticks (the background's and the other makers' quotes)
    "imbalance",  # (bid - ask) / (bid + ask) lots on the best 5 levels
    "news_flag",  # an announced news is near or in effect
    "time_left",  # fraction of the session left
    "bid_live",  # the agent's bid rests in the book
    "ask_live",
    "paused",  # a risk rule stops quoting (realised-spread pause or daily stop)
    "day_sin",  # the time of day as a phase of the trading day: sin(2 pi u), u in [0, 1)
    "day_cos",  # cos(2 pi u)
    "to_close",  # fraction of the trading day left until the close, 1 - u
)
DETECTED_OBS_NAMES = tuple(f"detected_{name}" for name in DETECTED_NAMES)
TABLE_OBS_NAMES = ("table_spread", "table_skew", "table_size")
OBS_NAMES = KERNEL_OBS_NAMES + DETECTED_OBS_NAMES + TABLE_OBS_NAMES
"""The base observation: the kernel's columns; the rule baseline's detected regime, one-hot
(``DETECTED_NAMES``); the row of its parameter table in that regime (spread multiplier,
inventory skew, size fraction: where residual mode starts from, held inside the action's
ranges)."""
KERNEL_OBS_LOW = np.array([-1, -5, 0, 0, -10, 0, -1, 0, 0, 0, 0, 0, -1, -1, 0], dtype=np.float32)
KERNEL_OBS_HIGH = np.array([1, 5, 50, 50, 10, 50, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=np.float32)
NUM_KERNEL_OBS = len(KERNEL_OBS_NAMES)
NUM_BASE_OBS = len(OBS_NAMES)
DETECTED_AT = NUM_KERNEL_OBS
TABLE_AT = DETECTED_AT + len(DETECTED_OBS_NAMES)
IDX = {name: k for k, name in enumerate(OBS_NAMES)}
DEPTH_LEVELS = 5

FEATURE_NAMES = (
    "realised_spread",  # EWMA of the realised spread of the agent's recent fills, bps
    "since_fill",  # minutes since the agent's last fill (or the episode's start), at most 10
    "order_flow_imbalance",  # best-level order flow imbalance over the step / best-level depth
)
FEATURE_LOW = np.array([-50, 0, -5], dtype=np.float32)
FEATURE_HIGH = np.array([50, 10, 5], dtype=np.float32)
NUM_FEATURES = len(FEATURE_NAMES)
SINCE_FILL_CAP_MIN = 10.0


def table_bounds(config) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the table-row columns: the action's parameter ranges of an ``EnvConfig``."""
    ranges = (
        config.spread_multiplier_range,
        config.inventory_skew_range,
        config.size_fraction_range,
    )
    return (
        np.array([r[0] for r in ranges], dtype=np.float32),
        np.array([r[1] for r in ranges], dtype=np.float32),
    )


MIRROR_NEGATE = tuple(IDX[name] for name in ("inventory", "trend", "imbalance"))
MIRROR_SWAP = (
    (IDX["bid_live"], IDX["ask_live"]),
    (IDX["detected_trending_up"], IDX["detected_trending_down"]),
)
FEATURE_MIRROR_NEGATE = (FEATURE_NAMES.index("order_flow_imbalance"),)
FEATURE_MIRROR_SWAP: tuple[tuple[int, int], ...] = ()


def mirror_columns(config) -> tuple[list[int], list[tuple[int, int]]]:
    """Columns of an ``EnvConfig``'s observation that a mirror image negates, and the pairs
    of columns it swaps (bid/ask, up/down)."""
    negate, swap = list(MIRROR_NEGATE), list(MIRROR_SWAP)
    if config.market_features:
        negate += [NUM_BASE_OBS + k for k in FEATURE_MIRROR_NEGATE]
        swap += [(NUM_BASE_OBS + a, NUM_BASE_OBS + b) for a, b in FEATURE_MIRROR_SWAP]
    if config.expose_regime:
        at = observation_dim(config) - len(LABEL_NAMES)
        up, down = LABEL_NAMES.index("trending_up"), LABEL_NAMES.index("trending_down")
        swap.append((at + up, at + down))
    return negate, swap


def observation_bounds(config) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of each column of an ``EnvConfig``'s observation: base (the
    table row within the action's ranges), features (``market_features``), regime one-hot
    (``expose_regime``)."""
    table_low, table_high = table_bounds(config)
    low = [KERNEL_OBS_LOW, np.zeros(len(DETECTED_OBS_NAMES), np.float32), table_low]
    high = [KERNEL_OBS_HIGH, np.ones(len(DETECTED_OBS_NAMES), np.float32), table_high]
    if config.market_features:
        low.append(FEATURE_LOW)
        high.append(FEATURE_HIGH)
    if config.expose_regime:
        low.append(np.zeros(NUM_LABELS, np.float32))
        high.append(np.ones(NUM_LABELS, np.float32))
    return np.concatenate(low), np.concatenate(high)


def observation_dim(config) -> int:
    """Columns of the observation of an ``EnvConfig``."""
    return observation_bounds(config)[0].size


@nb.njit(cache=True)
def best_levels(ints, book, out):
    """Per market: best bid tick, lots there, best ask tick, lots there (``out`` (N, 4));
    an empty side reads tick -1 and 0 lots."""
    L = book.shape[2]
    for i in range(ints.shape[0]):
        origin = ints[i, I_ORIGIN]
        for side in range(2):
            best = ints[i, I_BEST_BID if side == 0 else I_BEST_ASK]
            lots = 0.0
            if best >= 0 and 0 <= best - origin < L:
                lots = book[i, side, best - origin]
            out[i, 2 * side] = best
            out[i, 2 * side + 1] = lots


def order_flow_imbalance(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Order flow imbalance between two snapshots of the best levels (Cont, Kukanov and
    Stoikov 2014): bid-side gains minus ask-side gains, in lots, over the depth before."""
    pb0, qb0, pa0, qa0 = before.T
    pb1, qb1, pa1, qa1 = after.T
    e = (
        np.where(pb1 >= pb0, qb1, 0.0)
        - np.where(pb1 <= pb0, qb0, 0.0)
        - np.where(pa1 <= pa0, qa1, 0.0)
        + np.where(pa1 >= pa0, qa0, 0.0)
    )
    return e / np.maximum(qb0 + qa0, 1.0)


INFO_NAMES = (
    "equity",
    "cash",
    "inventory",
    "mid",
    "fills",
    "step_fees",
    "fees",
    "spread_captured",
    "markout_1s",
    "markout_10s",
    "markout_60s",
    "regime_id",
    "news_flag",
    "halted",
)
INFO_INDEX = {name: k for k, name in enumerate(INFO_NAMES)}  # column of each name
INFO_INT = frozenset({"inventory", "fills", "regime_id"})
INFO_BOOL = frozenset({"news_flag", "halted"})


# compiled without the NRT: they call kernel functions (``effective_best``, the signals) that
# the event loop calls too, and such a function takes the NRT setting of whichever compiles it
# first (``reset.reset_markets``); nothing here allocates an array
@nb.njit(cache=True, _nrt=False)
def build_info(fs, ints, mfs, mints, step, mp, info):
    """Write each maker's info row (``INFO_NAMES``): account, this step's fills, markouts
    so far (size-weighted mean mid move per lot, 0 before the first fill), the true regime.
    Row ``a`` is maker ``a % M`` of market ``a // M``."""
    tick = mp[MP_TICK]
    m = int(mp[MP_MAKERS])
    for a in range(mfs.shape[0]):
        i = a // m
        mid = fs[i, F_MID] * tick
        info[a, 0] = mfs[a, MF_CASH] + mints[a, MI_INV] * mid
        info[a, 1] = mfs[a, MF_CASH]
        info[a, 2] = mints[a, MI_INV]
        info[a, 3] = mid
        info[a, 4] = step[a, S_FILLS]
        info[a, 5] = step[a, S_FEES]
        info[a, 6] = mfs[a, MF_FEES]
        info[a, 7] = mfs[a, MF_SPREAD_CAPTURED]
        for h in range(3):
            info[a, 8 + h] = mfs[a, MF_MO1 + h] / max(mfs[a, MF_MOW1 + h], 1.0)
        info[a, 11] = regime_label(fs, ints, i)
        info[a, 12] = 1.0 if news_flag(fs, i, fs[i, F_T]) else 0.0
        info[a, 13] = mints[a, MI_HALTED]


@nb.njit(cache=True, _nrt=False)
def build_observations(
    fs,
    ints,
    mfs,
    mints,
    book,
    orders,
    t_start,
    session_s,
    mp,
    sp,
    expose_regime,
    num_regimes,
    regime_at,
    obs,
):
    """Write the kernel's columns (``KERNEL_OBS_NAMES``, clipped to their bounds) and (with
    ``expose_regime``) the regime one-hot from column ``regime_at`` of each maker's
    observation row (float32; row ``a`` is maker ``a % M`` of market ``a // M``, whose
    session started at ``t_start[a // M]``). The spread is the book's as the other makers'
    quotes make it. The time of day is the market's clock (its random start in the trading
    day plus the time gone), days following each other."""
    m = int(mp[MP_MAKERS])
    day_s = mp[MP_SV_DAY_S]
    L = book.shape[2]
    budget = sp[SP_CAPITAL] * sp[SP_DAILY_STOP]
    tick = mp[MP_TICK]
    for a in range(mfs.shape[0]):
        i = a // m
        t = fs[i, F_T]
        obs[a, 0] = mints[a, MI_INV] / sp[SP_MAX_INV]
        obs[a, 1] = (mfs[a, MF_CASH] + mints[a, MI_INV] * fs[i, F_MID] * tick) / budget
        obs[a, 2] = np.sqrt(fs[i, F_VAR_SHORT])
        obs[a, 3] = np.sqrt(fs[i, F_VAR_LONG])
        obs[a, 4] = trend_strength(fs, i, mp)
        bb = ints[i, I_BEST_BID]
        ba = ints[i, I_BEST_ASK]
        inside_bid = effective_best(ints, orders, i, m, 0, a)
        inside_ask = effective_best(ints, orders, i, m, 1, a)
        ok = inside_bid >= 0 and inside_ask >= 0
        obs[a, 5] = (inside_ask - inside_bid) if ok else 50.0
        origin = ints[i, I_ORIGIN]
        vb = 0.0
        va = 0.0
        for k in range(DEPTH_LEVELS):
            if bb >= 0 and 0 <= bb - origin - k < L:
                vb += book[i, 0, bb - origin - k]
            if ba >= 0 and 0 <= ba - origin + k < L:
                va += book[i, 1, ba - origin + k]
        obs[a, 6] = (vb - va) / (vb + va) if vb + va > 0 else 0.0
        obs[a, 7] = 1.0 if news_flag(fs, i, t) else 0.0
        obs[a, 8] = max(0.0, 1.0 - (t - t_start[i]) / session_s)
        obs[a, 9] = orders[a, 0, O_ACTIVE]
        obs[a, 10] = orders[a, 1, O_ACTIVE]
        obs[a, 11] = 1.0 if (t < mfs[a, MF_PAUSE_UNTIL] or mints[a, MI_HALTED] == 1) else 0.0
        u = ((fs[i, F_SV_DAY0] + t) % day_s) / day_s
        obs[a, 12] = np.sin(2.0 * np.pi * u)
        obs[a, 13] = np.cos(2.0 * np.pi * u)
        obs[a, 14] = 1.0 - u
        if expose_regime:
            label = regime_label(fs, ints, i)
            for k in range(num_regimes):
                obs[a, regime_at + k] = 1.0 if k == label else 0.0
    lo = OBS_LOW_NB
    hi = OBS_HIGH_NB
    for a in range(mfs.shape[0]):
        for k in range(lo.shape[0]):
            v = obs[a, k]
            if v < lo[k]:
                obs[a, k] = lo[k]
            elif v > hi[k]:
                obs[a, k] = hi[k]


OBS_LOW_NB = KERNEL_OBS_LOW.astype(np.float64)
OBS_HIGH_NB = KERNEL_OBS_HIGH.astype(np.float64)
