"""One episode per seed, batched, for any policy with SB3's ``predict``: both envs.

``MarketMaking-v0`` goes through ``mm_gym.evaluation.run_episodes`` (the project's one
evaluation path, shared with the baseline's backtests). ``AvellanedaStoikov-v0`` has no regime
or order book, so ``run_as_episodes`` here steps its native vector env and fills the same
``EpisodeResults`` shape with the columns that make sense for it:

- ``episode_return``: the CJP objective ``X_T + q_T (S_T - alpha q_T) - phi sum q^2 dt``.
- ``pnl``: ``cash + q_T * S_T`` at the end (no penalties).
- ``sharpe``: mean / std of the per-step wealth change times ``sqrt(steps)`` (per episode).
- ``max_drawdown``, ``fills`` (lots traded / order size), ``spread_captured`` (sum of the
  filled depths times size), ``inventory_mean_abs``, ``inventory_max_abs``,
  ``final_inventory``, ``time_quoting`` (share of steps with both sides offered), ``steps``.

Paths (``record_paths``): ``time, equity, reward, inventory, half_spread, skew, quoting``,
shape ``(episodes, steps)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mm_gym.envs.registration import env_entry
from mm_gym.errors import ConfigError
from mm_gym.evaluation.episodes import EpisodeResults, run_episodes
from mm_gym.evaluation.metrics import max_drawdown
from mm_gym.market.scaling import unit_to_range

__all__ = ["AS_COLUMNS", "run_as_episodes", "run_policy"]

AS_COLUMNS = (
    "seed",
    "episode_return",
    "pnl",
    "sharpe",
    "max_drawdown",
    "fills",
    "spread_captured",
    "inventory_mean_abs",
    "inventory_max_abs",
    "final_inventory",
    "time_quoting",
    "steps",
)


def run_policy(
    env_id: str,
    env_config: Any,
    policy: Any,
    seeds: Sequence[int],
    *,
    record_paths: bool = False,
    deterministic: bool = True,
    progress: bool = False,
) -> EpisodeResults:
    """``run_episodes`` for the env ``env_id`` (see the module docstring)."""
    if env_entry(env_id).engine == "avellaneda_stoikov":
        return run_as_episodes(
            policy, env_config, seeds, record_paths=record_paths, deterministic=deterministic
        )
    return run_episodes(
        policy,
        env_config,
        seeds,
        record_paths=record_paths,
        deterministic=deterministic,
        progress=progress,
    )


def run_as_episodes(
    policy: Any,
    config: Any,
    seeds: Sequence[int],
    *,
    record_paths: bool = False,
    deterministic: bool = True,
) -> EpisodeResults:
    """One AS episode per seed, all in one native vector env (market i seeded ``seeds[i]``)."""
    from mm_gym.envs.avellaneda_stoikov import AvellanedaStoikovVectorEnv, action_bounds

    seed_arr = np.asarray(list(seeds), dtype=np.int64)
    if seed_arr.ndim != 1 or seed_arr.size == 0:
        raise ConfigError(f"seeds={seeds!r}: expected a non-empty list of integers")
    n = int(seed_arr.size)
    env = AvellanedaStoikovVectorEnv(num_envs=n, config=config)
    c = env.config
    low, high = action_bounds(c)
    steps = c.n_steps
    obs, info = env.reset(seed=[int(s) for s in seed_arr])
    names = ("time", "equity", "reward", "inventory", "half_spread", "skew", "quoting")
    paths = {k: np.zeros((n, steps)) for k in names}
    spread = np.zeros(n)
    fills = np.zeros(n)
    state = None
    episode_start = np.ones(n, dtype=bool)
    for k in range(steps):
        q_before = env.market.inv.astype(np.float64)
        actions, state = policy.predict(
            obs, state=state, episode_start=episode_start, deterministic=deterministic
        )
        episode_start = np.zeros(n, dtype=bool)
        unit = np.clip(np.asarray(actions, dtype=np.float64).reshape(n, 3), -1.0, 1.0)
        params = unit_to_range(unit, low, high)
        obs, reward, _, truncated, info = env.step(unit)
        q = info["inventory"].astype(np.float64)
        d_bid = params[:, 0] + params[:, 1] * q_before
        d_ask = params[:, 0] - params[:, 1] * q_before
        spread += info["bought"] * d_bid + info["sold"] * d_ask
        fills += (info["bought"] + info["sold"]) / c.order_size
        paths["time"][:, k] = info["time"]
        paths["equity"][:, k] = info["cash"] + q * info["mid"]
        paths["reward"][:, k] = reward
        paths["inventory"][:, k] = q
        paths["half_spread"][:, k] = params[:, 0]
        paths["skew"][:, k] = params[:, 1]
        paths["quoting"][:, k] = params[:, 2] >= 0.5
    env.close()
    equity = paths["equity"]
    changes = np.diff(np.concatenate([np.zeros((n, 1)), equity], axis=1), axis=1)
    sd = changes.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = np.where(sd > 0, changes.mean(axis=1) / sd * math.sqrt(steps), 0.0)
    inv = paths["inventory"]
    data = {
        "seed": seed_arr,
        "episode_return": paths["reward"].sum(axis=1),
        "pnl": equity[:, -1],
        "sharpe": sharpe,
        "max_drawdown": [max_drawdown(np.concatenate([[0.0], row])) for row in equity],
        "fills": fills,
        "spread_captured": spread,
        "inventory_mean_abs": np.abs(inv).mean(axis=1),
        "inventory_max_abs": np.abs(inv).max(axis=1),
        "final_inventory": inv[:, -1],
        "time_quoting": paths["quoting"].mean(axis=1),
        "steps": np.full(n, steps),
    }
    episodes = pd.DataFrame(data, columns=list(AS_COLUMNS))
    per_regime = pd.DataFrame(
        [
            {
                "regime": "all",
                "time_share": 1.0,
                "pnl": float(equity[:, -1].mean()),
                "half_spread": float(paths["half_spread"].mean()),
                "skew": float(paths["skew"].mean()),
                "quoting": float(paths["quoting"].mean()),
                "steps": n * steps,
            }
        ]
    ).set_index("regime")
    return EpisodeResults(
        episodes=episodes, per_regime=per_regime, paths=paths if record_paths else None, config=None
    )
