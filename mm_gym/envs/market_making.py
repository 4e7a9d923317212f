"""``mm_gym/MarketMaking-v0``: market making on the simulated order book with regimes.

Action: ``Box(-1, 1, (3,))`` = (spread multiplier, inventory skew, size fraction) of the
rule-based quoting engine, mapped onto the configured ranges (see ``EnvConfig``).
Observation: ``OBS_NAMES`` (float32, finite bounds). One step is ``decision_interval_ms`` of
market time; an episode is ``session_s``, truncated at its end and terminated on the daily
stop. The true regime is in ``info["regime"]``.

Rendering (``mm_gym.rendering``): ``render_mode="rgb_array"`` draws a frame per call (book,
quotes and queue positions, mid and quotes over the last minutes, inventory, equity, chosen
parameters, the true regime and the news flag); ``"ansi"`` returns a text ladder. The vector
env renders market 0 only.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from mm_gym.config import check_choice
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import ACTION_DIM, MarketMakingCore, make_config
from mm_gym.envs.market_view import MarketView
from mm_gym.errors import ConfigError
from mm_gym.rendering.snapshot import RENDER_FPS, RENDER_MODES


def core_spaces(core: MarketMakingCore) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """The observation and action spaces of one maker of a core."""
    obs = gym.spaces.Box(core.obs_low, core.obs_high, dtype=np.float32)
    act = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), dtype=np.float32)
    return obs, act


def entropy_seed() -> int:
    """A seed drawn from the operating system, for a first reset without one."""
    return int(np.random.SeedSequence().entropy % (2**62))


def start_episode(core: MarketMakingCore, seed: int | None, seeded: bool) -> np.ndarray:
    """A core of one market at a reset: episode 0 of ``seed``; without one, the next episode
    of the seed it has (``seeded``), or, at a first reset, a seed drawn from the OS."""
    if seed is not None:
        return core.reset(np.array([seed]))
    if not seeded:
        return core.reset(np.array([entropy_seed()]))
    return core.next_episode(np.ones(1, dtype=bool))


def _view(core: MarketMakingCore, render_mode: str | None, title: str) -> MarketView | None:
    """The view of market 0 for ``render_mode``; None (nothing kept) without one."""
    check_choice("render_mode", render_mode, (None, *RENDER_MODES))
    return None if render_mode is None else MarketView(core, render_mode, title)


class MarketMakingEnv(gym.Env):
    """One market (a batch of one over the same core as the vector env)."""

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        config: EnvConfig | dict | None = None,
        config_path: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.config = make_config(config, config_path, **overrides)
        self.core = MarketMakingCore(1, self.config, threads=1)
        self.observation_space, self.action_space = core_spaces(self.core)
        self.render_mode = render_mode
        self.view = _view(self.core, render_mode, "MarketMaking-v0")
        self._seeded = False  # a first reset without a seed draws one from the OS
        self._episode_over = True  # step() needs a reset first, and again after an episode

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs = start_episode(self.core, seed, self._seeded)  # as the vector env's autoreset
        self._seeded = True
        self._episode_over = False
        if self.view is not None:
            self.view.record()
        return obs[0].copy(), self.core.scalar_info()

    def step(self, action):
        if self._episode_over:
            raise gym.error.ResetNeeded("call reset() before step(), and after an episode ends")
        obs, reward, terminated, truncated = self._step_rows(action)
        self._episode_over = bool(terminated[0] or truncated[0])
        if self.view is not None:
            self.view.record()
        return (
            obs[0].copy(),
            float(reward[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            self.core.scalar_info(self.core.last_clipped),
        )

    def render(self) -> np.ndarray | str | None:
        """The market now: an RGB frame (``rgb_array``), a text ladder (``ansi``) or None."""
        return None if self.view is None else self.view.render()

    def _step_rows(self, action: Any) -> tuple[np.ndarray, ...]:
        """The core's step with this action: (obs, reward, terminated, truncated), a row per
        maker; the env's maker is row 0."""
        return self.core.step_arrays(action)


class MarketMakingVectorEnv(VectorEnv):
    """N markets stepped together by one compiled core (no subprocesses).

    Autoreset is SAME_STEP: when a market's episode ends, ``step`` returns the first
    observation of its next episode, with the last one in ``info["final_obs"]`` and its info in
    ``info["final_info"]``; the top-level info of that market is its new episode's reset info.
    Market i of an env reset with seed s behaves exactly as a single env reset with seed s + i.
    ``render()`` draws market 0 only and returns a tuple of that one frame.
    """

    metadata = {
        "render_modes": list(RENDER_MODES),
        "render_fps": RENDER_FPS,
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        config: EnvConfig | dict | None = None,
        config_path: str | None = None,
        render_mode: str | None = None,
        threads: int | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ConfigError(f"num_envs={num_envs!r}: expected an integer >= 1")
        self.config = make_config(config, config_path, **overrides)
        self.num_envs = num_envs
        self.core = MarketMakingCore(num_envs, self.config, threads=threads)
        self.single_observation_space, self.single_action_space = core_spaces(self.core)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = render_mode
        self.view = _view(self.core, render_mode, f"MarketMaking-v0 · market 0 of {num_envs}")
        self._reset_once = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if seed is None:
            seeds = np.full(self.num_envs, entropy_seed()) + np.arange(self.num_envs)
        elif isinstance(seed, int | np.integer):
            seeds = int(seed) + np.arange(self.num_envs)
        else:
            seeds = np.asarray(seed, dtype=np.int64)
            if seeds.shape != (self.num_envs,):
                raise ConfigError(f"seed list of length {len(seeds)}: expected {self.num_envs}")
        super().reset(seed=None if seed is None else int(seeds[0]))
        obs = self.core.reset(seeds)
        self._reset_once = True
        if self.view is not None:
            self.view.record()
        return obs.copy(), self.core.info()

    def step(self, actions):
        if not self._reset_once:
            raise gym.error.ResetNeeded("call reset() before step()")
        obs, reward, terminated, truncated, info = self.core.step(actions)
        done = terminated | truncated
        obs = obs.copy()
        if done.any():
            final_obs = np.where(done[:, None], obs, np.nan).astype(np.float32)
            final_info = info
            obs = self.core.next_episode(done).copy()
            # as Gymnasium's own vector envs: a restarted market's info is its reset info
            info = self.core.info(np.where(done, 0, self.core.last_clipped))
            info["final_obs"] = final_obs
            info["_final_obs"] = done
            info["final_info"] = final_info
            info["_final_info"] = done
        if self.view is not None:
            self.view.record()
        return obs, reward.astype(np.float64), terminated, truncated, info

    def render(self) -> tuple[np.ndarray | str, ...] | None:
        """Market 0 only: a tuple of its one frame (or text ladder); None without a mode."""
        return None if self.view is None else (self.view.render(),)
