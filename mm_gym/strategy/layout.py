"""Columns of the strategy's parameter vector ``sp[NSP]`` (float64) and of the quoting
parameters ``act[N, NACT]`` (the agent's action), read by the numba kernels.

The strategy package owns these blocks; the market's quote refresh reads them. ``pack_strategy``
fills ``sp`` from a ``StrategyConfig`` and the venue's maker fee.
"""

from __future__ import annotations

import numpy as np

from mm_gym.strategy.config import StrategyConfig

SP_BASE_SPREAD = 0  # bps
SP_MIN_SPREAD = 1
SP_MAX_INV = 2
SP_SOFT_LIMIT = 3  # lots
SP_SKEW_PER_LOT = 4  # bps per lot
SP_QUOTE_SIZE = 5
SP_REFRESH = 6  # s
SP_CANCEL_ON_FILL = 7
SP_TREND_THRESHOLD = 8
SP_TREND_WIDEN = 9
SP_TREND_SHIFT = 10
SP_TREND_REDUCTION = 11
SP_PAUSE_ON_NEWS = 12
SP_MAX_VOL = 13
SP_HIGH_VOL = 14
SP_STOP_LOSS = 15
SP_DAILY_STOP = 16
SP_CAPITAL = 17
SP_RS_MIN_FILLS = 18
SP_RS_ALPHA = 19
SP_PAUSE_DURATION = 20
SP_EXIT_MULT = 21
SP_MAKER_FEE_BPS = 22
NSP = 23

# ---- quoting parameters, one row per market: act[N, NACT] float64
A_SPREAD_MULT = 0  # spread multiplier
A_SKEW = 1  # inventory skew
A_SIZE = 2  # size fraction
NACT = 3
# their names wherever they leave the arrays (info, results, tables), in slot order
PARAM_NAMES = ("spread_multiplier", "inventory_skew", "size_fraction")
# the tops of the default ranges of the first two (EnvConfig's spread_multiplier_range and
# inventory_skew_range): what MarketSim sizes its price window for unless told
MAX_SPREAD_MULTIPLIER = 3.0
MAX_INVENTORY_SKEW = 2.0


def pack_strategy(cfg: StrategyConfig, maker_fee_bps: float) -> np.ndarray:
    """Pack a strategy config (and the venue's maker fee, bps) into the kernels' vector."""
    sp = np.zeros(NSP)
    sp[SP_BASE_SPREAD] = cfg.base_spread_bps
    sp[SP_MIN_SPREAD] = cfg.min_spread_bps
    sp[SP_MAX_INV] = cfg.max_inventory
    sp[SP_SOFT_LIMIT] = cfg.soft_limit
    sp[SP_SKEW_PER_LOT] = cfg.skew_bps_per_lot
    sp[SP_QUOTE_SIZE] = cfg.quote_size
    sp[SP_REFRESH] = cfg.quote_refresh_ms / 1000.0
    sp[SP_CANCEL_ON_FILL] = float(cfg.cancel_on_fill)
    sp[SP_TREND_THRESHOLD] = cfg.trend_threshold
    sp[SP_TREND_WIDEN] = cfg.trend_widen_fraction
    sp[SP_TREND_SHIFT] = cfg.trend_shift_fraction
    sp[SP_TREND_REDUCTION] = cfg.trend_reduction_multiplier
    sp[SP_PAUSE_ON_NEWS] = float(cfg.pause_on_news)
    sp[SP_MAX_VOL] = cfg.max_volatility_bps
    sp[SP_HIGH_VOL] = cfg.high_volatility_bps
    sp[SP_STOP_LOSS] = cfg.stop_loss_fraction
    sp[SP_DAILY_STOP] = cfg.daily_stop_fraction
    sp[SP_CAPITAL] = cfg.capital
    sp[SP_RS_MIN_FILLS] = cfg.realised_spread_min_fills
    sp[SP_RS_ALPHA] = cfg.realised_spread_alpha
    sp[SP_PAUSE_DURATION] = cfg.pause_duration_s
    sp[SP_EXIT_MULT] = cfg.exit_spread_multiplier
    sp[SP_MAKER_FEE_BPS] = maker_fee_bps
    return sp
