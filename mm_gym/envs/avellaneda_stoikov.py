"""Gymnasium envs over the Avellaneda-Stoikov market: a native vector env and a single env.

Action: ``Box(-1, 1, (3,), float32)`` mapped linearly onto ``(half_spread, skew, size_fraction)``
over ``config.half_spread_range``, ``config.skew_range`` and ``[0, 1]``. With inventory ``q``
the bid sits ``half_spread + skew * q`` below the mid and the ask ``half_spread - skew * q``
above it. A depth may be negative (a quote through the mid); its fill probability per step is
then capped at 1. Both sides are quoted (one unit lot each) when ``size_fraction >= 0.5``, that
is when the third action component is ``>= 0``, and neither otherwise; a side whose fill would
leave ``[q_min, q_max]`` is never quoted. Actions outside ``[-1, 1]`` are clipped and counted in
``info["action_clipped"]``; NaN, infinity or a wrong shape raise ActionError.

Observation: ``(q / q_scale, fraction of the episode left)`` in float32, enough for the optimal
policy, which depends on ``(t, q)`` only. Reward per step: the change in ``cash + q * mid`` minus
``phi * q^2 * dt`` (inventory held over the step), minus ``alpha * q_T^2`` at the last step; an
episode's return is the CJP objective ``X_T + q_T * (S_T - alpha * q_T) - phi * sum q^2 dt``.
Episodes last ``T / dt`` steps and end truncated, never terminated.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode

from mm_gym.config import check_choice
from mm_gym.envs.actions import check_actions, clip_unit
from mm_gym.errors import ConfigError
from mm_gym.market.avellaneda_stoikov import ASConfig, ASMarketBatch
from mm_gym.market.scaling import range_to_unit

__all__ = [
    "AvellanedaStoikovEnv",
    "AvellanedaStoikovVectorEnv",
    "action_bounds",
    "bench_as_vec",
    "depths_to_action",
    "make_config",
]

_INFO_KEYS = ("inventory", "cash", "mid", "time", "penalty", "bought", "sold", "action_clipped")


def make_config(config: ASConfig | dict | None = None, **overrides: Any) -> ASConfig:
    """An ASConfig from a config, a mapping or nothing, with keyword overrides applied."""
    if config is None:
        return ASConfig.from_dict(overrides)
    if isinstance(config, ASConfig):
        return config.replace(**overrides) if overrides else config
    if isinstance(config, dict):
        return ASConfig.from_dict({**config, **overrides})
    raise ConfigError(f"config={config!r}: expected an ASConfig or a mapping")


def action_bounds(config: ASConfig) -> tuple[np.ndarray, np.ndarray]:
    """Low and high of ``(half_spread, skew, size_fraction)`` in price units."""
    low = np.array([config.half_spread_range[0], config.skew_range[0], 0.0])
    high = np.array([config.half_spread_range[1], config.skew_range[1], 1.0])
    return low, high


def depths_to_action(
    config: ASConfig,
    bid_depth: np.ndarray | float,
    ask_depth: np.ndarray | float,
    inventory: np.ndarray | int,
    quote: np.ndarray | bool = True,
) -> np.ndarray:
    """Unit actions, float32 ``(n, 3)``, whose decoded quotes are the given depths at ``inventory``.

    A NaN depth marks a side that does not matter (the env does not quote it at a bound); the
    other side is then matched exactly. At ``q = 0`` the skew has no effect, so bid and ask get
    their mean as half-spread. Values outside the action ranges are clipped to ``[-1, 1]``.
    """
    bid, ask, q, quote = np.broadcast_arrays(
        np.asarray(bid_depth, dtype=np.float64),
        np.asarray(ask_depth, dtype=np.float64),
        np.asarray(inventory, dtype=np.float64),
        np.asarray(quote, dtype=np.bool_),
    )
    bid, ask, q, quote = (np.atleast_1d(x).ravel() for x in (bid, ask, q, quote))
    low, high = action_bounds(config)
    has_b, has_a = np.isfinite(bid), np.isfinite(ask)
    nonzero = q != 0
    safe_q = np.where(nonzero, q, 1.0)
    both = has_b & has_a
    one_side = np.where(has_b, bid, ask)
    half = np.where(both, 0.5 * (bid + ask), np.clip(one_side, low[0], high[0]))
    half = np.where(has_b | has_a, half, 0.5 * (low[0] + high[0]))
    skew = np.where(both, 0.5 * (bid - ask) / safe_q, 0.0)
    skew = np.where(has_b & ~has_a, (bid - half) / safe_q, skew)
    skew = np.where(has_a & ~has_b, (half - ask) / safe_q, skew)
    skew = np.where(nonzero, skew, 0.0)
    size = np.where(quote & (has_b | has_a), 1.0, 0.0)
    unit = range_to_unit(np.stack([half, skew, size], axis=1), low, high)
    return np.clip(unit, -1.0, 1.0).astype(np.float32)


def _spaces(config: ASConfig) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    obs_space = gym.spaces.Box(
        low=np.array([-1.0, 0.0], dtype=np.float32),
        high=np.array([1.0, 1.0], dtype=np.float32),
        dtype=np.float32,
    )
    act_space = gym.spaces.Box(low=-1.0, high=1.0, shape=(3,), dtype=np.float32)
    return obs_space, act_space


def _checked_unit(actions: object, num_envs: int) -> tuple[np.ndarray, np.ndarray]:
    """check_actions, then clip_unit when some component lies outside [-1, 1]."""
    arr = check_actions(actions, num_envs, 3)
    if arr.min() < -1.0 or arr.max() > 1.0:
        return clip_unit(arr)
    return np.ascontiguousarray(arr), np.zeros(num_envs, dtype=np.int64)


def _check_seed(seed: object, count: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ConfigError(f"seed={seed!r}: expected a whole number or None")
    if not 0 <= int(seed) <= 2**64 - count:
        raise ConfigError(f"seed={seed!r}: allowed range is [0, {2**64 - count}]")
    return int(seed)


class AvellanedaStoikovVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` AS markets stepped by one numba kernel; autoreset is NEXT_STEP.

    After a step that returns ``truncated[i]``, the next ``step`` ignores action ``i``, resets
    market ``i`` and returns its first observation with reward 0 and ``action_clipped`` 0.
    ``reset(seed=s)`` seeds market ``i`` with ``s + i``; a reset without a seed continues each
    market's random stream, so market ``i`` replays a single env seeded ``s + i`` exactly.
    ``options={"reset_mask": mask}`` resets only the masked markets.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 1,
        config: ASConfig | dict | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer):
            raise ConfigError(f"num_envs={num_envs!r}: expected a whole number")
        if num_envs < 1:
            raise ConfigError(f"num_envs={num_envs!r}: allowed range is [1, inf)")
        check_choice("render_mode", render_mode, (None,))
        self.config = make_config(config, **overrides)
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.single_observation_space, self.single_action_space = _spaces(self.config)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, self.num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.market = ASMarketBatch(self.config, self.num_envs)
        self._started = False
        self._any_pending = False
        self._all = np.ones(self.num_envs, dtype=np.bool_)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Reset all markets (or ``options["reset_mask"]``); ``seed`` is an int or a list."""
        mask = self._reset_mask(options)
        seeds, reseed = self._seeds(seed)
        if isinstance(seed, int | np.integer):
            super().reset(seed=int(seed))
        self.market.seed(seeds, reseed & mask)
        obs = self.market.reset(None if mask is self._all else mask)
        self._started = True
        self._any_pending = bool(self.market.pending.any())
        return obs, self._info(np.zeros(self.num_envs, dtype=np.int64), mask)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Advance every market one step of ``dt`` (see the class docstring for autoreset)."""
        if not self._started:
            raise ResetNeeded("call reset() before step()")
        arr, clipped = _checked_unit(actions, self.num_envs)
        if self._any_pending:
            clipped[self.market.pending] = 0
        obs, reward, truncated, n_done = self.market.step(arr, True)
        self._any_pending = n_done > 0
        terminated = np.zeros(self.num_envs, dtype=np.bool_)
        return obs, reward, terminated, truncated, self._info(clipped, self._all)

    def _info(self, clipped: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        info: dict[str, np.ndarray] = self.market.info()
        info["action_clipped"] = clipped
        for key in _INFO_KEYS:
            info["_" + key] = mask.copy()
        return info

    def _reset_mask(self, options: dict | None) -> np.ndarray:
        if not options or "reset_mask" not in options:
            return self._all
        mask = options["reset_mask"]
        ok = isinstance(mask, np.ndarray) and mask.dtype == np.bool_
        if not ok or mask.shape != (self.num_envs,) or not mask.any():
            raise ConfigError(
                f"reset_mask={mask!r}: expected a bool array of shape ({self.num_envs},) "
                "with at least one True"
            )
        return mask

    def _seeds(self, seed: int | list[int | None] | None) -> tuple[np.ndarray, np.ndarray]:
        n = self.num_envs
        if isinstance(seed, list | tuple):
            if len(seed) != n:
                raise ConfigError(f"seed={seed!r}: a list of seeds needs {n} entries")
            given = np.array([s is not None for s in seed])
            fresh = self._fresh_seeds()
            values = [fresh[i] if s is None else _check_seed(s, 1) for i, s in enumerate(seed)]
            return np.array(values, dtype=np.uint64), given | ~self.market.seeded
        if seed is None:
            return self._fresh_seeds(), ~self.market.seeded
        base = _check_seed(seed, n)
        return np.uint64(base) + np.arange(n, dtype=np.uint64), np.ones(n, dtype=np.bool_)

    def _fresh_seeds(self) -> np.ndarray:
        entropy = np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0]
        return entropy + np.arange(self.num_envs, dtype=np.uint64)


class AvellanedaStoikovEnv(gym.Env):
    """One AS market: a batch of one over the same kernel as the vector env.

    ``reset(seed=s)`` gives the same path as market ``i`` of a vector env reset with ``s - i``.
    Stepping after the episode has ended raises ResetNeeded. ``render_mode="ansi"`` renders
    the state as a line of text.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 30}

    def __init__(
        self,
        config: ASConfig | dict | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        check_choice("render_mode", render_mode, (None, "ansi"))
        self.config = make_config(config, **overrides)
        self.render_mode = render_mode
        self.observation_space, self.action_space = _spaces(self.config)
        self.market = ASMarketBatch(self.config, 1)
        self._done: bool | None = None

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; a seed restarts the market's random stream, None continues it."""
        if seed is not None:
            seed = _check_seed(seed, 1)
        super().reset(seed=seed)
        if seed is not None:
            self.market.seed(np.array([seed], dtype=np.uint64))
        elif not self.market.seeded[0]:
            self.market.seed(self.np_random.integers(0, 2**63, size=1).astype(np.uint64))
        obs = self.market.reset()
        self._done = False
        return obs[0], self._info(0)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance the market one step of ``dt``."""
        if self._done is None:
            raise ResetNeeded("call reset() before step()")
        if self._done:
            raise ResetNeeded("the episode has ended (truncated); call reset() before step()")
        arr, clipped = _checked_unit(action, 1)
        obs, reward, truncated, _ = self.market.step(arr, False)
        self._done = bool(truncated[0])
        return obs[0], float(reward[0]), False, self._done, self._info(int(clipped[0]))

    def render(self) -> str | None:
        """With ``render_mode="ansi"``: time, mid, inventory, cash and wealth as one line."""
        if self.render_mode != "ansi":
            return None
        m = self.market
        wealth = m.cash[0] + m.inv[0] * m.mid[0]
        return (
            f"t={m.step_index[0] * self.config.dt:.4f} mid={m.mid[0]:.4f} q={m.inv[0]} "
            f"cash={m.cash[0]:.4f} wealth={wealth:.4f} penalty={m.penalty[0]:.4f}"
        )

    def _info(self, clipped: int) -> dict[str, Any]:
        m = self.market
        return {
            "inventory": int(m.inv[0]),
            "cash": float(m.cash[0]),
            "mid": float(m.mid[0]),
            "time": float(m.step_index[0] * self.config.dt),
            "penalty": float(m.penalty[0]),
            "bought": float(m.fills[0, 0]),
            "sold": float(m.fills[0, 1]),
            "action_clipped": clipped,
        }


def bench_as_vec(num_envs: int = 10_000, steps: int = 1_000, seed: int = 0) -> float:
    """Env steps per second (``num_envs * steps / seconds``) of the native vector env.

    Actions are random, drawn beforehand (a pool of 16 batches reused in turn); autoresets are
    included. The kernel is compiled and warmed up before timing starts.
    """
    env = AvellanedaStoikovVectorEnv(num_envs=num_envs)
    pool = np.random.default_rng(seed).uniform(-1, 1, size=(16, num_envs, 3)).astype(np.float32)
    env.reset(seed=seed)
    for i in range(3):
        env.step(pool[i])
    start = time.perf_counter()
    for i in range(steps):
        env.step(pool[i % 16])
    elapsed = time.perf_counter() - start
    env.close()
    return num_envs * steps / elapsed
