"""An SB3 ``VecEnv`` over the native batched vector envs: N markets, one process, no copies.

``MarketVecEnv`` wraps ``MarketMakingVectorEnv`` (same-step autoreset: the last observation
arrives in ``info["final_obs"]``) or ``AvellanedaStoikovVectorEnv`` (next-step autoreset: the
adapter resets a finished market at once through ``options={"reset_mask": done}``), and speaks
SB3's dialect: a finished market's last observation goes to ``infos[i]["terminal_observation"]``,
``infos[i]["TimeLimit.truncated"]`` marks a time limit, and ``step`` returns the first
observation of the next episode. With ``bootstrap_time_limit=False`` a time limit is reported
as a terminal state, so SB3 does not add the value of the last observation to the last reward:
right when the observation carries the time left (the end of the episode is then part of the
task and the value there is 0). Seeds follow SB3: ``seed(s)`` then ``reset()`` seeds market i
with ``s + i``, or with ``market_seeds(s)[i]`` when given (training spawns each run's markets
from its seed, ``mm_gym.evaluation.seeds``); later episodes continue each market's own random
stream.

The batch's info arrays of the last step stay in ``batch_info`` (and the step's done mask in
``batch_done``) so callbacks can read market metrics without walking the per-env dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from mm_gym.envs.registration import env_entry
from mm_gym.errors import ConfigError

__all__ = ["MarketVecEnv", "make_native_vec_env", "make_single_env"]


def make_native_vec_env(
    env_id: str, num_envs: int, env_config: Any = None, threads: int | None = None
) -> gym.vector.VectorEnv:
    """The native vector env of ``env_id`` with ``num_envs`` markets."""
    entry = env_entry(env_id)
    kwargs: dict[str, Any] = {"num_envs": num_envs, "config": env_config}
    if threads is not None and entry.threads:
        kwargs["threads"] = threads
    return entry.vector_class()(**kwargs)


def make_single_env(env_id: str, env_config: Any = None) -> gym.Env:
    """The single env of ``env_id`` (a batch of one)."""
    return env_entry(env_id).env_class()(config=env_config)


class MarketVecEnv(VecEnv):
    """SB3 ``VecEnv`` adapter over a native Gymnasium vector env (see the module docstring).

    ``get_attr``/``set_attr``/``env_method`` reach the one native env: a read returns its value
    once per requested index, a method is called once and its result repeated per index.
    """

    def __init__(
        self,
        venv: gym.vector.VectorEnv,
        bootstrap_time_limit: bool = True,
        market_seeds: Callable[[int], Sequence[int]] | None = None,
    ) -> None:
        self.venv = venv
        self.market_seeds = market_seeds
        self.bootstrap_time_limit = bool(bootstrap_time_limit)
        mode = venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode not in (AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP):
            raise ConfigError(f"autoreset_mode={mode!r}: expected SAME_STEP or NEXT_STEP")
        self.autoreset_mode = mode
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self.metadata = dict(venv.metadata)
        self._actions: np.ndarray | None = None
        self.batch_info: dict[str, np.ndarray] = {}
        self.batch_done = np.zeros(self.num_envs, dtype=bool)
        self._index = np.arange(self.num_envs)

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> VecEnvObs:
        seeds = self._seeds
        if all(s is None for s in seeds):
            seed: Any = None
        else:
            seed = [None if s is None else int(s) for s in seeds]
            if any(s is None for s in seed):
                fresh = np.random.SeedSequence().generate_state(1)[0]
                seed = [int(fresh) + i if s is None else s for i, s in enumerate(seed)]
            if seed == list(range(seed[0], seed[0] + self.num_envs)):
                seed = seed[0]  # SB3's usual s + i: the native envs' own int-seed convention
        options = self._options[0] or None
        obs, info = self.venv.reset(seed=seed, options=options)
        self._reset_seeds()
        self._reset_options()
        self.batch_info = info
        self.batch_done = np.zeros(self.num_envs, dtype=bool)
        self.reset_infos = self._per_env(info)
        return np.array(obs, dtype=self.observation_space.dtype, copy=True)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async()")
        actions = np.asarray(self._actions)
        self._actions = None
        obs, reward, terminated, truncated, info = self.venv.step(actions)
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        done = terminated | truncated
        obs = np.array(obs, dtype=self.observation_space.dtype, copy=True)
        final_obs = None
        if done.any():
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                final_obs = np.asarray(info["final_obs"])
                info = _step_info(info, done)
            else:  # NEXT_STEP: the returned obs is the last one; reset those markets now
                final_obs = obs.copy()
                info = {k: v for k, v in info.items()}
                new_obs, _ = self.venv.reset(options={"reset_mask": done.copy()})
                obs[done] = np.asarray(new_obs)[done]
        self.batch_info = info
        self.batch_done = done
        infos = self._per_env(info)
        time_limit = truncated & ~terminated
        if not self.bootstrap_time_limit:
            time_limit[:] = False
        for i in np.flatnonzero(done):
            infos[i]["terminal_observation"] = final_obs[i].astype(
                self.observation_space.dtype, copy=True
            )
            infos[i]["TimeLimit.truncated"] = bool(time_limit[i])
        return obs, np.asarray(reward, dtype=np.float32), done, infos

    def close(self) -> None:
        self.venv.close()

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """SB3's ``seed``: market i gets ``seed + i``, or ``market_seeds(seed)[i]`` when the
        adapter was given that function (training: markets spawned from the run's seed)."""
        if seed is None or self.market_seeds is None:
            return super().seed(seed)
        self._seeds = [int(s) for s in self.market_seeds(int(seed))]
        return self._seeds

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]

    # ------------------------------------------------------------------ resume
    _AS_STATE = ("rng", "seeded", "mid", "cash", "inv", "step_index", "penalty", "pending")

    def get_state(self) -> dict[str, Any] | None:
        """Where each market stands, for an exact resume (None if the env cannot say).

        AS markets: their whole state (exact anywhere). Order-book markets: each market's seed,
        episode and step; ``set_state`` restarts the current episode, which is exact when every
        market stands at an episode start (checkpoints aligned with episode ends).
        """
        market = getattr(self.venv, "market", None)
        if market is not None and all(hasattr(market, k) for k in self._AS_STATE):
            return {"kind": "as", **{k: getattr(market, k).copy() for k in self._AS_STATE}}
        core = getattr(self.venv, "core", None)
        if core is not None and all(hasattr(core, k) for k in ("seeds", "episodes", "steps")):
            return {
                "kind": "core",
                "seeds": core.seeds.copy(),
                "episodes": core.episodes.copy(),
                "steps": core.steps.copy(),
            }
        return None

    def set_state(self, state: dict[str, Any]) -> np.ndarray:
        """Put the markets back where ``get_state`` found them; return their observations."""
        if state.get("kind") == "as":
            self.venv.reset(seed=0)
            market = self.venv.market
            for k in self._AS_STATE:
                getattr(market, k)[...] = state[k]
            self.venv._any_pending = bool(market.pending.any())
            obs = market.observe()
        elif state.get("kind") == "core":
            self.venv.reset(seed=0)
            core = self.venv.core
            core.seeds[:] = state["seeds"]
            core.episodes[:] = np.asarray(state["episodes"]) - 1
            obs = core.next_episode(np.ones(self.num_envs, dtype=bool))
        else:
            raise ConfigError("env state: unknown kind; cannot restore")
        self._reset_seeds()
        self.batch_info = {}
        self.batch_done = np.zeros(self.num_envs, dtype=bool)
        return np.array(obs, dtype=self.observation_space.dtype, copy=True)

    # ------------------------------------------------------------------ helpers
    @property
    def config(self) -> Any:
        """The native env's config (an ``EnvConfig`` or an ``ASConfig``)."""
        return self.venv.config

    def _per_env(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """One plain dict per market from the batch's info arrays (Python scalars)."""
        keys = [
            k
            for k, v in info.items()
            if not k.startswith(("_", "final"))
            and isinstance(v, np.ndarray)
            and v.shape[:1] == (self.num_envs,)
        ]
        if not keys:
            return [{} for _ in range(self.num_envs)]
        columns = [info[k].tolist() for k in keys]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _step_info(info: dict[str, Any], done: np.ndarray) -> dict[str, Any]:
    """The info of the step itself: a restarted market's row comes from ``final_info`` (SB3
    reports the last step of an episode, Gymnasium's same-step autoreset the reset)."""
    final = info.get("final_info", {})
    out = dict(info)
    for key, value in final.items():
        if key in out and isinstance(value, np.ndarray):
            row = np.array(out[key], copy=True)
            row[done] = value[done]
            out[key] = row
    return out
