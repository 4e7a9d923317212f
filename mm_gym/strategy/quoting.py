"""The quoting engine: from the three quoting parameters and the market state to two quotes.

Pure numba functions of scalars, called by the market kernel at every quote refresh, and
testable alone. Prices are in ticks, spreads in basis points of the mid.

Inventory skew follows the example of docs/market-maker-strategy.md ("long 100 units ->
skew asks lower, more attractive"): both quotes shift by
``-excess * skew_bps_per_lot * inventory_skew``, so a long position lowers the bid (buy less)
and the ask (sell more). The document's formula ``ask_adjustment = +inventory * skew_factor``
read as a price change would raise the ask when long, which contradicts its own example; we
read it as the ask's distance to the mid, which shrinks when long.

Trend rules: in a detected trend the side against it widens and both quotes shift with it;
inventory held against the trend is skewed ``trend_reduction_multiplier`` times harder. The
document asks for faster inventory reduction in a down-trend; we apply it to inventory against
either trend (the up-trend's "reduce inventory skew" is the table's lower skew, 0.3).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.strategy.layout import (
    SP_BASE_SPREAD,
    SP_HIGH_VOL,
    SP_MAKER_FEE_BPS,
    SP_MAX_INV,
    SP_MAX_VOL,
    SP_MIN_SPREAD,
    SP_PAUSE_ON_NEWS,
    SP_QUOTE_SIZE,
    SP_SKEW_PER_LOT,
    SP_SOFT_LIMIT,
    SP_TREND_REDUCTION,
    SP_TREND_SHIFT,
    SP_TREND_THRESHOLD,
    SP_TREND_WIDEN,
)

# why the engine is not quoting (bit flags, 0 = quoting)
PAUSE_SIZE_ZERO = 1
PAUSE_NEWS = 2
PAUSE_EXTREME_VOL = 4
PAUSE_SPREAD_COLLAPSE = 8
PAUSE_REALISED_SPREAD = 16
PAUSE_HALTED = 32


@nb.njit(cache=True)
def floor_spread_bps(sp: np.ndarray) -> float:
    """Smallest total spread quoted: min_spread_bps plus the round-trip maker cost."""
    return sp[SP_MIN_SPREAD] + 2.0 * max(sp[SP_MAKER_FEE_BPS], 0.0)


@nb.njit(cache=True)
def quoted_spread_bps(spread_multiplier: float, sp: np.ndarray) -> float:
    """``base_spread_bps * spread_multiplier`` floored at the profitable minimum."""
    return max(sp[SP_BASE_SPREAD] * spread_multiplier, floor_spread_bps(sp))


@nb.njit(cache=True)
def trend_direction(trend_strength: float, sp: np.ndarray) -> int:
    """+1 in a detected up-trend, -1 in a down-trend, 0 otherwise."""
    if trend_strength > sp[SP_TREND_THRESHOLD]:
        return 1
    if trend_strength < -sp[SP_TREND_THRESHOLD]:
        return -1
    return 0


@nb.njit(cache=True)
def skew_shift_bps(
    inventory: float, inventory_skew: float, trend_dir: int, sp: np.ndarray
) -> float:
    """Price shift of both quotes from inventory: zero up to the soft limit, then linear.

    Inventory held against a detected trend is reduced faster (``trend_reduction_multiplier``).
    """
    excess = abs(inventory) - sp[SP_SOFT_LIMIT]
    if excess <= 0.0:
        return 0.0
    signed = excess if inventory > 0 else -excess
    mult = 1.0
    if trend_dir != 0 and inventory * trend_dir < 0:
        mult = sp[SP_TREND_REDUCTION]
    return -signed * sp[SP_SKEW_PER_LOT] * inventory_skew * mult


@nb.njit(cache=True)
def quote_size_lots(size_fraction: float, sp: np.ndarray) -> int:
    """Lots per quote: ``size_fraction * quote_size``, rounded half up; 0 means pause."""
    x = size_fraction * sp[SP_QUOTE_SIZE]
    if x <= 0.0:
        return 0
    return int(np.floor(x + 0.5))


@nb.njit(cache=True)
def pause_reason(
    size: int,
    news_flag: bool,
    vol_short_bps: float,
    market_spread_bps: float,
    paused: bool,
    halted: bool,
    sp: np.ndarray,
) -> int:
    """Bit flags of the rules that forbid quoting now (0: quote)."""
    reason = 0
    if size <= 0:
        reason |= PAUSE_SIZE_ZERO
    if news_flag and sp[SP_PAUSE_ON_NEWS] > 0.5:
        reason |= PAUSE_NEWS
    if vol_short_bps > sp[SP_MAX_VOL]:
        reason |= PAUSE_EXTREME_VOL
    if vol_short_bps > sp[SP_HIGH_VOL] and market_spread_bps < floor_spread_bps(sp):
        reason |= PAUSE_SPREAD_COLLAPSE
    if paused:
        reason |= PAUSE_REALISED_SPREAD
    if halted:
        reason |= PAUSE_HALTED
    return reason


@nb.njit(cache=True)
def compute_quotes(
    mid: float,
    inventory: float,
    spread_multiplier: float,
    inventory_skew: float,
    size_fraction: float,
    trend_strength: float,
    sp: np.ndarray,
) -> tuple[int, int, int, int]:
    """Bid tick, bid lots, ask tick, ask lots (lots 0: that side is not quoted).

    ``mid`` is in ticks. Pause rules are applied by the caller (``pause_reason``); this
    applies spread, floor, skew, trend asymmetry, size and the hard inventory limit.
    """
    half = 0.5 * quoted_spread_bps(spread_multiplier, sp)
    half_bid = half
    half_ask = half
    tdir = trend_direction(trend_strength, sp)
    shift = skew_shift_bps(inventory, inventory_skew, tdir, sp)
    if tdir > 0:  # trending up: favour buying, widen the ask side
        half_ask *= 1.0 + sp[SP_TREND_WIDEN]
        shift += sp[SP_TREND_SHIFT] * half
    elif tdir < 0:  # trending down: favour selling, widen the bid side
        half_bid *= 1.0 + sp[SP_TREND_WIDEN]
        shift -= sp[SP_TREND_SHIFT] * half
    to_ticks = mid * 1e-4
    bid = int(np.floor(mid + (shift - half_bid) * to_ticks))
    ask = int(np.ceil(mid + (shift + half_ask) * to_ticks))
    if ask <= bid:
        ask = bid + 1
    size = quote_size_lots(size_fraction, sp)
    max_inv = sp[SP_MAX_INV]
    bid_size = min(size, int(max_inv - inventory))
    ask_size = min(size, int(max_inv + inventory))
    return bid, max(bid_size, 0), ask, max(ask_size, 0)


@nb.njit(cache=True)
def widest_quote_bps(spread_multiplier: float, inventory_skew: float, sp: np.ndarray) -> float:
    """Farthest a quote of ``compute_quotes`` lies from the mid, in bps, with parameters up to
    these: the widest half-spread, widened and shifted by a trend, plus the largest skew (the
    hard inventory limit, against the trend). Rounding to ticks adds at most one tick."""
    half = 0.5 * quoted_spread_bps(spread_multiplier, sp)
    excess = max(sp[SP_MAX_INV] - sp[SP_SOFT_LIMIT], 0.0)
    skew = excess * sp[SP_SKEW_PER_LOT] * inventory_skew * sp[SP_TREND_REDUCTION]
    return half * (1.0 + sp[SP_TREND_WIDEN] + sp[SP_TREND_SHIFT]) + skew
