"""An asymmetric actor-critic: the critic alone reads privileged columns of the observation.

With ``privileged_critic: true`` (and the env's ``expose_regime: true``) the observation ends
with the true regime's one-hot. The critic (value function) reads all of it, which takes the
regime's part of the return's variance out of the advantages; the actor's input has those
columns set to zero, so the actions, and the agent that is evaluated, never depend on them.
"""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import FlattenExtractor

__all__ = ["AsymmetricActorCriticPolicy", "MaskedFlatten"]


class MaskedFlatten(FlattenExtractor):
    """Flatten the observation and zero its last ``hidden`` columns."""

    def __init__(self, observation_space: spaces.Box, hidden: int) -> None:
        super().__init__(observation_space)
        if not 0 < hidden < self.features_dim:
            raise ValueError(
                f"critic_only_obs={hidden!r}: must be in [1, {self.features_dim - 1}] for an "
                f"observation of {self.features_dim} columns"
            )
        mask = th.ones(self.features_dim)
        mask[self.features_dim - hidden :] = 0.0
        self.register_buffer("mask", mask)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return super().forward(observations) * self.mask


class AsymmetricActorCriticPolicy(ActorCriticPolicy):
    """``MlpPolicy`` whose actor cannot see the last ``critic_only_obs`` observation columns."""

    def __init__(self, *args: Any, critic_only_obs: int, **kwargs: Any) -> None:
        kwargs["share_features_extractor"] = False
        self.critic_only_obs = critic_only_obs
        super().__init__(*args, **kwargs)
        masked = MaskedFlatten(self.observation_space, critic_only_obs)
        self.features_extractor = masked
        self.pi_features_extractor = masked

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["critic_only_obs"] = self.critic_only_obs
        data.pop("share_features_extractor", None)
        return data
