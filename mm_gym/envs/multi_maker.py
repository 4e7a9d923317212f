"""Several market makers in one book: a PettingZoo ``ParallelEnv`` and a Gymnasium vector env of
maker slots (self-play, or learners against rule makers) over the batched core.

Each book has ``n_makers`` makers (``MakersConfig``). The first ``agents`` are controlled by
learners: one agent id (``maker_0``, ``maker_1``, ...) in the ``ParallelEnv``, one slot per book
in the vector env. The others, the rivals, are part of the environment and quote by a rule:

- ``"document"``: the strategy document's table (the default env config's);
- ``"tuned"`` or any shipped env config's name or YAML file: that config's table and regime
  detector;
- three numbers: fixed quoting parameters (spread multiplier, inventory skew, size fraction).

Every maker has the single env's action (absolute or residual, by the env config) and
observation; a maker sees the others only through the book (its inside spread, its fills). A
rival detects the regime and looks up its table from its own observation. All makers share the
market's quoting engine and risk settings (``EnvConfig.strategy``), latency and fees.

A maker whose daily stop hits is done (terminated) and no longer quotes; the book runs on to
the end of its session, which truncates the others. In the vector env a halted maker's slot
sits the rest of its book's episode out (its observation says so) and is reported terminated
when the book's episode ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from pettingzoo import ParallelEnv

from mm_gym.config import Config, resolve_config
from mm_gym.envs.actions import check_actions
from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import ACTION_DIM, MarketMakingCore, baseline_params, make_config
from mm_gym.envs.market_making import (
    MarketMakingEnv,
    core_spaces,
    entropy_seed,
    start_episode,
)
from mm_gym.errors import ActionError, ConfigError
from mm_gym.market.sim import MAX_MAKERS
from mm_gym.strategy.layout import PARAM_NAMES

__all__ = [
    "AGENT_PREFIX",
    "MakersConfig",
    "MultiMakerConfig",
    "MultiMakerEnv",
    "MultiMakerGymEnv",
    "MultiMakerVectorEnv",
]

AGENT_PREFIX = "maker_"
RuleSpec = str | tuple[float, float, float]


def _is_numbers(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == ACTION_DIM
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
    )


@dataclasses.dataclass(frozen=True)
class MakersConfig(Config):
    """Who makes the market: ``n_makers`` per book (1 to ``MAX_MAKERS``), of which the first
    ``agents`` are learners (all of them unless given) and the rest quote by ``rivals``: one
    rule for every rival, or a list of one rule per rival (see the module docstring)."""

    n_makers: int = 2
    agents: int | None = 1
    rivals: Any = "document"

    def validate(self) -> None:
        n = self.n_makers
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_MAKERS:
            raise ConfigError(f"n_makers={n!r}: expected an integer from 1 to {MAX_MAKERS}")
        agents = n if self.agents is None else self.agents
        if isinstance(agents, bool) or not isinstance(agents, int) or not 1 <= agents <= n:
            raise ConfigError(f"agents={self.agents!r}: expected an integer from 1 to n_makers={n}")
        object.__setattr__(self, "agents", agents)
        object.__setattr__(self, "rivals", self._rules(self.rivals, n - agents))

    @staticmethod
    def _rules(rivals: Any, count: int) -> tuple[RuleSpec, ...]:
        """``rivals`` as one rule per rival: a config name or file, or three numbers."""
        if isinstance(rivals, str) or _is_numbers(rivals):
            specs = [rivals] * count
        elif isinstance(rivals, Sequence) and len(rivals) == count:
            specs = list(rivals)
        else:
            raise ConfigError(
                f"rivals={rivals!r}: expected one rule for every rival or a list of {count} "
                "(a rule: 'document', 'tuned', an env config's name or file, or three numbers)"
            )
        out: list[RuleSpec] = []
        for k, spec in enumerate(specs):
            if isinstance(spec, str) and spec:
                out.append(spec)
            elif _is_numbers(spec):
                out.append(tuple(float(x) for x in spec))  # type: ignore[arg-type]
            else:
                raise ConfigError(
                    f"rivals[{k}]={spec!r}: expected 'document', 'tuned', an env config's name "
                    "or file, or three numbers (spread multiplier, inventory skew, size fraction)"
                )
        return tuple(out)


@dataclasses.dataclass(frozen=True)
class MultiMakerConfig(EnvConfig):
    """``EnvConfig`` with the book's makers (``makers``: ``MakersConfig``; by default one
    learner and one rival quoting the document's table). Every other field is the single
    env's, shared by every maker."""

    makers: MakersConfig = dataclasses.field(default_factory=MakersConfig)

    def validate(self) -> None:
        super().validate()
        if self.data is not None:
            raise ConfigError(
                f"data={self.data!r}: a recorded market has one maker; several makers need "
                "the simulated market"
            )
        for k, spec in enumerate(self.makers.rivals):
            _rule(spec, self, k)  # a rival's rule that cannot quote is one line now


def multi_config(
    config: EnvConfig | dict | None,
    config_path: str | None,
    makers: dict[str, Any],
    overrides: dict[str, Any],
) -> MultiMakerConfig:
    """A ``MultiMakerConfig`` from a config object, a mapping or a YAML file (an env config's
    fields, with ``makers`` or without), then the makers' settings given as keywords
    (``makers``, None values left out) and the single env's keyword overrides."""
    given = {k: v for k, v in makers.items() if v is not None}
    if given:
        overrides = {**overrides, "makers": {**overrides.get("makers", {}), **given}}
    return make_config(config, config_path, cls=MultiMakerConfig, **overrides)


def _rule(spec: RuleSpec, config: EnvConfig, k: int) -> EnvConfig | np.ndarray:
    """A rival's rule: the env config whose table and detector it follows, or fixed
    parameters within the env's ranges."""
    if isinstance(spec, str):
        return (
            EnvConfig() if spec == "document" else EnvConfig.from_yaml(resolve_config("envs", spec))
        )
    params = np.array(spec)
    ranges = (
        config.spread_multiplier_range,
        config.inventory_skew_range,
        config.size_fraction_range,
    )
    for name, value, (low, high) in zip(PARAM_NAMES, params, ranges, strict=True):
        if not np.isfinite(value) or not low <= value <= high:
            raise ConfigError(
                f"rivals[{k}] {name}={value!r}: expected a number in [{low}, {high}] (the env's "
                f"{name}_range)"
            )
    return params


def rule_params(core: MarketMakingCore, rows: Any, rule: EnvConfig | np.ndarray) -> np.ndarray:
    """The quoting parameters a rule gives the maker ``rows`` of ``core``: an env config's
    table in the regime it detects on their observations (held to the env's ranges, as
    ``RuleBasedPolicy``), or fixed parameters."""
    if isinstance(rule, EnvConfig):
        return np.clip(baseline_params(core.obs[rows], rule), core.low, core.high)
    return rule


class MakersCore:
    """``num_books`` books of ``config.makers.n_makers`` makers each: the learners' rows of a
    ``MarketMakingCore`` driven by actions, the rivals' by their rules."""

    def __init__(
        self, num_books: int, config: MultiMakerConfig, threads: int | None = None
    ) -> None:
        makers = config.makers
        self.makers = makers
        self.core = MarketMakingCore(num_books, config, threads, makers=makers.n_makers)
        m, a = makers.n_makers, makers.agents
        books = np.arange(num_books)[:, None] * m
        self.agent_rows = (books + np.arange(a)).ravel()
        # the learners' rows as an index: every row (no copy) when every maker learns
        self.slots: slice | np.ndarray = slice(None) if a == m else self.agent_rows
        self.rival_rows = [books[:, 0] + a + k for k in range(m - a)]
        self.rules = [_rule(spec, config, k) for k, spec in enumerate(makers.rivals)]
        self._no_clip = np.zeros(self.core.rows, dtype=np.int64)

    def rival_params(self) -> np.ndarray:
        """Every maker row's quoting parameters from the rivals' rules (learners' rows 0)."""
        params = np.zeros((self.core.rows, ACTION_DIM))
        for rows, rule in zip(self.rival_rows, self.rules, strict=True):
            params[rows] = rule_params(self.core, rows, rule)
        return params

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        """One decision step with the learners' ``actions`` (a row per learner row); the
        per-row arrays (obs, reward, terminated, truncated) of every maker."""
        rows = None if isinstance(self.slots, slice) else self.agent_rows
        return self.step_seats(*self.core.action_to_params(actions, rows))

    def step_seats(self, params: np.ndarray, clipped: np.ndarray) -> tuple[np.ndarray, ...]:
        """``step`` with the learners' seats quoting ``params`` (``clipped``: the action
        components clipped for them), the rivals by their rules."""
        full = self.rival_params()
        counts = self._no_clip.copy()
        full[self.slots], counts[self.slots] = params, clipped
        return self.core.step_params(full, counts)


class MultiMakerEnv(ParallelEnv):
    """One book with several makers, the learners' as PettingZoo agents (simultaneous moves).

    ``reset(seed=s)`` lays out the book of seed ``s``; a reset without a seed starts the next
    episode of the same seed (the first draws one). Observations, actions and infos are the
    single env's, one per agent; the info also names the maker's row.
    """

    metadata = {"name": "multi_maker_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        n_makers: int | None = None,
        agents: int | None = None,
        rivals: Any = None,
        config: EnvConfig | dict | None = None,
        config_path: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r}: this env does not render (None)")
        self.render_mode = None
        given = {"n_makers": n_makers, "agents": agents, "rivals": rivals}
        self.config = multi_config(config, config_path, given, overrides)
        self.makers = self.config.makers
        self.game = MakersCore(1, self.config, threads=1)
        self.possible_agents = [f"{AGENT_PREFIX}{m}" for m in range(self.makers.agents)]
        self.agents: list[str] = []
        # a space object of its own per agent (seeding one samples nothing of the others)
        self._spaces = {a: core_spaces(self.game.core) for a in self.possible_agents}
        self._seeded = False

    def observation_space(self, agent: str) -> gym.spaces.Box:
        """The agent's observation space (the same object at every call)."""
        self._index(agent)
        return self._spaces[agent][0]

    def action_space(self, agent: str) -> gym.spaces.Box:
        """The agent's action space (the same object at every call)."""
        self._index(agent)
        return self._spaces[agent][1]

    def _index(self, agent: str) -> int:
        if agent not in self.possible_agents:
            raise ConfigError(f"agent {agent!r}: expected one of {self.possible_agents}")
        return self.possible_agents.index(agent)

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs = start_episode(self.game.core, seed, self._seeded)
        self._seeded = True
        self.agents = self.possible_agents[:]
        rows = self.game.agent_rows
        observations = {a: obs[r].copy() for a, r in zip(self.agents, rows, strict=True)}
        infos = {a: self._info(r) for a, r in zip(self.agents, rows, strict=True)}
        return observations, infos

    def _info(self, row: int, clipped: np.ndarray | None = None) -> dict[str, Any]:
        info = self.game.core.scalar_info(clipped, i=int(row))
        info["maker"] = int(row) % self.makers.n_makers
        return info

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise gym.error.ResetNeeded("call reset() before step(), and after an episode ends")
        if not isinstance(actions, dict):
            raise ActionError(f"actions {actions!r}: expected a dict of agent id -> action")
        extra = sorted(set(actions) - set(self.agents))
        if extra:
            done = [a for a in extra if a in self.possible_agents]
            what = "done (terminated or truncated)" if done else "not agents of this env"
            raise ActionError(f"actions for {extra}: {what}; the live agents are {self.agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ActionError(f"no action for {missing}: every live agent acts each step")
        arr = np.zeros((self.makers.agents, ACTION_DIM))
        for k, agent in enumerate(self.possible_agents):
            if agent in actions:
                try:
                    arr[k] = check_actions(actions[agent], 1, ACTION_DIM)[0]
                except ActionError as err:
                    raise ActionError(f"{agent}: {err}") from None
        obs, reward, terminated, truncated = self.game.step(arr)
        rows = self.game.agent_rows
        clipped = self.game.core.last_clipped
        out: tuple[dict, ...] = ({}, {}, {}, {}, {})
        for agent, r in zip(self.possible_agents, rows, strict=True):
            if agent not in self.agents:
                continue
            out[0][agent] = obs[r].copy()
            out[1][agent] = float(reward[r])
            out[2][agent] = bool(terminated[r])
            out[3][agent] = bool(truncated[r])
            out[4][agent] = self._info(r, clipped)
        self.agents = [a for a in self.agents if not (out[2][a] or out[3][a])]
        return out

    def render(self) -> None:
        """Nothing: this env has no render mode."""
        return None


class MultiMakerGymEnv(MarketMakingEnv):
    """``mm_gym/MultiMaker-v0``: one learner (``makers.agents`` must be 1) in a book with rival
    makers, as a single-agent Gymnasium env: the single env's spaces, info and episodes (its
    ``reset`` and ``step``), with the rivals part of the market. Several learners:
    ``MultiMakerEnv`` or the vector env."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        config: EnvConfig | dict | None = None,
        config_path: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(f"render_mode={render_mode!r}: this env does not render (None)")
        self.config = multi_config(config, config_path, {}, overrides)
        if self.config.makers.agents != 1:
            raise ConfigError(
                f"makers.agents={self.config.makers.agents}: this env has one learner; for "
                "several use multi_maker_v0.parallel_env or the vector env"
            )
        self.game = MakersCore(1, self.config, threads=1)
        self.core = self.game.core  # the learner is row 0, as the single env's maker
        self.observation_space, self.action_space = core_spaces(self.core)
        self.render_mode = None
        self.view = None
        self._seeded = False
        self._episode_over = True

    def _step_rows(self, action: Any) -> tuple[np.ndarray, ...]:
        return self.game.step(action)


class MultiMakerVectorEnv(VectorEnv):
    """Books with several makers each; the learners' makers are the ``num_envs`` slots (slot
    ``b * agents + k`` is learner ``k`` of book ``b``; ``num_envs`` a multiple of ``agents``),
    so one policy trained on every slot plays itself (and the rival rules) in every book.

    Autoreset is SAME_STEP, as ``MarketMakingVectorEnv``: when a book's session ends, its slots
    return the first observation of its next episode, the last in ``info["final_obs"]``. A
    reset with seed ``s`` lays out book ``b`` with seed ``s + b``; a list of seeds, one per
    slot, seeds each book with its first slot's.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        n_makers: int | None = None,
        agents: int | None = None,
        rivals: Any = None,
        config: EnvConfig | dict | None = None,
        config_path: str | None = None,
        threads: int | None = None,
        **overrides: Any,
    ) -> None:
        given = {"n_makers": n_makers, "agents": agents, "rivals": rivals}
        self.config = multi_config(config, config_path, given, overrides)
        self.makers = self.config.makers
        per_book = self.makers.agents
        if (
            isinstance(num_envs, bool)
            or not isinstance(num_envs, int)
            or num_envs < 1
            or num_envs % per_book
        ):
            raise ConfigError(
                f"num_envs={num_envs!r}: expected a positive multiple of agents={per_book} "
                "(one slot per learner of each book)"
            )
        self.books = num_envs // per_book
        self.game = MakersCore(self.books, self.config, threads)
        self.num_envs = num_envs
        self.render_mode = None
        self.single_observation_space, self.single_action_space = core_spaces(self.game.core)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._halted = np.zeros(self.num_envs, dtype=bool)
        self._reset_once = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if seed is None:
            seeds = entropy_seed() + np.arange(self.books)
        elif isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            seeds = int(seed) + np.arange(self.books)
        else:
            slots = np.asarray(seed)
            if slots.shape != (self.num_envs,) or not np.issubdtype(slots.dtype, np.integer):
                raise ConfigError(
                    f"seed={seed!r}: expected an integer (book b gets seed + b), a list of "
                    f"{self.num_envs} integers (one per slot) or None"
                )
            seeds = slots[:: self.makers.agents].astype(np.int64)
        super().reset(seed=int(seeds[0]))
        obs = self.game.core.reset(seeds)
        self._halted[:] = False
        self._reset_once = True
        return obs[self.game.slots].copy(), self._slot_info()

    def _slot_info(self, clipped: np.ndarray | None = None) -> dict[str, np.ndarray]:
        info = self.game.core.info(clipped)
        if isinstance(self.game.slots, slice):
            return info
        return {k: v[self.game.slots] for k, v in info.items()}

    def step(self, actions):
        if not self._reset_once:
            raise gym.error.ResetNeeded("call reset() before step()")
        obs, reward, terminated, truncated = self.game.step(actions)
        rows = self.game.slots
        obs, reward = obs[rows].copy(), reward[rows].astype(np.float64)
        self._halted |= terminated[rows]
        # a book's session ends for all its makers: at its last step, or when none is left
        slot_done = (truncated[rows] | self._halted).reshape(self.books, -1).all(axis=1)
        core = self.game.core
        book_over = np.repeat(slot_done | (core.steps >= core.max_steps), self.makers.agents)
        terminated = book_over & self._halted
        truncated = book_over & ~self._halted
        info = self._slot_info(core.last_clipped)
        if book_over.any():
            final_obs = np.where(book_over[:, None], obs, np.nan).astype(np.float32)
            final_info = info
            books = book_over.reshape(self.books, -1)[:, 0]
            obs = core.next_episode(books)[rows].copy()
            self._halted[book_over] = False
            info = self._slot_info()
            info["final_obs"] = final_obs
            info["_final_obs"] = book_over
            info["final_info"] = final_info
            info["_final_info"] = book_over
        return obs, reward, terminated, truncated, info
