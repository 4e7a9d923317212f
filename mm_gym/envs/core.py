"""The one batched step of the market-making environments (no autoreset, no Gymnasium API).

``MarketMakingCore`` owns a ``MarketSim`` and turns actions into quoting parameters, steps
the market one decision interval and computes observations, rewards and info. The single
env is a core of one; the vector env is a core of N with autoreset on top. With several
makers per market, every per-maker array (actions, observations, rewards, info) has a row per
maker, ``a = i * makers + m``; episodes, seeds and clocks are the markets'.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mm_gym.config import deep_merge, load_yaml_mapping, resolve_config
from mm_gym.envs.actions import check_actions, clip_unit
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.observations import (
    DETECTED_AT,
    FEATURE_HIGH,
    FEATURE_LOW,
    IDX,
    INFO_BOOL,
    INFO_INDEX,
    INFO_INT,
    INFO_NAMES,
    NUM_BASE_OBS,
    SINCE_FILL_CAP_MIN,
    TABLE_AT,
    best_levels,
    build_info,
    build_observations,
    mirror_columns,
    observation_bounds,
    order_flow_imbalance,
    table_bounds,
)
from mm_gym.envs.rewards import REWARDS, carry_noise, step_outcome
from mm_gym.errors import ConfigError
from mm_gym.market.layout import MF_RS_EWMA, S_FILLS
from mm_gym.market.regimes import LABEL_NAMES, NUM_LABELS, REGIME_NAMES, UNKNOWN_REGIME
from mm_gym.market.rng import PIN_STREAM, episode_generators
from mm_gym.market.scaling import range_to_unit, unit_to_range
from mm_gym.market.sim import MarketSim
from mm_gym.strategy.baseline import DETECTED_NAMES, detect_regime, table_params
from mm_gym.strategy.layout import PARAM_NAMES

ACTION_DIM = 3


def make_config(
    config: EnvConfig | Mapping[str, Any] | None = None,
    config_path: str | Path | None = None,
    cls: type[EnvConfig] = EnvConfig,
    **overrides: Any,
) -> EnvConfig:
    """An ``EnvConfig`` (or its subclass ``cls``) from an object, a mapping or a YAML file,
    plus keyword overrides.

    ``config_path`` is a file or the name of a shipped env config (``"default"``).
    """
    if config is not None and config_path is not None:
        raise ConfigError("config and config_path: give one, not both")
    if isinstance(config, EnvConfig):
        base = config.to_dict()
    elif isinstance(config, Mapping):
        base = dict(config)
    elif config is None:
        base = {} if config_path is None else load_yaml_mapping(resolve_config("envs", config_path))
    else:
        raise ConfigError(f"config={config!r}: expected an EnvConfig, a mapping or None")
    return cls.from_dict(deep_merge(base, overrides))


def param_bounds(config: EnvConfig) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of (spread multiplier, inventory skew, size fraction)."""
    ranges = (
        config.spread_multiplier_range,
        config.inventory_skew_range,
        config.size_fraction_range,
    )
    return np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges])


def detected_regime(obs: np.ndarray, config: EnvConfig) -> np.ndarray:
    """The baseline's regime detector on a batch of observations ``(N, obs_dim)``."""
    return detect_regime(
        obs[:, IDX["vol_short"]],
        obs[:, IDX["trend"]],
        obs[:, IDX["news_flag"]] > 0.5,
        config.strategy,
    )


def baseline_params(
    obs: np.ndarray, config: EnvConfig, regime: np.ndarray | None = None
) -> np.ndarray:
    """The rule baseline's table parameters ``(N, 3)`` for a batch of observations, in the
    detected regime, or in ``regime`` (label ids) when given."""
    if regime is None:
        regime = detected_regime(obs, config)
    return table_params(regime, obs[:, IDX["vol_short"]], config.baseline, config.strategy)


class MarketMakingCore:
    """N markets, each an episode of ``session_s`` seconds in decision steps, with ``makers``
    market makers each (one unless given)."""

    def __init__(
        self, num_envs: int, config: EnvConfig, threads: int | None = None, makers: int = 1
    ) -> None:
        self.config = config
        self.n = num_envs
        self.makers = makers
        self.rows = num_envs * makers  # one per maker
        window = {
            "max_spread_multiplier": config.spread_multiplier_range[1],
            "max_inventory_skew": config.inventory_skew_range[1],
        }
        if config.data is None:
            self.sim = MarketSim(
                num_envs, config.market, config.strategy, threads, makers=makers, **window
            )
        else:  # a recording: the replay needs the data extra (pyarrow), loaded only here
            if makers != 1:
                raise ConfigError(
                    f"makers={makers!r} with data={config.data!r}: a recorded market has one maker"
                )
            from mm_gym.market.replay_sim import ReplaySim, load_recording

            self.sim = ReplaySim(
                num_envs,
                load_recording(config.data, config.shares_per_lot),
                config.session_s,
                config.market,
                config.strategy,
                threads,
                **window,
            )
        self.dt = config.decision_interval_ms / 1000.0
        self.max_steps = config.steps_per_episode
        self.low, self.high = param_bounds(config)
        self.residual_scale = np.array(config.residual_scale, dtype=np.float64)
        self.reward_fn = REWARDS[config.reward]
        self.obs_low, self.obs_high = observation_bounds(config)
        self._table_low, self._table_high = table_bounds(config)
        self._eye = np.eye(len(DETECTED_NAMES), dtype=np.float32)
        self.obs_dim = self.obs_low.size
        self.regime_at = self.obs_dim - (NUM_LABELS if config.expose_regime else 0)
        rows = self.rows
        self.obs = np.zeros((rows, self.obs_dim), dtype=np.float32)
        self._levels = np.zeros((num_envs, 4))  # best levels at the last observation
        self._features = np.zeros((rows, len(FEATURE_LOW)))  # as observed, not mirrored
        self._negate, swap = mirror_columns(config)
        self._swap_from = [a for a, b in swap] + [b for a, b in swap]
        self._swap_to = [b for a, b in swap] + [a for a, b in swap]
        self._last_fill_t = np.zeros(rows)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.seeds = np.zeros(num_envs, dtype=np.int64)
        self.episodes = np.zeros(num_envs, dtype=np.int64)
        self.t_start = np.zeros(num_envs)
        self.params = np.zeros((rows, ACTION_DIM))
        self._all = np.ones(num_envs, dtype=bool)

    def per_maker(self, values: np.ndarray) -> np.ndarray:
        """Per-market ``values`` (first axis N) repeated for each market's makers."""
        return values if self.makers == 1 else np.repeat(values, self.makers, axis=0)

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
        if self.config.pinned_episodes > 0.0:
            self._pin_some(mask)
        self.steps[mask] = 0
        self.t_start[mask] = self.sim.time[mask]
        rows = self.per_maker(mask)
        self.params[rows] = 0.0  # no quoting parameters used yet in the new episode
        self._last_fill_t[rows] = self.per_maker(self.t_start)[rows]
        self._observe(mask, started=True)
        return self.obs

    def _pin_some(self, mask: np.ndarray) -> None:
        """Pin the regime of a ``pinned_episodes`` share of the masked markets' new episodes,
        each draw a function of the market's seed and episode number alone."""
        eligible = [
            k for k, name in enumerate(REGIME_NAMES) if self.config.market.regimes[name].weight > 0
        ]
        markets, regimes = [], []
        chosen = np.flatnonzero(mask)
        draws = episode_generators(self.seeds[chosen], self.episodes[chosen], PIN_STREAM)
        for i, draw in zip(chosen, draws, strict=True):
            if draw.random() < self.config.pinned_episodes:
                markets.append(i)
                regimes.append(eligible[draw.integers(len(eligible))])
        self.sim.pin_regimes(np.array(markets, dtype=np.int64), np.array(regimes, dtype=np.int64))

    # ------------------------------------------------------------------ stepping
    def baseline_params(self, obs: np.ndarray) -> np.ndarray:
        """The rule baseline's table parameters for these observations."""
        return baseline_params(obs, self.config)

    def action_to_params(
        self, actions: Any, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check and map actions to quoting parameters; returns (params, clipped counts).
        ``rows``: the maker rows the actions are for (every row by default)."""
        arr = check_actions(actions, self.rows if rows is None else len(rows), ACTION_DIM)
        unit, clipped = clip_unit(arr)
        if self.config.action_mode == "residual":
            obs = self.obs if rows is None else self.obs[rows]
            params = self.baseline_params(obs) + unit * self.residual_scale
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
        """One decision step for every market: (obs, reward, terminated, truncated, info), a
        row per maker."""
        out = self.step_arrays(actions)
        return (*out, self.info(self.last_clipped))

    def step_arrays(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``step`` without building the info dict (see ``info``/``scalar_info``)."""
        return self.step_params(*self.action_to_params(actions))

    def step_params(
        self, params: np.ndarray, clipped: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One decision step with these quoting parameters (a row per maker, checked and held
        to the ranges; ``clipped``: the action components clipped for them): (obs, reward,
        terminated, truncated)."""
        before = self.info_arr
        expected_carry = self.config.reward_carry == "expected"
        if expected_carry:
            fair_before, drift = self.sim.fair_value, self.per_maker(self.sim.regime_drift)
        self.params[:] = params
        self.sim.advance(self.dt, params)
        self.steps += 1
        if self.config.market_features:
            filled = self.sim.step_stats[:, S_FILLS] > 0
            self._last_fill_t[filled] = self.per_maker(self.sim.time)[filled]
        self._observe()
        after = self.info_arr
        noise = 0.0
        if expected_carry:
            fair_move = self.per_maker(self.sim.fair_value - fair_before)
            noise = carry_noise(before[:, INFO_INDEX["inventory"]], fair_move, drift, self.dt)
        outcome = step_outcome(before, after, self.dt, noise)
        reward = self.reward_fn(outcome, self.config) / self.config.reward_scale
        terminated = after[:, INFO_INDEX["halted"]] > 0.5
        truncated = self.per_maker(self.steps >= self.max_steps) & ~terminated
        self.last_clipped = clipped
        return self.obs, reward, terminated, truncated

    def _observe(self, mask: np.ndarray | None = None, started: bool = False) -> None:
        """Build the observations (the features of ``mask`` only; ``started``: they begin an
        episode) and the info array."""
        sim = self.sim
        build_observations(
            sim.fs,
            sim.ints,
            sim.mfs,
            sim.mints,
            sim.book,
            sim.orders,
            self.t_start,
            self.config.session_s,
            sim.mp,
            sim.sp,
            self.config.expose_regime,
            NUM_LABELS,
            self.regime_at,
            self.obs,
        )
        detected = detected_regime(self.obs, self.config)
        self.obs[:, DETECTED_AT:TABLE_AT] = self._eye[detected]
        table = baseline_params(self.obs, self.config, regime=detected)
        self.obs[:, TABLE_AT:NUM_BASE_OBS] = np.clip(table, self._table_low, self._table_high)
        if self.config.market_features:
            self._observe_features(self._all if mask is None else mask, started)
            self.obs[:, NUM_BASE_OBS : self.regime_at] = self._features
        if self.config.mirror_trend:
            self._mirror()
        self.info_arr = np.empty((self.rows, len(INFO_NAMES)))
        build_info(sim.fs, sim.ints, sim.mfs, sim.mints, sim.step_stats, sim.mp, self.info_arr)

    def _observe_features(self, mask: np.ndarray, started: bool) -> None:
        sim = self.sim
        levels = np.empty((self.n, 4))
        best_levels(sim.ints, sim.book, levels)
        ofi = np.zeros(self.n) if started else order_flow_imbalance(self._levels, levels)
        self._levels[mask] = levels[mask]
        since = (self.per_maker(sim.time) - self._last_fill_t) / 60.0
        features = np.column_stack(
            [
                np.nan_to_num(sim.mfs[:, MF_RS_EWMA]),
                np.minimum(since, SINCE_FILL_CAP_MIN),
                self.per_maker(ofi),
            ]
        )
        rows = self.per_maker(mask)
        self._features[rows] = np.clip(features, FEATURE_LOW, FEATURE_HIGH)[rows]

    def _mirror(self) -> None:
        """Show markets with a falling trend in their mirror image (``mirror_trend``)."""
        down = self.obs[:, IDX["trend"]] < 0.0
        if not down.any():
            return
        rows = self.obs[down]
        rows[:, self._negate] *= -1.0
        rows[:, self._swap_to] = rows[:, self._swap_from]
        self.obs[down] = rows

    def info(self, clipped: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per-market info arrays: the true regime, the account, this step's fills, markouts
        so far, the quoting parameters used and how many action components were clipped."""
        arr = self.info_arr
        out: dict[str, np.ndarray] = {}
        for k, name in enumerate(INFO_NAMES):
            col = arr[:, k]
            if name in INFO_INT:
                col = col.astype(np.int64)
            elif name in INFO_BOOL:
                col = col > 0.5
            out[name] = col
        out["regime"] = REGIME_LABELS[out["regime_id"]]
        if self.config.data is not None:
            out["regime_id"][:] = UNKNOWN_REGIME
            out["regime"] = np.full(self.rows, "unknown", dtype=object)
        for k, name in enumerate(PARAM_NAMES):
            out[name] = self.params[:, k].copy()
        out["action_clipped"] = np.zeros(self.rows, np.int64) if clipped is None else clipped
        return out

    def scalar_info(self, clipped: np.ndarray | None = None, i: int = 0) -> dict[str, Any]:
        """``info`` of row ``i`` (market ``i`` with one maker) as Python scalars (the single
        env's info)."""
        out: dict[str, Any] = dict(zip(INFO_NAMES, self.info_arr[i].tolist(), strict=True))
        for name in INFO_INT:
            out[name] = int(out[name])
        for name in INFO_BOOL:
            out[name] = out[name] > 0.5
        out["regime"] = LABEL_NAMES[out["regime_id"]]
        if self.config.data is not None:
            out["regime_id"], out["regime"] = UNKNOWN_REGIME, "unknown"
        out.update(zip(PARAM_NAMES, self.params[i].tolist(), strict=True))
        out["action_clipped"] = 0 if clipped is None else int(clipped[i])
        return out


REGIME_LABELS = np.array(LABEL_NAMES, dtype=object)
