"""``multi_maker_v0``: several market makers in one simulated order book, as a PettingZoo
environment (the ecosystem's module convention)::

    from mm_gym import multi_maker_v0

    env = multi_maker_v0.parallel_env(n_makers=2, agents=1, rivals="document")

``parallel_env`` takes the single env's keyword arguments (``config``, ``config_path`` and
``EnvConfig`` overrides) plus the makers' settings (``n_makers``, ``agents``, ``rivals``:
``mm_gym.envs.multi_maker``); ``env`` is the same game as an AEC env (turn by turn).
"""

from __future__ import annotations

from typing import Any

from pettingzoo.utils import parallel_to_aec

from mm_gym.envs.multi_maker import MultiMakerEnv

__all__ = ["env", "parallel_env", "raw_env"]


def parallel_env(**kwargs: Any) -> MultiMakerEnv:
    """The game with simultaneous moves (``pettingzoo.ParallelEnv``)."""
    return MultiMakerEnv(**kwargs)


raw_env = parallel_env


def env(**kwargs: Any):
    """The same game as an AEC env (agents act in turn; the book moves once all have)."""
    return parallel_to_aec(parallel_env(**kwargs))
