"""mm_gym: Gymnasium environments for market making on a simulated limit order book.

``import mm_gym`` registers ``mm_gym/MarketMaking-v0`` and ``mm_gym/AvellanedaStoikov-v0``.
"""

from mm_gym.envs.baseline_policy import RuleBasedPolicy
from mm_gym.envs.registration import ENV_IDS, register_envs
from mm_gym.errors import ActionError, ConfigError, RunError

__version__ = "0.1.0"

register_envs()

__all__ = [
    "ENV_IDS",
    "ActionError",
    "ConfigError",
    "RuleBasedPolicy",
    "RunError",
    "__version__",
    "register_envs",
]
