"""Named reward functions. Every reward is in currency per decision step, divided by
``reward_scale``; the penalties use inventory in lots and time in seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mm_gym.envs.observations import INFO_INDEX

EQUITY, INVENTORY, MID = INFO_INDEX["equity"], INFO_INDEX["inventory"], INFO_INDEX["mid"]


@dataclass(frozen=True)
class StepOutcome:
    """What a reward may look at, per market, for one decision step."""

    equity_change: np.ndarray  # mark-to-market equity change, currency
    inventory_pnl: np.ndarray  # part of it from holding inventory: inventory_before * mid move
    inventory: np.ndarray  # inventory after the step, lots
    dt: float  # seconds
    carry_noise: np.ndarray | float = 0.0  # inventory_before * (fair move - drift * dt)


def carry_noise(
    inventory: np.ndarray, fair_move: np.ndarray, drift: np.ndarray, dt: float
) -> np.ndarray:
    """The unpredictable part of holding ``inventory`` over a step, ``inventory * (fair move -
    drift * dt)``: what ``reward_carry="expected"`` leaves out of the reward (its mean is 0, so
    the expected reward is unchanged and its variance smaller)."""
    return inventory * (fair_move - drift * dt)


def step_outcome(
    before: np.ndarray, after: np.ndarray, dt: float, noise: np.ndarray | float = 0.0
) -> StepOutcome:
    """The ``StepOutcome`` of one step from the info arrays (``INFO_NAMES`` columns) before and
    after it; ``noise``: ``carry_noise`` or 0."""
    inventory = before[:, INVENTORY]
    return StepOutcome(
        equity_change=after[:, EQUITY] - before[:, EQUITY],
        inventory_pnl=inventory * (after[:, MID] - before[:, MID]),
        inventory=after[:, INVENTORY],
        dt=dt,
        carry_noise=noise,
    )


def pnl(o: StepOutcome, cfg) -> np.ndarray:
    """Plain change in mark-to-market equity (less ``carry_noise``: 0 unless
    ``reward_carry="expected"``)."""
    return o.equity_change - o.carry_noise


def pnl_inventory_penalty(o: StepOutcome, cfg) -> np.ndarray:
    """Equity change minus a running penalty ``inventory_penalty * inventory**2 * dt`` (and
    less ``carry_noise``, as ``pnl``)."""
    penalty = cfg.inventory_penalty * o.inventory.astype(np.float64) ** 2 * o.dt
    return o.equity_change - o.carry_noise - penalty


def dampened_pnl(o: StepOutcome, cfg) -> np.ndarray:
    """Asymmetrically dampened PnL: gains from holding inventory count ``1 - dampening``,
    losses in full, so speculation on price moves is discouraged."""
    return o.equity_change - cfg.dampening * np.maximum(o.inventory_pnl, 0.0)


def risk_adjusted(o: StepOutcome, cfg) -> np.ndarray:
    """Mean-variance step reward: ``equity_change - risk_aversion * equity_change**2``."""
    return o.equity_change - cfg.risk_aversion * o.equity_change**2


REWARDS: dict[str, Callable[[StepOutcome, object], np.ndarray]] = {
    "pnl_inventory_penalty": pnl_inventory_penalty,
    "pnl": pnl,
    "dampened_pnl": dampened_pnl,
    "risk_adjusted": risk_adjusted,
}
