"""The one batched step of the market-making environments (no autoreset, no Gymnasium API).

``MarketMakingCore`` owns a ``MarketSim`` and turns actions into quoting parameters, steps
the market one decision interval and computes observations, rewards and info. The single
env is a core of one; the vector env is a core of N with autoreset on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mm_gym.config import deep_merge, load_yaml_mapping
from mm_gym.envs.actions import check_actions, clip_unit, range_to_unit, unit_to_range
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.observations import IDX, NUM_BASE_OBS, OBS_HIGH, OBS_LOW, build_observations
from mm_gym.envs.rewards import REWARDS, StepOutcome
from mm_gym.errors import ConfigError
from mm_gym.market import layout as lay
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.baseline import detect_regime, table_params

ACTION_DIM = 3


def make_config(
    config: EnvConfig | Mapping[str, Any] | None = None,
    config_path: str | Path | None = None,
    **overrides: Any,
) -> EnvConfig:
    """An ``EnvConfig`` from an object, a mapping or a YAML file, plus keyword overrides."""
    if config is not None and config_path is not None:
        raise ConfigError("config and config_path: give one, not both")
    if isinstance(config, EnvConfig):
        base = config.to_dict()
    elif isinstance(config, Mapping):
        base = dict(config)
    elif config is None:
        base = load_yaml_mapping(config_path) if config_path is not None else {}
    else:
        raise ConfigError(f"config={config!r}: expected an EnvConfig, a mapping or None")
    return EnvConfig.from_dict(deep_merge(base, overrides))


class MarketMakingCore:
    """N markets, each an episode of ``session_s`` seconds in decision steps."""

    def __init__(self, num_envs: int, config: EnvConfig, threads: int | None = None) -> None:
        self.config = config
        self.n = num_envs
        self.sim = MarketSim(num_envs, config.market, config.strategy, threads=threads)
        self.dt = config.decision_interval_ms / 1000.0
        self.max_steps = config.steps_per_episode
        self.low = np.array([config.spread_multiplier_range[0], config.inventory_skew_range[0],
                             config.size_fraction_range[0]])
        self.high = np.array([config.spread_multiplier_range[1], config.inventory_skew_range[1],
                              config.size_fraction_range[1]])
        self.residual_scale = np.array(config.residual_scale, dtype=np.float64)
        self.reward_fn = REWARDS[config.reward]
        self.obs_dim = NUM_BASE_OBS + (NUM_LABELS if config.expose_regime else 0)
        self.obs_low = np.concatenate([OBS_LOW, np.zeros(self.obs_dim - NUM_BASE_OBS, np.float32)])
        self.obs_high = np.concatenate([OBS_HIGH, np.ones(self.obs_dim - NUM_BASE_OBS, np.float32)])
        self.obs = np.zeros((num_envs, self.obs_dim), dtype=np.float32)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.seeds = np.zeros(num_envs, dtype=np.int64)
        self.episodes = np.zeros(num_envs, dtype=np.int64)
        self.t_start = np.zeros(num_envs)
        self.params = np.zeros((num_envs, ACTION_DIM))
        self._all = np.ones(num_envs, dtype=bool)

    # ------------------------------------------------------------------ episode control
    def reset(self, seeds: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Start new episodes for ``mask``: episode 0 of ``seeds[i]``."""
        mask = self._all if mask is None else mask
        self.seeds[mask] = np.asarray(seeds, dtype=np.int64)[mask]
        self.episodes[mask] = 0
        return self._start(mask)

    def next_episode(self, mask: np.ndarray) -> np.ndarray:
        """Start the next episode of each masked market's seed (autoreset)."""
        self.episodes[mask] += 1
        return self._start(mask)

    def _start(self, mask: np.ndarray) -> np.ndarray:
        self.sim.reset(self.seeds, mask=mask, episodes=self.episodes)
        self.steps[mask] = 0
        self.t_start[mask] = self.sim.time[mask]
        self._observe()
        return self.obs

    # ------------------------------------------------------------------ stepping
    def baseline_params(self, obs: np.ndarray) -> np.ndarray:
        """The rule baseline's table parameters for these observations."""
        vol = obs[:, IDX["vol_short"]]
        detected = detect_regime(vol, obs[:, IDX["trend"]], obs[:, IDX["news_flag"]] > 0.5,
                                 self.config.baseline)
        return table_params(detected, vol, self.config.baseline)

    def action_to_params(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """Check and map actions to quoting parameters; returns (params, clipped counts)."""
        arr = check_actions(actions, self.n, ACTION_DIM)
        unit, clipped = clip_unit(arr)
        if self.config.action_mode == "residual":
            params = self.baseline_params(self.obs) + unit * self.residual_scale
            held = np.clip(params, self.low, self.high)
            clipped = clipped + (held != params).sum(axis=1)
            params = held
        else:
            params = unit_to_range(unit, self.low, self.high)
        return params, clipped

    def params_to_action(self, params: np.ndarray) -> np.ndarray:
        """The absolute-mode action that gives these quoting parameters."""
        return range_to_unit(params, self.low, self.high).astype(np.float32)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One decision step for every market: (obs, reward, terminated, truncated, info)."""
        params, clipped = self.action_to_params(actions)
        sim = self.sim
        equity_before = sim.equity
        mid_before = sim.mid
        inv_before = sim.inventory.copy()
        self.params[:] = params
        sim.advance(self.dt, params)
        self.steps += 1
        equity_after = sim.equity
        outcome = StepOutcome(
            equity_change=equity_after - equity_before,
            inventory_pnl=inv_before * (sim.mid - mid_before),
            inventory=sim.inventory,
            dt=self.dt,
        )
        reward = self.reward_fn(outcome, self.config) / self.config.reward_scale
        terminated = sim.ints[:, lay.I_HALTED] == 1
        truncated = (self.steps >= self.max_steps) & ~terminated
        self._observe()
        return self.obs, reward, terminated, truncated, self.info(clipped)

    def _observe(self) -> None:
        sim = self.sim
        build_observations(
            sim.fs, sim.ints, sim.book, sim.orders, sim.equity, self.t_start,
            self.config.session_s, sim.mp, sim.sp, self.config.expose_regime, NUM_LABELS,
            self.obs,
        )

    def info(self, clipped: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per-market info arrays: regime, account, this step's fills and markouts so far."""
        sim = self.sim
        fs, ints, st = sim.fs, sim.ints, sim.step_stats
        regime = sim.regime
        weights = fs[:, lay.F_MOW1:lay.F_MOW60 + 1]
        markouts = fs[:, lay.F_MO1:lay.F_MO60 + 1] / np.maximum(weights, 1.0)  # 0 until a fill
        return {
            "regime": np.array(LABEL_NAMES, dtype=object)[regime],
            "regime_id": regime,
            "equity": sim.equity,
            "cash": sim.cash.copy(),
            "inventory": sim.inventory.copy(),
            "mid": sim.mid.copy(),
            "fills": st[:, lay.S_FILLS].astype(np.int64),
            "step_fees": st[:, lay.S_FEES].copy(),
            "fees": fs[:, lay.F_FEES].copy(),
            "spread_captured": fs[:, lay.F_SPREAD_CAPTURED].copy(),
            "markout_1s": markouts[:, 0],
            "markout_10s": markouts[:, 1],
            "markout_60s": markouts[:, 2],
            "spread_multiplier": self.params[:, 0].copy(),
            "inventory_skew": self.params[:, 1].copy(),
            "size_fraction": self.params[:, 2].copy(),
            "action_clipped": np.zeros(self.n, np.int64) if clipped is None else clipped,
            "news_flag": sim.news_flag,
        }
