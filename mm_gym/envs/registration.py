"""Registration of the environment ids (idempotent)."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "mm_gym/MarketMaking-v0": (
        "mm_gym.envs.market_making:MarketMakingEnv",
        "mm_gym.envs.market_making:MarketMakingVectorEnv",
    ),
    "mm_gym/AvellanedaStoikov-v0": (
        "mm_gym.envs.avellaneda_stoikov:AvellanedaStoikovEnv",
        "mm_gym.envs.avellaneda_stoikov:AvellanedaStoikovVectorEnv",
    ),
}


def register_envs() -> None:
    """Register every id once; calling again changes nothing."""
    for env_id, (entry, vector_entry) in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id, entry_point=entry, vector_entry_point=vector_entry, disable_env_checker=False
        )
