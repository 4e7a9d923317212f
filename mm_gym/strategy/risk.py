"""Risk limits of the strategy: stop losses and the realised-spread rules (numba, scalars)."""

from __future__ import annotations

import numba as nb
import numpy as np

from mm_gym.strategy.layout import (
    SP_CAPITAL,
    SP_DAILY_STOP,
    SP_EXIT_MULT,
    SP_MAKER_FEE_BPS,
    SP_RS_MIN_FILLS,
    SP_STOP_LOSS,
)


@nb.njit(cache=True)
def daily_stop_hit(equity: float, sp: np.ndarray) -> bool:
    """Daily stop: the session's loss exceeds ``daily_stop_fraction`` of capital."""
    return equity < -sp[SP_DAILY_STOP] * sp[SP_CAPITAL]


@nb.njit(cache=True)
def position_stop_hit(inventory: float, avg_cost: float, mid: float, sp: np.ndarray) -> bool:
    """Per-symbol stop: the open position's loss exceeds ``stop_loss_fraction`` of its value.

    Prices in ticks (the tick size cancels out of the ratio).
    """
    if inventory == 0:
        return False
    unrealised = inventory * (mid - avg_cost)
    value = abs(inventory) * mid
    return unrealised < -sp[SP_STOP_LOSS] * value


@nb.njit(cache=True)
def realised_spread_too_low(rs_ewma_bps: float, rs_count: int, sp: np.ndarray) -> bool:
    """ "If realised spread < costs: pause quoting", once enough fills are measured."""
    return rs_count >= sp[SP_RS_MIN_FILLS] and rs_ewma_bps < sp[SP_MAKER_FEE_BPS]


@nb.njit(cache=True)
def widening_failed(spread_multiplier: float, inventory: float, sp: np.ndarray) -> bool:
    """ "If spread widening fails: exit position": the realised spread stayed below costs
    although the spread was already widened to ``exit_spread_multiplier`` or more."""
    return inventory != 0 and spread_multiplier >= sp[SP_EXIT_MULT]
