"""mm_gym: Gymnasium environments for market making on a simulated limit order book."""

from mm_gym.errors import ActionError, ConfigError, RunError

__version__ = "0.1.0"

__all__ = ["ActionError", "ConfigError", "RunError", "__version__"]
