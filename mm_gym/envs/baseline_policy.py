"""The rule-based market maker as a policy: the strategy document's regime table, in the
agent's action space.

``RuleBasedPolicy.predict`` has the Stable-Baselines3 signature, so the baseline runs through
the same evaluation code as any trained agent. It detects the regime from the observation
(news flag, short volatility, trend strength: ``mm_gym.strategy.baseline.detect_regime``),
looks up the table (``table_params``) and returns the absolute-mode unit action that the env
maps back onto those parameters. In residual mode the env adds the action to the same table,
so the baseline's action is zero.

``TrueRegimePolicy`` (an ablation) looks up the same table in the true regime, read from an
observation with ``expose_regime``: against the baseline it shows what detection costs.
``NoisyRuleBasedPolicy`` adds Gaussian noise to the table's parameters at every step: what
exploring around the table costs, as a policy-gradient agent explores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mm_gym.envs.config import EnvConfig
from mm_gym.envs.core import baseline_params, detected_regime, param_bounds
from mm_gym.envs.observations import observation_dim
from mm_gym.errors import ConfigError
from mm_gym.market.regimes import NUM_LABELS
from mm_gym.market.scaling import range_to_unit
from mm_gym.strategy.layout import PARAM_NAMES

__all__ = ["NoisyRuleBasedPolicy", "RuleBasedPolicy", "TrueRegimePolicy"]


class RuleBasedPolicy:
    """The baseline: regime detection plus the parameter table, for one env config.

    ``predict(obs)`` accepts one observation ``(obs_dim,)`` or a batch ``(N, obs_dim)`` and,
    as Stable-Baselines3 does, returns the pair ``(actions, state)``: float32 unit actions in
    [-1, 1] of the matching shape (table parameters outside the configured ranges are held at
    the range's edge) and the state passed in. Step the env with the first element:
    ``action, _ = policy.predict(obs)``.
    """

    def __init__(self, config: EnvConfig | None = None) -> None:
        if config is not None and not isinstance(config, EnvConfig):
            raise ConfigError(f"config={config!r}: expected an EnvConfig or None")
        self.config = config if config is not None else EnvConfig()
        self.low, self.high = param_bounds(self.config)
        self.obs_dim = observation_dim(self.config)

    def _batch(self, observation: Any) -> tuple[np.ndarray, bool]:
        obs = np.asarray(observation, dtype=np.float64)
        if obs.ndim not in (1, 2) or obs.shape[-1] != self.obs_dim:
            raise ConfigError(
                f"observation shape {obs.shape}: expected ({self.obs_dim},) or (n, {self.obs_dim})"
            )
        return obs.reshape(-1, self.obs_dim), obs.ndim == 1

    def detected_regime(self, observation: Any) -> np.ndarray | int:
        """Detected regime id per observation (``mm_gym.strategy.baseline.DETECTED_NAMES``)."""
        batch, single = self._batch(observation)
        ids = detected_regime(batch, self.config)
        return int(ids[0]) if single else ids

    def params(self, observation: Any) -> np.ndarray:
        """The table's (spread multiplier, inventory skew, size fraction) per observation."""
        batch, single = self._batch(observation)
        params = self._params(batch)
        return params[0] if single else params

    def _params(self, batch: np.ndarray) -> np.ndarray:
        return baseline_params(batch, self.config)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        """Stable-Baselines3 signature: ``(actions, state)``; the state passes through."""
        batch, single = self._batch(observation)
        if self.config.action_mode == "residual":
            actions = np.zeros((batch.shape[0], 3), dtype=np.float32)
        else:
            unit = range_to_unit(self._params(batch), self.low, self.high)
            actions = np.clip(unit, -1.0, 1.0).astype(np.float32)
        return (actions[0] if single else actions), state


class TrueRegimePolicy(RuleBasedPolicy):
    """The document's table in the true regime instead of the detected one (an ablation).

    Needs ``expose_regime=True`` (the regime one-hot ends the observation) and the absolute
    action mode; the table, thresholds and high-vol spread ramp are the config's.
    """

    def __init__(self, config: EnvConfig) -> None:
        if not isinstance(config, EnvConfig) or not config.expose_regime:
            raise ConfigError("TrueRegimePolicy: needs an EnvConfig with expose_regime=True")
        if config.action_mode != "absolute":
            raise ConfigError(
                f"TrueRegimePolicy: action_mode={config.action_mode!r}; it needs 'absolute'"
            )
        super().__init__(config)

    def _params(self, batch: np.ndarray) -> np.ndarray:
        regime = np.argmax(batch[:, -NUM_LABELS:], axis=1)
        return baseline_params(batch, self.config, regime)


class NoisyRuleBasedPolicy(RuleBasedPolicy):
    """The baseline with independent Gaussian noise on its parameters at every step.

    ``noise_sd``: the standard deviations added to the spread multiplier, inventory skew and
    size fraction of the table (in their own units); the noisy parameters are held to the
    config's ranges, as an agent's actions are. Shows what exploring around the table costs
    (a Gaussian policy of standard deviation ``noise_sd`` centred on the table). The noise is
    drawn from ``seed``: the same seed, observations and batch give the same actions. Needs
    the absolute action mode (in residual mode the table is the env's, not the policy's).
    """

    def __init__(self, config: EnvConfig | None, noise_sd: Any, seed: int = 0) -> None:
        super().__init__(config)
        if self.config.action_mode != "absolute":
            raise ConfigError(
                f"NoisyRuleBasedPolicy: action_mode={self.config.action_mode!r}; it needs "
                "'absolute'"
            )
        try:
            sd = np.asarray(noise_sd, dtype=np.float64)
        except (TypeError, ValueError):
            sd = np.full(1, np.nan)
        if sd.shape != (3,) or not np.all(np.isfinite(sd)) or np.any(sd < 0):
            raise ConfigError(
                f"noise_sd={noise_sd!r}: expected three finite numbers >= 0 "
                f"({', '.join(PARAM_NAMES)})"
            )
        self.noise_sd = sd
        self.rng = np.random.default_rng(seed)

    def _params(self, batch: np.ndarray) -> np.ndarray:
        params = super()._params(batch)
        return params + self.rng.standard_normal(params.shape) * self.noise_sd
