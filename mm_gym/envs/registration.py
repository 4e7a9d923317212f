"""The env registry: each id, its classes and what it supports, in one place.

Code that works with several envs (evaluation, comparison, training) reads an ``EnvEntry``
(``env_entry(env_id)``) instead of branching on the id: a new env is one entry here.
``register_envs`` registers every id with Gymnasium (idempotent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from importlib import import_module
from types import MappingProxyType
from typing import Any

import gymnasium as gym

from mm_gym.errors import ConfigError

__all__ = ["ENGINES", "ENV_IDS", "EnvEntry", "env_entry", "register_envs"]

# how an env's episodes are stepped for evaluation: the order-book market's batched core, the
# closed-form Avellaneda-Stoikov model's own vector env, or a book of several makers
ENGINES = ("order_book", "avellaneda_stoikov", "multi_maker")
NAMESPACE = "mm_gym/"


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


@dataclasses.dataclass(frozen=True)
class EnvEntry:
    """One registered env and what it supports.

    ``engine``: how evaluation steps its episodes (``ENGINES``). ``rule_baseline``: the
    document's rule strategy plays it (tuned tables, the true-regime ablation, the PnL
    decomposition). ``regimes``: hidden regimes (per-regime conditions, ``--regime``).
    ``references``: closed-form reference policies, name -> ``"module:Class"``, the first the
    primary (optimal) one. ``time_unit``/``time_scale``: a step's duration (``step_duration``
    of its config) in seconds divided by ``time_scale`` gives ``time_unit``. ``currency``:
    the unit of PnL ("" for model units). ``metric_labels``: env-specific metric names.
    """

    id: str
    entry_point: str
    vector_entry_point: str
    config_class: str
    engine: str
    rule_baseline: bool
    regimes: bool
    step_duration: Callable[[Any], float]
    time_unit: str
    time_scale: float = 1.0
    currency: str = ""
    references: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metric_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    primary_metric: str = "episode_return"  # the env's objective: the sum of its rewards
    renders: bool = False
    threads: bool = False  # the vector env takes ``threads``

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"{self.id}: engine={self.engine!r}; allowed: {ENGINES}")
        object.__setattr__(self, "references", MappingProxyType(dict(self.references)))
        object.__setattr__(self, "metric_labels", MappingProxyType(dict(self.metric_labels)))

    @property
    def short(self) -> str:
        """The id without the namespace: ``"MarketMaking-v0"``."""
        return self.id.removeprefix(NAMESPACE)

    def env_class(self) -> type[gym.Env]:
        return _load(self.entry_point)

    def vector_class(self) -> type[gym.vector.VectorEnv]:
        return _load(self.vector_entry_point)

    def config_type(self) -> type:
        return _load(self.config_class)

    def reference_classes(self) -> dict[str, type]:
        return {name: _load(path) for name, path in self.references.items()}


_ENTRIES = (
    EnvEntry(
        id="mm_gym/MarketMaking-v0",
        entry_point="mm_gym.envs.market_making:MarketMakingEnv",
        vector_entry_point="mm_gym.envs.market_making:MarketMakingVectorEnv",
        config_class="mm_gym.envs.config:EnvConfig",
        engine="order_book",
        rule_baseline=True,
        regimes=True,
        step_duration=lambda config: config.decision_interval_ms / 1000.0,
        time_unit="minutes",
        time_scale=60.0,
        currency="USD",
        renders=True,
        threads=True,
    ),
    EnvEntry(
        id="mm_gym/MultiMaker-v0",
        entry_point="mm_gym.envs.multi_maker:MultiMakerGymEnv",
        vector_entry_point="mm_gym.envs.multi_maker:MultiMakerVectorEnv",
        config_class="mm_gym.envs.multi_maker:MultiMakerConfig",
        engine="multi_maker",
        rule_baseline=False,
        regimes=True,
        step_duration=lambda config: config.decision_interval_ms / 1000.0,
        time_unit="minutes",
        time_scale=60.0,
        currency="USD",
        threads=True,
    ),
    EnvEntry(
        id="mm_gym/AvellanedaStoikov-v0",
        entry_point="mm_gym.envs.avellaneda_stoikov:AvellanedaStoikovEnv",
        vector_entry_point="mm_gym.envs.avellaneda_stoikov:AvellanedaStoikovVectorEnv",
        config_class="mm_gym.market.avellaneda_stoikov:ASConfig",
        engine="avellaneda_stoikov",
        rule_baseline=False,
        regimes=False,
        step_duration=lambda config: float(config.dt),
        time_unit="model time units",
        references={
            "CJP": "mm_gym.envs.reference_policies:CJPPolicy",
            "GLFT": "mm_gym.envs.reference_policies:GLFTPolicy",
            "AS": "mm_gym.envs.reference_policies:AvellanedaStoikovPolicy",
        },
        metric_labels={"sharpe": "Sharpe ratio per episode (not per hour)"},
    ),
)
ENV_IDS: Mapping[str, EnvEntry] = MappingProxyType({e.id: e for e in _ENTRIES})


def env_entry(env_id: str) -> EnvEntry:
    """The entry of ``env_id``, with or without the ``mm_gym/`` namespace; a ConfigError
    listing the ids otherwise."""
    full = env_id if str(env_id).startswith(NAMESPACE) else NAMESPACE + str(env_id)
    if full not in ENV_IDS:
        allowed = ", ".join(repr(e.short) for e in ENV_IDS.values())
        raise ConfigError(f"env_id={env_id!r}: allowed values are {allowed}")
    return ENV_IDS[full]


def register_envs() -> None:
    """Register every id once; calling again changes nothing."""
    for entry in ENV_IDS.values():
        if entry.id in gym.registry:
            continue
        gym.register(
            id=entry.id,
            entry_point=entry.entry_point,
            vector_entry_point=entry.vector_entry_point,
            disable_env_checker=False,
        )
