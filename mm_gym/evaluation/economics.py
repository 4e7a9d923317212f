"""The market maker's economics per pinned regime: PnL per hour split into spread captured,
inventory carry, fees and markouts, for the rule baseline and a rule-free Normal-row quoter.

It runs the baseline through the envs, so it sits above them (the market's own realism
metrics are ``mm_gym.market.realism``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import param_bounds
from mm_gym.evaluation.episodes import run_episodes
from mm_gym.evaluation.metrics import mean_ci, paired_difference
from mm_gym.market.config import MarketConfig
from mm_gym.market.regimes import REGIME_NAMES
from mm_gym.market.scaling import range_to_unit

__all__ = [
    "ECONOMICS_COLUMNS",
    "QUOTERS",
    "ConstantPolicy",
    "Economics",
    "economics_values",
    "mm_economics",
    "rule_free",
]

QUOTERS = ("baseline", "normal_row")
ECONOMICS_COLUMNS = (
    "pnl",
    "spread_captured",
    "inventory_carry",
    "fees",
    "markout_1s",
    "markout_10s",
    "markout_60s",
    "fills",
)


def rule_free(config: EnvConfig) -> EnvConfig:
    """``config`` with the quoting engine's rules off: no trend asymmetry, no pause (news,
    volatility, spread collapse, realised spread), no stop. Spread, skew beyond the soft limit,
    size and the hard inventory limit stay. (The high-vol threshold moves out of reach, and
    with it the baseline table's top of the high-vol ramp, which must lie above it.)"""
    unreachable = 1e12
    return config.replace(
        strategy=dict(
            trend_widen_fraction=0.0,
            trend_shift_fraction=0.0,
            trend_reduction_multiplier=1.0,
            pause_on_news=False,
            high_volatility_bps=unreachable,
            max_volatility_bps=unreachable,
            realised_spread_min_fills=1_000_000,
            stop_loss_fraction=1.0,
            daily_stop_fraction=1.0,
        ),
        baseline={"extreme_vol_bps": 2 * unreachable},
    )


class ConstantPolicy:
    """The same quoting parameters in every state (Stable-Baselines3 ``predict`` signature)."""

    def __init__(self, config: EnvConfig, params: Sequence[float]) -> None:
        low, high = param_bounds(config)
        self.action = range_to_unit(np.asarray(params, dtype=np.float64), low, high).astype(
            np.float32
        )

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        obs = np.asarray(observation)
        if obs.ndim == 1:
            return self.action.copy(), state
        return np.tile(self.action, (obs.shape[0], 1)), state


@dataclasses.dataclass
class Economics:
    """The market maker per pinned regime.

    ``episodes``: one row per quoter, regime and seed, every column of ``ECONOMICS_COLUMNS``
    per hour of the episode. ``table``: their means per (quoter, regime), with the t-based
    95% interval of the PnL (``pnl_low``, ``pnl_high``). PnL = spread captured - fees +
    inventory carry, where the spread captured is ``side * (mid - price) * lots`` over the
    maker fills and the carry is the rest (the mid's moves on the inventory held, and the
    crossing cost of taker fills); the markouts, the mid's move 1 s / 10 s / 60 s after each
    fill signed by its side, are the adverse-selection part of the carry.
    """

    episodes: pd.DataFrame
    table: pd.DataFrame


def mm_economics(
    market: MarketConfig,
    markets: int,
    hours: float,
    seed: int = 0,
    *,
    env: EnvConfig | None = None,
    regimes: Sequence[str] = REGIME_NAMES,
) -> Economics:
    """The rule baseline and the rule-free Normal-row quoter (the table's normal row, always)
    on ``market`` pinned to each regime, seeds ``seed..seed+markets-1``, ``hours`` each."""
    base = env or EnvConfig()
    session_s = round(hours * 3600.0 / (base.decision_interval_ms / 1000.0)) * (
        base.decision_interval_ms / 1000.0
    )
    seeds = list(range(seed, seed + markets))
    frames = []
    for regime in regimes:
        cfg = base.replace(session_s=session_s, market={**market.to_dict(), "pin_regime": regime})
        free = rule_free(cfg)
        for quoter, policy, run_cfg in (
            ("baseline", RuleBasedPolicy(cfg), cfg),
            ("normal_row", ConstantPolicy(free, free.baseline.normal), free),
        ):
            res = run_episodes(policy, run_cfg, seeds)
            frames.append(_per_hour(res.episodes, run_cfg, quoter, regime))
    episodes = pd.concat(frames, ignore_index=True)
    return Economics(episodes=episodes, table=_economics_table(episodes))


def _per_hour(ep: pd.DataFrame, cfg: EnvConfig, quoter: str, regime: str) -> pd.DataFrame:
    hours = ep["steps"].to_numpy() * cfg.decision_interval_ms / 1000.0 / 3600.0
    volume = ep["volume"].to_numpy()
    out = pd.DataFrame({"quoter": quoter, "regime": regime, "seed": ep["seed"].to_numpy()})
    out["pnl"] = ep["pnl"].to_numpy() / hours
    out["spread_captured"] = ep["spread_captured"].to_numpy() / hours
    out["fees"] = ep["fees"].to_numpy() / hours
    out["inventory_carry"] = out["pnl"] - out["spread_captured"] + out["fees"]
    for h in ("1s", "10s", "60s"):
        per_lot = np.nan_to_num(ep[f"markout_{h}"].to_numpy())
        out[f"markout_{h}"] = per_lot * volume / hours
    out["fills"] = ep["fills"].to_numpy() / hours
    out["hours"] = hours
    return out


def _economics_table(episodes: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (quoter, regime), group in episodes.groupby(["quoter", "regime"], sort=False):
        ci = mean_ci(group["pnl"].to_numpy())
        row = {"quoter": quoter, "regime": regime}
        row.update({c: float(group[c].mean()) for c in ECONOMICS_COLUMNS})
        row.update({"pnl_low": ci.low, "pnl_high": ci.high, "market_hours": group["hours"].sum()})
        rows.append(row)
    return pd.DataFrame(rows).set_index(["quoter", "regime"])


def economics_values(econ: Economics) -> dict[str, float]:
    """The facts of the economics: each quoter's PnL per hour with a trend pinned minus with
    ranging pinned (paired by seed), keys ``mm_<quoter>_<up|down>_vs_ranging``."""
    pnl = {
        key: group.sort_values("seed")["pnl"].to_numpy()
        for key, group in econ.episodes.groupby(["quoter", "regime"])
    }
    out = {}
    for quoter in QUOTERS:
        for regime, short in (("trending_up", "up"), ("trending_down", "down")):
            if (quoter, regime) in pnl and (quoter, "ranging") in pnl:
                diff = paired_difference(pnl[quoter, regime], pnl[quoter, "ranging"])
                out[f"mm_{quoter}_{short}_vs_ranging"] = diff.mean_diff
    return out
